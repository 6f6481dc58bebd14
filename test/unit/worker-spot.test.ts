import pino from 'pino';
import { compileFleetWorkerOptions } from '../../worker/fleet/options';
import { finishesInTime, SpotWatcher, type SpotNotice } from '../../worker/fleet/spot';
import { startFakeImds, type FakeImds } from '../support/fake-imds';

const log = pino({ level: 'silent' });
/** A whole second: EC2 writes notice times without milliseconds. */
const inSeconds = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000);

describe('spot watcher against a fake IMDSv2 on 127.0.0.1', () => {
  let imds: FakeImds;
  const watchers: SpotWatcher[] = [];

  beforeEach(async () => {
    imds = await startFakeImds();
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    await imds.close();
  });

  /** A watcher whose notices resolve `next()` in order. */
  function watch(pollIntervalMs = 20) {
    const notices: SpotNotice[] = [];
    let wake: (() => void) | undefined;
    const watcher = new SpotWatcher({ endpoint: imds.endpoint, pollIntervalMs, log, onNotice: (n) => (notices.push(n), wake?.()) });
    watchers.push(watcher);
    const next = async (count: number) => {
      while (notices.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return notices;
    };
    return { watcher, notices, next };
  }

  test('no notice is a 404; an interruption is read with a token asked for once, its time parsed', async () => {
    const { watcher } = watch();
    await expect(watcher.check()).resolves.toBeUndefined();
    const at = inSeconds(120_000);
    imds.interrupt(at);
    await expect(watcher.check()).resolves.toEqual({ kind: 'interruption', action: 'terminate', at: at.getTime() });
    expect(imds.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT /latest/api/token']);
    expect(imds.requests).toContain('GET /latest/meta-data/events/recommendations/rebalance');
  });

  test('polling: the interruption is reported once, mid-watch, and watching ends there', async () => {
    const { watcher, next } = watch();
    watcher.start();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => imds.requests.length >= 6 && (clearInterval(poll), resolve()), 5);
    });
    const at = inSeconds(90_000);
    imds.interrupt(at, 'stop');
    expect(await next(1)).toEqual([{ kind: 'interruption', action: 'stop', at: at.getTime() }]);
    const seen = imds.requests.length;
    await watcher.stop();
    expect(imds.requests.length).toBe(seen);
  });

  test('a rebalance recommendation is reported once and watching goes on, to the interruption', async () => {
    const { watcher, next } = watch();
    const noticed = inSeconds(0);
    imds.recommendRebalance(noticed);
    watcher.start();
    expect(await next(1)).toEqual([{ kind: 'rebalance', at: noticed.getTime() }]);
    const at = inSeconds(120_000);
    imds.interrupt(at);
    expect(await next(2)).toEqual([{ kind: 'rebalance', at: noticed.getTime() }, { kind: 'interruption', action: 'terminate', at: at.getTime() }]);
  });

  test('a refused token (the service restarted) is asked for again', async () => {
    const { watcher } = watch();
    await watcher.check();
    imds.forgetTokens();
    imds.interrupt(inSeconds(120_000));
    await expect(watcher.check()).resolves.toMatchObject({ kind: 'interruption' });
    expect(imds.tokens).toEqual(['token-1', 'token-2']);
  });

  test('an unreachable service is retried, never thrown, and stop() ends the watch', async () => {
    const endpoint = imds.endpoint;
    await imds.close();
    let calls = 0;
    const failing: typeof fetch = (input, init) => (calls++, fetch(input, init));
    const watcher = new SpotWatcher({ endpoint, pollIntervalMs: 10, log, onNotice: () => { throw new Error('no notice expected'); }, fetch: failing });
    watcher.start();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => calls >= 3 && (clearInterval(poll), resolve()), 5);
    });
    await watcher.stop();
    imds = await startFakeImds(); // for afterEach
  });
});

test('a running part keeps running only when its timeout ends it before the deadline', () => {
  expect(finishesInTime(1000, 5000, 6000)).toBe(true);
  expect(finishesInTime(1000, 5000, 5999)).toBe(false);
});

test('spot watching is off by default; --spot takes the configured endpoint; bad settings are refused', () => {
  const base = { fleet: 'f', clients: {} as never, log, execPolicy: 'none' as const };
  expect(compileFleetWorkerOptions(base).spot).toBeUndefined();
  expect(compileFleetWorkerOptions({ ...base, spot: true }).spot).toEqual({ endpoint: 'http://169.254.169.254', pollIntervalMs: 5000 });
  expect(compileFleetWorkerOptions({ ...base, spot: { endpoint: 'http://127.0.0.1:1', pollIntervalMs: 100 } }).spot).toEqual({ endpoint: 'http://127.0.0.1:1', pollIntervalMs: 100 });
  expect(() => compileFleetWorkerOptions({ ...base, spot: { endpoint: '169.254.169.254' } })).toThrow(/spot\.endpoint must be an http\(s\) URL/);
  expect(() => compileFleetWorkerOptions({ ...base, spot: { pollIntervalMs: 0 } })).toThrow(/spot\.pollIntervalMs must be an integer between 50 and 600000/);
});
