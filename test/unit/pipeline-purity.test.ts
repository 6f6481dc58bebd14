import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/** Workflows import pipeline/: no Node built-ins anywhere in it, and the workflow-facing files stay free of yaml and zod. */
const dir = join(__dirname, '..', '..', 'pipeline');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

function imports(file: string): string[] {
  const source = readFileSync(join(dir, file), 'utf8');
  return [...source.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

test('pipeline/ has its files', () => {
  expect(files).toEqual(expect.arrayContaining(['compile.ts', 'dag.ts', 'describe.ts', 'index.ts', 'schema.ts', 'types.ts', 'units.ts']));
});

test.each(files)('%s imports no Node built-in', (file) => {
  const builtins = imports(file).filter((m) => m.startsWith('node:') || builtinModules.includes(m));
  expect(builtins).toEqual([]);
});

test.each(['dag.ts', 'units.ts', 'types.ts', 'describe.ts', 'limits.ts'])('%s imports neither yaml nor zod, directly or through siblings', (file) => {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const m of imports(name)) {
      expect([name, m]).not.toEqual([name, expect.stringMatching(/^(yaml|zod)(\/|$)/)]);
      if (m.startsWith('./')) visit(`${m.slice(2)}.ts`);
    }
  };
  visit(file);
});
