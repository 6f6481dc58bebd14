import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startEngine, type TestEngine } from '../support/engine';

/** Principle 1: a workflow's history grows with its stages, never with its parts. */
describe('workflow history size', () => {
  let engine: TestEngine;
  const big = Number(process.env.BATCHGRID_HISTORY_TEST_PARTS ?? 20_000);

  beforeAll(async () => {
    engine = await startEngine();
    await engine.startFleet(2, { concurrency: 64 });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
  });

  /** Runs `n` no-op parts through a two-stage stream-chained pipeline; returns the history's event count. */
  async function historyOf(n: number): Promise<number> {
    const jobId = `h${n}-${engine.id}`;
    const manifest = Array.from({ length: n }, (_, i) => JSON.stringify({ key: `x/${i}` })).join('\n');
    await engine.aws.s3.send(new PutObjectCommand({ Bucket: engine.bucket, Key: `jobs/${jobId}/input/manifest.jsonl`, Body: manifest }));
    const { handle } = await engine.submit(
      {
        name: 'history',
        concurrency: 2000,
        input: { split: { by: 'manifest' } },
        stages: [
          { id: 'first', task: 'noop' },
          { id: 'second', task: 'noop', needs: ['first'], chain: 'stream' },
        ],
      },
      {},
      { jobId },
    );
    const summary = await handle.result();
    expect(summary.stages.map((s) => s.succeeded)).toEqual([n, n]);
    const history = await handle.fetchHistory();
    return history.events?.length ?? 0;
  }

  test(`a ${big}-part job has no more history events than a 100-part job plus a small constant`, async () => {
    const small = await historyOf(100);
    const large = await historyOf(big);
    process.stdout.write(`history events: 100 parts → ${small}, ${big} parts → ${large}\n`);
    expect(large).toBeLessThanOrEqual(small + 10);
  }, 900_000);
});
