// ESLint 9 flat config: recommended TypeScript rules everywhere, layering rules (who may import whom),
// and determinism rules for workflow code, which Temporal replays and which must not reach Node, the
// network or the clock's randomness.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Files Temporal bundles into its workflow sandbox. */
const workflowFiles = ['workflows/**/*.ts', 'test/fixtures/workflows*.ts', 'scripts/bench/peers/temporal-workflow.ts'];

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

// Layering: which part of the code base may import which. Patterns are gitignore-style and match
// relative imports at any depth ('**/store' matches '../../store/db'). ESLint keeps one set of options
// per rule and file, so each layer's `files` must not overlap another's (nor the workflow block).
// test/unit/lint-layering.test.ts checks every rule on a forbidden import.
const layers = [
  {
    // The web console runs in the browser and reaches the server only through the HTTP API; it may
    // borrow the server's types (erased from the bundle), never its code.
    files: ['manager/console/**/*.ts', 'manager/console/**/*.tsx'],
    patterns: [
      {
        group: ['**/store', '**/store/*', '**/grid', '**/grid/*', '**/pipeline', '**/pipeline/*', '**/client', '**/client/*', '**/reports', '**/common', '**/common/*', '**/activities', '**/workflows', '**/worker', '**/orchestrator', 'pg', '@temporalio/*', '@aws-sdk/*', 'node:*'],
        message: 'The console runs in the browser and talks to the server only through the HTTP API: import the server\'s types with `import type`, never its code (pure helpers such as manager/cli/render/format excepted).',
        allowTypeImports: true,
      },
    ],
  },
  {
    // The fleet runtime runs on hosts that reach only S3 and SQS (design principle 4).
    files: ['worker/**/*.ts'],
    patterns: [
      { group: ['pg', 'pg/*', '@temporalio/*'], message: 'The fleet runtime needs no Postgres and no Temporal: it talks to the engine only through SQS and S3.' },
      {
        group: ['**/store', '**/activities', '**/orchestrator', '**/workflows', '**/manager', '**/grid', '!@temporalio/*'],
        message: 'The fleet runtime imports only common/, pipeline/ and its own modules: it runs where neither Postgres nor Temporal is reachable.',
      },
    ],
  },
  {
    // Type imports stay allowed: `JobSummary` is the batchJob workflow's result, which the client reads.
    files: ['manager/client/**/*.ts'],
    patterns: [
      {
        group: ['**/activities', '**/orchestrator'],
        message: 'The client does not run engine code: activities run only in the orchestrator. Shared helpers live in common/ (e.g. common/layout); types may be imported with `import type`.',
        allowTypeImports: true,
      },
    ],
  },
  {
    files: ['activities/**/*.ts'],
    patterns: [
      {
        group: ['**/worker', '**/orchestrator', '**/manager', '!@temporalio/*'],
        message: 'Activities do not reach into the fleet runtime, the orchestrator or the manager: the wire contracts they share with the fleet live in common/ (messages, sqs, layout).',
      },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.batchgrid/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Plain Node scripts and configs (TypeScript files get their globals from the type checker).
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layers.map(({ files, patterns }) => ({ files, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } })),
  {
    files: workflowFiles,
    rules: {
      // Type-only imports vanish at compile time, so `import type * as activities` stays allowed.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows run in a deterministic sandbox: no Node built-ins. Do this in an activity.', allowTypeImports: true })),
          patterns: [
            { group: ['node:*'], message: 'Workflows run in a deterministic sandbox: no Node built-ins. Do this in an activity.', allowTypeImports: true },
            { group: ['@aws-sdk/*', 'pg', 'pg/*', 'pino', 'pino/*'], message: 'Workflows do no I/O: call an activity.', allowTypeImports: true },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows import only @temporalio/workflow (and @temporalio/common).', allowTypeImports: true },
            {
              group: ['**/common/aws', '**/common/config', '**/common/logger', '**/common/paths', '**/common/ids', '**/common/s3-io'],
              message: 'This module uses Node or the network; workflows may import only pure modules (pipeline/, common/messages, common/search-attributes…).',
              allowTypeImports: true,
            },
            {
              group: ['**/store', '**/activities', '**/worker', '**/orchestrator', '**/manager', '**/grid/providers', '**/grid/service', '!@temporalio/*'],
              message: 'Workflows import only pure modules (pipeline/, grid/policy, common/messages…) and types: call an activity for the rest.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process in workflows: pass settings as workflow arguments.' },
        { name: 'require', message: 'No require in workflows: use import.' },
        { name: 'setImmediate', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'clearImmediate', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'Buffer', message: 'Buffer is a Node API; use Uint8Array or strings.' },
        { name: '__dirname', message: 'No file system in workflows.' },
        { name: '__filename', message: 'No file system in workflows.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() from @temporalio/workflow, or draw randomness in an activity.' },
        { object: 'crypto', property: 'randomUUID', message: 'Use uuid4() from @temporalio/workflow.' },
        { object: 'crypto', property: 'getRandomValues', message: 'Draw randomness in an activity.' },
      ],
    },
  },
);
