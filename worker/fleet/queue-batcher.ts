/**
 * Collects items per queue URL and hands each queue's items to `send` together: when `maxItems`
 * have gathered, after `maxDelayMs`, or at once while draining. The completion sender and the
 * message deleter are both built on it. `send` must not reject: it reports outcomes itself.
 */
export class QueueBatcher<T> {
  private readonly pending = new Map<string, { items: T[]; timer?: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Epoch ms after which AWS retries stop; set by `drain`, read by `send` implementations. */
  giveUpAt: number | undefined;

  constructor(private readonly options: { maxItems: number; maxDelayMs: number; send: (queueUrl: string, items: T[]) => Promise<void> }) {}

  add(queueUrl: string, item: T): void {
    let entry = this.pending.get(queueUrl);
    if (!entry) this.pending.set(queueUrl, (entry = { items: [] }));
    entry.items.push(item);
    if (entry.items.length >= this.options.maxItems || this.giveUpAt !== undefined) this.flush(queueUrl);
    else entry.timer ??= setTimeout(() => this.flush(queueUrl), this.options.maxDelayMs);
  }

  /** Takes back the items of `queueUrl` not sent yet that `match`; returns how many. */
  withdraw(queueUrl: string, match: (item: T) => boolean): number {
    const entry = this.pending.get(queueUrl);
    if (!entry) return 0;
    const before = entry.items.length;
    entry.items = entry.items.filter((i) => !match(i));
    if (entry.items.length === 0) {
      clearTimeout(entry.timer);
      this.pending.delete(queueUrl);
    }
    return before - entry.items.length;
  }

  /** Sends everything queued now and waits for every send; retries stop at `giveUpAt` (epoch ms) when given. */
  async drain(giveUpAt?: number): Promise<void> {
    if (giveUpAt !== undefined) this.giveUpAt = giveUpAt;
    for (const queueUrl of [...this.pending.keys()]) this.flush(queueUrl);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private flush(queueUrl: string): void {
    const entry = this.pending.get(queueUrl);
    if (!entry) return;
    this.pending.delete(queueUrl);
    clearTimeout(entry.timer);
    const p = this.options.send(queueUrl, entry.items).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
