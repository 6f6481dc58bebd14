import { QueueBatcher } from '../../worker/fleet/queue-batcher';

describe('QueueBatcher', () => {
  test('items are sent together per queue after the delay; a withdrawn item is never sent', async () => {
    const sent: [string, number[]][] = [];
    const b = new QueueBatcher<number>({ maxItems: 100, maxDelayMs: 20, send: async (q, items) => void sent.push([q, items]) });
    b.add('q1', 1);
    b.add('q1', 2);
    b.add('q2', 3);
    expect(b.withdraw('q1', (i) => i === 2)).toBe(1);
    // Withdrawing the last item of a queue cancels its send altogether.
    expect(b.withdraw('q2', (i) => i === 3)).toBe(1);
    expect(b.withdraw('q3', () => true)).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual([['q1', [1]]]);
  });

  test('a full batch goes at once, and a withdrawal after it was sent changes nothing', async () => {
    const sent: number[][] = [];
    const b = new QueueBatcher<number>({ maxItems: 2, maxDelayMs: 10_000, send: async (_q, items) => void sent.push(items) });
    b.add('q', 1);
    b.add('q', 2);
    expect(b.withdraw('q', () => true)).toBe(0);
    await b.drain();
    expect(sent).toEqual([[1, 2]]);
  });
});
