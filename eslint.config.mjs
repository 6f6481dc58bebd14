// ESLint 9 flat config: recommended TypeScript rules everywhere, and determinism rules for
// workflow code, which Temporal replays and which must not reach Node, the network or the clock's randomness.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Files Temporal bundles into its workflow sandbox. */
const workflowFiles = ['workflows/**/*.ts', 'test/fixtures/workflows*.ts'];

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

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
