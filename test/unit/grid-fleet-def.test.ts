import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { FleetValidationError } from '../../grid/errors';
import { compileFleet, compileFleetObject, loadFleet } from '../../grid/fleet-def';
import type { FleetCompileResult, FleetDef } from '../../grid/types';

const HEAD = 'apiVersion: batchgrid/v1\nkind: Fleet\nname: cpu\n';

function ok(r: FleetCompileResult): FleetDef {
  if (!r.ok) throw new Error(`expected a valid fleet, got ${JSON.stringify(r.problems)}`);
  return r.fleet;
}

const listed = (r: FleetCompileResult) => (r.ok ? [] : r.problems.map((p) => `${p.line ?? '-'}: ${p.path}: ${p.message}`));

test('a minimal local fleet gets the product defaults', () => {
  expect(ok(compileFleet(`${HEAD}provider:\n  type: local\n`))).toEqual({
    apiVersion: 'batchgrid/v1',
    kind: 'Fleet',
    name: 'cpu',
    provider: { type: 'local', concurrency: 4 },
    min: 0,
    max: 10,
    targetBacklogPerWorker: 4,
    periodMs: 15_000,
    scaleInCooldownMs: 120_000,
    idleTimeoutMs: 600_000,
    shutdownGraceMs: 30_000,
    workerLostAfterMs: 60_000,
    spot: false,
  });
});

test('every field, units converted (JSON too)', () => {
  const def = ok(
    compileFleetObject({
      apiVersion: 'batchgrid/v1', kind: 'Fleet', name: 'gpu', description: 'x',
      provider: { type: 'asg', groupName: 'gpu-workers', lifecycleHook: 'drain' },
      min: 1, max: 20, targetBacklogPerWorker: 8, period: '1s', scaleInCooldown: '2s', idleTimeout: '3s', shutdownGrace: 500, workerLostAfter: '10s',
    }),
  );
  expect(def).toMatchObject({ provider: { type: 'asg', groupName: 'gpu-workers', lifecycleHook: 'drain' }, min: 1, max: 20, periodMs: 1000, scaleInCooldownMs: 2000, idleTimeoutMs: 3000, shutdownGraceMs: 500, workerLostAfterMs: 10_000 });
});

test('a fleet may say its workers run on spot instances; only true or false', () => {
  expect(ok(compileFleet(`${HEAD}provider: { type: asg, groupName: spot-workers }\nspot: true\n`))).toMatchObject({ spot: true });
  expect(listed(compileFleet(`${HEAD}provider: { type: local }\nspot: yes please\n`))).toEqual([expect.stringMatching(/^5: spot: /)]);
  expect(listed(compileFleet(`${HEAD}provider: { type: local }\nspto: true\n`))).toEqual(['5: spto: unknown key "spto" (did you mean "spot"?)']);
});

test('a static fleet is its size', () => {
  expect(ok(compileFleet(`${HEAD}provider: { type: static, size: 3 }\n`))).toMatchObject({ min: 3, max: 3 });
  expect(listed(compileFleet(`${HEAD}provider: { type: static, size: 3 }\nmin: 1\n`))).toEqual([
    '5: min: a static fleet has a fixed size: leave min out or make it provider.size (3), got 1',
  ]);
});

test('every problem, with its path and line', () => {
  const text = `${HEAD.replace('cpu', 'CPU')}provider:\n  type: local\n  concurency: 2\nmin: 5\nmax: 2\nperiod: 10ms\nidleTimeout: soon\nscaleInCooldownMs: 5\n`;
  expect(listed(compileFleet(text))).toEqual([
    '3: name: must be 1–40 lowercase letters, digits or dashes, starting with a letter (got "CPU")',
    '6: provider.concurency: unknown key "concurency" (did you mean "concurrency"?)',
    '8: max: must be at least min (5), got 2',
    '9: period: must be between 1s and 10m (got 10ms)',
    expect.stringMatching(/^10: idleTimeout: invalid duration "soon"/),
    '11: scaleInCooldownMs: unknown key "scaleInCooldownMs" (write "scaleInCooldown" with a unit, e.g. scaleInCooldown: 2m)',
  ]);
});

test('pricePerWorkerHour: kept when given (any currency, 0 allowed), checked, absent by default', () => {
  expect(ok(compileFleet(`${HEAD}provider: { type: local }\npricePerWorkerHour: 0.085\n`)).pricePerWorkerHour).toBe(0.085);
  expect(ok(compileFleet(`${HEAD}provider: { type: local }\npricePerWorkerHour: 0\n`)).pricePerWorkerHour).toBe(0);
  expect('pricePerWorkerHour' in ok(compileFleet(`${HEAD}provider: { type: local }\n`))).toBe(false);
  expect(listed(compileFleet(`${HEAD}provider: { type: local }\npricePerWorkerHour: -1\npricePerWorkerHuor: 2\n`))).toEqual([
    '5: pricePerWorkerHour: must be a price per worker-hour between 0 and 1000000 (got -1)',
    '6: pricePerWorkerHuor: unknown key "pricePerWorkerHuor" (did you mean "pricePerWorkerHour"?)',
  ]);
  expect(listed(compileFleetObject({ apiVersion: 'batchgrid/v1', kind: 'Fleet', name: 'a', provider: { type: 'local' }, pricePerWorkerHour: '2 USD' }))).toEqual([
    '-: pricePerWorkerHour: must be a number, got the string "2 USD"',
  ]);
});

test('provider type is checked with the choices', () => {
  expect(listed(compileFleetObject({ apiVersion: 'batchgrid/v1', kind: 'Fleet', name: 'a', provider: { type: 'k8s' } }))).toEqual([
    '-: provider.type: must be one of "local", "asg", "static" (got "k8s")',
  ]);
  expect(listed(compileFleetObject({ apiVersion: 'batchgrid/v1', kind: 'Fleet', name: 'a', provider: { type: 'asg' } }))).toEqual(['-: provider.groupName: is required']);
});

test('loadFleet throws every problem; syntax errors have lines', () => {
  expect(() => loadFleet(`${HEAD}provider: [`)).toThrow(FleetValidationError);
  expect(listed(compileFleet(`${HEAD}provider: [`))[0]).toMatch(/^4: : YAML syntax error/);
});

test('the example fleets are valid', () => {
  const dir = join(__dirname, '..', '..', 'examples', 'fleets');
  for (const file of readdirSync(dir)) expect([file, listed(compileFleet(readFileSync(join(dir, file), 'utf8')))]).toEqual([file, []]);
});

test.each(['policy.ts', 'fleet-def.ts', 'types.ts', 'errors.ts'])('grid/%s imports no Node built-in (importable by workflows)', (file) => {
  const source = readFileSync(join(__dirname, '..', '..', 'grid', file), 'utf8');
  const imports = [...source.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  expect(imports.filter((m) => m.startsWith('node:') || builtinModules.includes(m))).toEqual([]);
});
