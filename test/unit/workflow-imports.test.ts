import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * What Temporal bundles into the workflow sandbox: every module a workflow imports for its value
 * (type-only imports vanish), followed through relative imports. None may reach past Temporal's
 * workflow-side packages: no Node built-in, no I/O library, no zod or yaml.
 */
const root = join(__dirname, '..', '..');
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

/** Module specifiers `file` imports or re-exports for their value. */
function valueImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].filter((m) => !m[1]).map((m) => m[2]!);
}

function resolveModule(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const file = [`${base}.ts`, join(base, 'index.ts')].find(existsSync);
  if (!file) throw new Error(`${relative(root, from)}: cannot resolve ${spec}`);
  return file;
}

/** Every module the sandbox loads from `entry`, with the packages each one imports. */
function bundle(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const specs = valueImports(file);
    seen.set(file, specs.filter((s) => !s.startsWith('.')));
    for (const s of specs.filter((x) => x.startsWith('.'))) visit(resolveModule(file, s));
  };
  visit(entry);
  return seen;
}

const workflows = readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.ts'));

test('the status vocabularies and search attributes are in the bundle', () => {
  const files = [...bundle(join(root, 'workflows', 'batch-job.ts')).keys()].map((f) => relative(root, f));
  expect(files).toEqual(expect.arrayContaining(['common/search-attributes.ts', 'pipeline/dag.ts']));
});

test.each(workflows)('workflows/%s loads only pure modules', (file) => {
  const impure = [...bundle(join(root, 'workflows', file))].flatMap(([module, packages]) => packages.filter((p) => !ALLOWED_PACKAGES.includes(p)).map((p) => `${relative(root, module)} imports ${p}`));
  expect(impure).toEqual([]);
});
