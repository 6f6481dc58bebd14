import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { AwsClients } from '../../common/aws';
import { BatchGridClient } from '../../manager/client';

/**
 * The HTTP API and the CLI are thin layers over BatchGridClient: they reach Postgres, Temporal and
 * AWS only through its methods, never through the store, the activities or the SDKs themselves.
 */
const root = resolve(__dirname, '..', '..');
const layers = ['manager/api', 'manager/cli'];

/** Folders of this repository the layers must not import (relative to the root). */
const BANNED_FOLDERS = ['store', 'activities'];
/** Packages the layers must not import: the client owns these connections. */
const BANNED_PACKAGES = [/^@aws-sdk\//, /^@temporalio\/client$/, /^pg$/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports (type-only too), side-effect imports, import() and require(). */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:\bfrom\s+|\bimport\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Why `specifier`, imported by `file`, crosses the boundary; undefined when it does not. */
function violation(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = relative(root, resolve(dirname(file), specifier)).split(sep).join('/');
    const folder = BANNED_FOLDERS.find((f) => target === f || target.startsWith(`${f}/`));
    return folder && `${specifier} (${folder}/)`;
  }
  return BANNED_PACKAGES.some((p) => p.test(specifier)) ? specifier : undefined;
}

const files = layers.flatMap((l) => sourceFiles(join(root, l)));

test('the layers have their files', () => {
  const names = files.map((f) => relative(root, f).split(sep).join('/'));
  expect(names).toEqual(expect.arrayContaining(['manager/api/routes.ts', 'manager/api/errors.ts', 'manager/cli/commands/grid.ts', 'manager/cli/commands/db.ts']));
});

test.each(files.map((f) => [relative(root, f).split(sep).join('/'), f]))('%s goes through the client only', (_name, file) => {
  const crossings = importsOf(file).flatMap((m) => violation(file, m) ?? []);
  expect(crossings).toEqual([]);
});

test('the check sees what it bans', () => {
  const file = join(root, 'manager/api/routes.ts');
  expect(['../../store/jobs', '../../activities/job-state', '@aws-sdk/client-s3', '@temporalio/client', 'pg'].map((m) => violation(file, m) !== undefined)).toEqual([true, true, true, true, true]);
  expect(['../client', '../../common/errors', '@temporalio/worker', 'fastify', './store-like'].map((m) => violation(file, m))).toEqual([undefined, undefined, undefined, undefined, undefined]);
});

test("the client's connections are private at run time, not only to the type checker", async () => {
  const db = { query: async () => ({ rows: [] }) } as unknown as Pool;
  const temporal = { connection: { options: { address: '127.0.0.1:7233' } } } as unknown as Client;
  const aws = {} as AwsClients;
  const client = await BatchGridClient.connect({ db, temporal, aws, taskQueue: 'q', bucket: 'b' });
  const reachable = client as unknown as Record<string, unknown>;
  for (const name of ['db', 'temporal', 'aws', 'bucket', 'taskQueue']) expect([name, reachable[name]]).toEqual([name, undefined]);
  expect(Object.values(reachable)).not.toContain(db);
  await client.close();
});
