import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Linter } from 'eslint';

/**
 * The layering rules of eslint.config.mjs, each checked on a forbidden import (and a few allowed
 * ones). The fixtures are text with a virtual path, so `npm run lint` never sees them. ESLint's
 * `ESLint` class loads the ES-module config with import(), which Jest's module system cannot run,
 * so the fixtures are linted in one child Node process.
 */
const root = join(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

const LINT_FIXTURES = `
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
const eslint = new ESLint();
const messages = [];
for (const { code, filePath } of JSON.parse(readFileSync(0, 'utf8'))) messages.push((await eslint.lintText(code, { filePath }))[0].messages);
process.stdout.write(JSON.stringify(messages));
`;

interface Fixture {
  /** Path of the virtual module, from the repository root. */
  file: string;
  /** What it imports. */
  source: string;
  kind: 'value' | 'type';
}

/** A module at `file` that imports `source` and uses it, so that only the import can be at fault. */
function codeOf({ source, kind }: Fixture): string {
  return kind === 'type' ? `import type * as dep from '${source}';\nexport type Used = typeof dep;\n` : `import * as dep from '${source}';\nexport const used = dep;\n`;
}

async function lintAll(fixtures: Fixture[]): Promise<Linter.LintMessage[][]> {
  const child = promisify(execFile)(process.execPath, ['--input-type=module', '-e', LINT_FIXTURES], { cwd: root, maxBuffer: 16 << 20 });
  child.child.stdin!.end(JSON.stringify(fixtures.map((f) => ({ code: codeOf(f), filePath: join(root, f.file) }))));
  return JSON.parse((await child).stdout) as Linter.LintMessage[][];
}

const forbidden: [file: string, source: string, message: string][] = [
  ['worker/fleet/x.ts', '../../store/db', 'The fleet runtime imports only common/'],
  ['worker/fleet/x.ts', '../../store', 'The fleet runtime imports only common/'],
  ['worker/builtin/x.ts', '../../activities/job-state', 'The fleet runtime imports only common/'],
  ['worker/x.ts', '../orchestrator', 'The fleet runtime imports only common/'],
  ['worker/x.ts', '../manager/client', 'The fleet runtime imports only common/'],
  ['worker/fleet/x.ts', 'pg', 'The fleet runtime needs no Postgres and no Temporal'],
  ['worker/fleet/x.ts', '@temporalio/worker', 'The fleet runtime needs no Postgres and no Temporal'],
  ['manager/client/x.ts', '../../activities/job-state', 'activities run only in the orchestrator'],
  ['manager/client/x.ts', '../../activities', 'activities run only in the orchestrator'],
  ['activities/x.ts', '../worker/fleet/runner', 'Activities do not reach into the fleet runtime'],
  ['activities/grid/x.ts', '../../worker/builtin', 'Activities do not reach into the fleet runtime'],
  ['activities/x.ts', '../orchestrator', 'Activities do not reach into the fleet runtime'],
  ['workflows/x.ts', '../store/jobs', 'Workflows import only pure modules'],
  ['workflows/x.ts', '../activities/job-state', 'Workflows import only pure modules'],
  ['workflows/x.ts', '../grid/service', 'Workflows import only pure modules'],
  ['workflows/x.ts', 'pg', 'Workflows do no I/O'],
  ['manager/console/x.tsx', '../client/batch-grid-client', 'The console runs in the browser'],
  ['manager/console/pages/x.tsx', '../../../store/parts', 'The console runs in the browser'],
  ['manager/console/x.ts', '../../common/config', 'The console runs in the browser'],
  ['manager/console/x.ts', 'node:fs', 'The console runs in the browser'],
  // One message, not two: the layer pattern's '!@temporalio/*' keeps it from matching '**/worker'.
  ['workflows/x.ts', '@temporalio/worker', 'Workflows import only @temporalio/workflow'],
];

const allowed: [file: string, source: string, kind: Fixture['kind']][] = [
  ['worker/fleet/x.ts', '../../common/messages', 'value'],
  ['worker/fleet/x.ts', '../runner', 'value'],
  ['manager/client/x.ts', '../../activities/job-state', 'type'],
  ['manager/client/x.ts', '../../store/jobs', 'value'],
  ['activities/x.ts', '@temporalio/activity', 'value'],
  ['activities/x.ts', '../common/sqs/queues', 'value'],
  ['orchestrator/x.ts', '../store/db', 'value'],
  ['workflows/x.ts', '../pipeline/dag', 'value'],
  ['workflows/x.ts', '../grid/policy', 'value'],
  ['workflows/x.ts', '../activities', 'type'],
  ['manager/console/x.ts', '../../store/parts', 'type'],
  ['manager/console/pages/x.tsx', '../api', 'value'],
  ['manager/console/x.tsx', 'uplot', 'value'],
];

const fixtures: Fixture[] = [...forbidden.map(([file, source]) => ({ file, source, kind: 'value' as const })), ...allowed.map(([file, source, kind]) => ({ file, source, kind }))];
const results = new Map<string, Linter.LintMessage[]>();
const keyOf = (file: string, source: string, kind: Fixture['kind']) => `${kind} ${source} in ${file}`;

beforeAll(async () => {
  const messages = await lintAll(fixtures);
  fixtures.forEach((f, i) => results.set(keyOf(f.file, f.source, f.kind), messages[i]!));
}, 60_000);

test.each(forbidden)('%s may not import %s', (file, source, message) => {
  expect(results.get(keyOf(file, source, 'value'))).toEqual([expect.objectContaining({ ruleId: RULE, severity: 2, message: expect.stringContaining(message) })]);
});

test.each(allowed)('%s may import %s (%s)', (file, source, kind) => {
  expect(results.get(keyOf(file, source, kind))).toEqual([]);
});
