import { CompletionMessage, MAX_MESSAGE_BYTES, type PartResult } from '../../common/messages';
import { MAX_BATCH_BYTES, packBatches } from '../../common/sqs/batching';
import { packCompletions } from '../../worker/fleet/completions';

const header = { v: 1 as const, type: 'completion' as const, jobId: 'job-1', stageId: 'stage-a', workerId: 'w1' };

function result(part: number, extra = 0): PartResult {
  return {
    part, attempt: 1, status: 'succeeded', outputs: [{ key: `jobs/job-1/stages/stage-a/parts/${part}/out.txt`, bytes: 10 }],
    result: { pad: 'x'.repeat(extra) }, sentAt: 1, receivedAt: 2, startedAt: 3, finishedAt: 4, bytesIn: 5, bytesOut: 10,
  };
}

describe('packCompletions', () => {
  it('packs up to 100 results per message, in order, each body a valid CompletionMessage', () => {
    const results = Array.from({ length: 250 }, (_, i) => result(i));
    const packed = packCompletions(header, results);
    expect(packed.map((p) => p.results.length)).toEqual([100, 100, 50]);
    const parts = packed.flatMap((p) => {
      const msg = CompletionMessage.parse(JSON.parse(p.body));
      expect(msg).toMatchObject(header);
      expect(Buffer.byteLength(p.body)).toBe(p.bytes);
      return msg.results.map((r) => r.part);
    });
    expect(parts).toEqual(results.map((r) => r.part));
  });

  it('starts a new message before exceeding the byte limit', () => {
    const results = Array.from({ length: 30 }, (_, i) => result(i, 15_000)); // ~15 KB each
    const packed = packCompletions(header, results);
    expect(packed.length).toBeGreaterThan(1);
    for (const p of packed) expect(p.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(packed.reduce((n, p) => n + p.results.length, 0)).toBe(30);
  });

  it('fills a message exactly up to the limit (boundary) and honours custom limits', () => {
    const one = packCompletions(header, [result(0)])[0].bytes;
    const two = packCompletions(header, [result(0), result(1)])[0].bytes;
    expect(packCompletions(header, [result(0), result(1)], { maxBytes: two }).length).toBe(1);
    expect(packCompletions(header, [result(0), result(1)], { maxBytes: two - 1 }).length).toBe(2);
    expect(packCompletions(header, [result(0), result(1), result(2)], { maxResults: 2 }).map((p) => p.results.length)).toEqual([2, 1]);
    expect(one).toBeLessThan(two);
  });

  it('sends an oversized single result alone rather than dropping it', () => {
    const packed = packCompletions(header, [result(0), result(1, 500), result(2)], { maxBytes: 400 });
    expect(packed.map((p) => p.results.map((r) => r.part))).toEqual([[0], [1], [2]]);
  });

  it('returns nothing for no results', () => {
    expect(packCompletions(header, [])).toEqual([]);
  });
});

describe('packBatches', () => {
  it('puts at most 10 messages in a batch', () => {
    expect(packBatches(Array(23).fill(100)).map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('keeps each batch within the total byte limit', () => {
    const sizes = [200_000, 50_000, 10_000, 200_000, 100];
    const batches = packBatches(sizes);
    expect(batches).toEqual([[0, 1, 2], [3, 4]]); // 260,000 fits in 262,144; 270,000 would not
    for (const b of batches) expect(b.reduce((n, i) => n + sizes[i], 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('returns nothing for no messages', () => {
    expect(packBatches([])).toEqual([]);
  });
});
