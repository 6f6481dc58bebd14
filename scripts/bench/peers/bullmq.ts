import { Queue } from 'bullmq';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { distPath } from '../../../common/paths';
import { trackAll, trackMemory, type MemoryTracker } from '../memory';
import { child, note, stdoutOf, stop, waitUntil } from '../processes';
import type { BenchSystem } from '../system';

export interface BullSetup {
  /** Worker processes (the engine's fleet worker count). */
  workers: number;
  /** Concurrency per worker (the fleet worker's slots). */
  slots: number;
  /** Port of the Redis the benchmark starts on 127.0.0.1. */
  port: number;
}

/** Jobs per `addBulk` call: one Redis round trip each, as BullMQ's docs suggest for adding many jobs. */
const BULK = 1000;

/** Fails with the command to run when Debian's redis-server is not installed. */
export function requireRedisServer(): void {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error('redis-server is not installed: BullMQ needs it (apt-get install -y redis-server), or pass --skip bullmq');
  }
}

async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  redis.once('exit', (code) => code && note(`redis-server exited with ${code}`));
  await waitUntil(`redis-server on 127.0.0.1:${port}`, () => new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  }));
  return redis;
}

/**
 * BullMQ on a Redis the benchmark starts (and stops in `close`): N jobs added with `addBulk`, the
 * fan-out BullMQ's docs give for many independent jobs (a flow with one parent would put N children
 * in one transaction), completed jobs removed as its docs advise for throughput. Seconds run from the
 * first add to the last completion.
 */
export function bullmq(setup: BullSetup, maxParts: number): BenchSystem {
  let redis: ChildProcess | undefined;
  let redisMemory: MemoryTracker | undefined;
  return {
    id: 'bullmq',
    label: 'BullMQ',
    maxParts,
    async run(n) {
      if (!redis) {
        requireRedisServer();
        redis = await startRedis(setup.port);
      }
      // Redis lives across runs; its resident peak is read per run (not its lifetime's high-water mark).
      redisMemory = trackMemory(redis.pid!, { lifetimePeak: false });
      const name = `bench-${randomBytes(4).toString('hex')}`;
      const connection = { host: '127.0.0.1', port: setup.port, maxRetriesPerRequest: null };
      const queue = new Queue(name, { connection });
      const procs = Array.from({ length: setup.workers }, () => child([distPath('scripts/bench/peers/bullmq-worker.js'), String(setup.port), name, String(setup.slots)]));
      const memory = trackAll(Object.fromEntries(procs.map((p, i) => [`worker-${i + 1}`, p.pid!])));
      const outputs = procs.map((p) => stdoutOf(p, 'BullMQ worker').then((out) => JSON.parse(out) as { count: number; lastAt: number }));
      try {
        await waitUntil("BullMQ's workers", async () => (await queue.getWorkersCount()) >= setup.workers);
        const started = Date.now();
        for (let first = 0; first < n; first += BULK) {
          const jobs = Array.from({ length: Math.min(BULK, n - first) }, (_, i) => ({
            name: 'part',
            data: { part: first + i },
            opts: { removeOnComplete: true, removeOnFail: false },
          }));
          await queue.addBulk(jobs);
        }
        await waitUntil('BullMQ to finish', async () => {
          const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
          return Object.values(c).every((v) => v === 0);
        }, 600_000);
        const failed = await queue.getJobCounts('failed');
        if (failed.failed > 0) throw new Error(`${failed.failed} BullMQ jobs failed`);
        const peaks = { ...memory.peaks(), redis: redisMemory.peakMiB() };
        await Promise.all(procs.map(stop));
        const results = await Promise.all(outputs);
        const total = results.reduce((a, r) => a + r.count, 0);
        if (total !== n) throw new Error(`BullMQ completed ${total} jobs of ${n}`);
        return { seconds: (Math.max(...results.map((r) => r.lastAt)) - started) / 1000, memoryMiB: peaks };
      } finally {
        memory.stop();
        redisMemory.stop();
        await Promise.all(procs.map(stop));
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
    },
    async close() {
      if (redis) await stop(redis);
      redis = undefined;
    },
  };
}
