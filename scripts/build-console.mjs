// Builds the web console (manager/console) into dist/console: two bundles (the public sign-in
// script and the app, which needs a session), the app's CSS with uPlot's, and the shell page.
// Everything is self-contained: the console fetches nothing but the API at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'manager', 'console');
const out = join(root, 'dist', 'console');
mkdirSync(out, { recursive: true });

const common = { bundle: true, minify: true, format: 'iife', target: 'es2022', jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none', logLevel: 'warning' };
await build({ ...common, entryPoints: [join(src, 'signin.ts')], outfile: join(out, 'signin.js') });
await build({ ...common, entryPoints: [join(src, 'app.tsx')], outfile: join(out, 'app.js') });
writeFileSync(join(out, 'app.css'), readFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8') + '\n' + readFileSync(join(src, 'style.css'), 'utf8'));
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));

const kib = (f) => `${(statSync(join(out, f)).size / 1024).toFixed(1)} KiB`;
if (process.env.BATCHGRID_BUILD_QUIET !== '1') console.log(`console: app.js ${kib('app.js')}, app.css ${kib('app.css')}, signin.js ${kib('signin.js')}`);
