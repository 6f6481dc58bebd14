import { eachLimited, mapLimited, runLanes } from '../../common/concurrency';

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets every settled promise's callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('mapLimited', () => {
  it('keeps results in item order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimited([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => setImmediate(resolve));
      running -= 1;
      return `${i}:${n * 10}`;
    });
    expect(results).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30', '5:0']);
    expect(peak).toBe(2);
  });

  it('resolves at once for no items and refuses a limit below 1', async () => {
    await expect(mapLimited([], 3, async () => 1)).resolves.toEqual([]);
    await expect(mapLimited([1], 0, async () => 1)).rejects.toThrow('limit must be at least 1 (got 0)');
  });

  it('starts no item after a failure and rejects with the first error once the running calls settle', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    let settled = false;
    const run = mapLimited([0, 1, 2, 3], 2, async (i) => {
      started.push(i);
      await gates[i]!.promise;
    }).finally(() => (settled = true));
    run.catch(() => undefined);
    await flush();
    expect(started).toEqual([0, 1]);
    gates[0]!.reject(new Error('first'));
    await flush();
    expect(started).toEqual([0, 1]); // no new item after the failure
    expect(settled).toBe(false); // item 1 still runs
    gates[1]!.reject(new Error('second'));
    await expect(run).rejects.toThrow('first');
  });
});

describe('eachLimited', () => {
  it('calls fn on every item', async () => {
    const seen: string[] = [];
    await eachLimited(['a', 'b', 'c'], 8, async (s, i) => void seen.push(`${s}${i}`));
    expect(seen.sort()).toEqual(['a0', 'b1', 'c2']);
  });
});

describe('runLanes', () => {
  it('runs every lane at once with its index and returns their results in order', async () => {
    const gate = deferred();
    let started = 0;
    const run = runLanes(3, async (i) => {
      started += 1;
      await gate.promise;
      return i * 2;
    });
    await flush();
    expect(started).toBe(3);
    gate.resolve();
    await expect(run).resolves.toEqual([0, 2, 4]);
    await expect(runLanes(0, async () => 1)).resolves.toEqual([]);
  });
});
