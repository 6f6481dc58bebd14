import fs from 'node:fs';
import path from 'node:path';

/** The repository (or installed package) root: the nearest folder above this file with batchgrid's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'batchgrid') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find batchgrid's package.json above ${__dirname}`);
    dir = parent;
  }
}

/** Path of a compiled entry point, e.g. distPath('worker/fleet/main.js'). Tests and the CLI spawn these. */
export function distPath(relative: string): string {
  return path.join(packageRoot(), 'dist', relative);
}
