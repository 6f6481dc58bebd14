import type { S3Client } from '@aws-sdk/client-s3';
import type { Pool } from 'pg';
import type { InputRef } from '../common/messages';
import { readJsonLines } from '../common/s3-io';
import { outputsToInputs, succeededAfter } from '../store/task-runs';

/** A part ready to be sent for the first time. */
export interface NewPart {
  part: number;
  inputs: InputRef[];
  inputsKey?: string;
}

/** Where a stage's new parts come from: its manifest in S3, or (stream chaining) its upstream's successes. */
export interface PartSource {
  /** Reads ahead until `n` parts are buffered or the source has nothing more for now (I/O happens here). */
  fill(n: number): Promise<void>;
  /** Takes up to `n` buffered parts (no I/O, so it can run inside the window lock). */
  take(n: number): NewPart[];
  /** True when no part will ever come again. */
  readonly exhausted: boolean;
  /** Parts that came from this source so far, including before a restart. */
  readonly produced: number;
  /** Parts read ahead and not taken yet. */
  readonly buffered: number;
}

/** A line of a stage manifest (`jobs/<job>/stages/<stage>/manifest.jsonl`). */
export interface ManifestLine {
  part: number;
  inputs?: InputRef[];
  inputsKey?: string;
}

/** Streams a manifest from line `cursor` (the number of lines already dispatched). */
export class ManifestSource implements PartSource {
  private readonly buffer: NewPart[] = [];
  private iterator?: AsyncGenerator<ManifestLine>;
  private done = false;
  private consumed: number;

  constructor(private readonly s3: S3Client, private readonly bucket: string, private readonly key: string, cursor: number) {
    this.consumed = cursor;
  }

  get exhausted(): boolean {
    return this.done && this.buffer.length === 0;
  }

  get produced(): number {
    return this.consumed;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  async fill(n: number): Promise<void> {
    if (this.done) return;
    if (!this.iterator) {
      this.iterator = readJsonLines<ManifestLine>(this.s3, this.bucket, this.key);
      for (let skip = this.consumed; skip > 0; skip -= 1) if ((await this.iterator.next()).done) break;
    }
    while (this.buffer.length < n) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return;
      }
      this.buffer.push({ part: next.value.part, inputs: next.value.inputs ?? [], inputsKey: next.value.inputsKey });
    }
  }

  take(n: number): NewPart[] {
    const out = this.buffer.splice(0, n);
    this.consumed += out.length;
    return out;
  }
}

/**
 * Stream chaining: each upstream part that succeeds becomes the part with the same number here,
 * read in success order from Postgres. Exhausted once the upstream stage run is final and
 * every success has been taken.
 */
export class StreamSource implements PartSource {
  private readonly buffer: NewPart[] = [];
  private upstreamFinal = false;
  private drained = false;
  private lastPollAt = 0;

  constructor(
    private readonly db: Pool,
    private readonly jobId: string,
    private readonly upstream: string,
    private lastSeq: number,
    private count: number,
    private readonly isUpstreamFinal: () => Promise<boolean>,
    /** Turns a part's inputs into what its task message carries (claim-checking long lists). */
    private readonly toPartInputs: (part: number, inputs: InputRef[]) => Promise<{ inputs: InputRef[]; inputsKey?: string }> = async (_p, inputs) => ({ inputs }),
    private readonly pollIntervalMs = 250,
  ) {}

  get exhausted(): boolean {
    return this.drained && this.buffer.length === 0;
  }

  get produced(): number {
    return this.count;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  async fill(n: number): Promise<void> {
    if (this.drained || this.buffer.length >= n || Date.now() - this.lastPollAt < this.pollIntervalMs) return;
    this.lastPollAt = Date.now();
    // Read the upstream's state before its successes: a final status is written after its last success.
    const finalBefore = this.upstreamFinal || (await this.isUpstreamFinal());
    const want = n - this.buffer.length;
    const rows = await succeededAfter(this.db, this.jobId, this.upstream, this.lastSeq, want);
    for (const r of rows) {
      this.buffer.push({ part: r.part, ...(await this.toPartInputs(r.part, outputsToInputs(r.outputs))) });
      this.lastSeq = r.seq;
    }
    this.upstreamFinal = finalBefore;
    if (finalBefore && rows.length < want) this.drained = true;
  }

  take(n: number): NewPart[] {
    const out = this.buffer.splice(0, n);
    this.count += out.length;
    return out;
  }
}
