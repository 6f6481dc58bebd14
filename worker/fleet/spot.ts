import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from '../../common/logger';

/**
 * EC2 spot interruption notices, read from the instance metadata service (IMDSv2): a token from
 * `PUT /latest/api/token`, then `GET /latest/meta-data/spot/instance-action` (404 until EC2 reclaims
 * the instance, then `{"action":"terminate","time":"…"}`, about two minutes ahead) and
 * `GET /latest/meta-data/events/recommendations/rebalance` (404, or `{"noticeTime":"…"}` when the
 * instance is at raised risk of interruption). No AWS SDK: plain HTTP to a configurable endpoint.
 */

/** What the metadata service announced; `at` in epoch ms. */
export type SpotNotice =
  /** EC2 reclaims the instance at `at` (`action`: terminate, stop or hibernate). */
  | { kind: 'interruption'; action: string; at: number }
  /** EC2 recommends moving work off the instance (noticed at `at`); an interruption may follow. */
  | { kind: 'rebalance'; at: number };

/** Time kept free before the reclaim time to post results, hand messages back and complete the lifecycle action, in ms. */
export const SPOT_DEADLINE_MARGIN_MS = 15_000;

/** How long EC2 gives after an interruption notice; used when the notice's time does not parse. */
const NOTICE_LEAD_MS = 120_000;

/**
 * The rule for a part running when an interruption notice comes: it keeps running only if its
 * timeout ends it (success, failure or timeout) before `keepUntil` (the reclaim time less the
 * margin). Its run time is otherwise unknown, and a part still running when the instance goes
 * loses its work and leaves its message hidden for a whole visibility timeout: better to hand it
 * back at once and have it start elsewhere now.
 */
export function finishesInTime(startedAt: number, timeoutMs: number, keepUntil: number): boolean {
  return startedAt + timeoutMs <= keepUntil;
}

const InstanceAction = z.object({ action: z.string(), time: z.string() });
const Rebalance = z.object({ noticeTime: z.string() });

export interface SpotWatcherOptions {
  /** The metadata service, e.g. `http://169.254.169.254` (config BATCHGRID_IMDS_ENDPOINT). */
  endpoint: string;
  /** Between checks, in ms. */
  pollIntervalMs: number;
  log: Logger;
  /** Called once per interruption (after which watching ends) and once per rebalance recommendation. */
  onNotice: (notice: SpotNotice) => void;
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Default: Date.now. */
  now?: () => number;
  /** How long one metadata request may take, in ms. Default: 2000. */
  requestTimeoutMs?: number;
}

/** Lifetime asked for an IMDSv2 token, in seconds (the most IMDS allows is 6 hours). */
const TOKEN_TTL_SECONDS = 21_600;

/** Thrown by a metadata GET refused for its token (expired, or the service restarted). */
class TokenRefusedError extends Error {}

/** Polls the metadata service for spot notices; `start()` and `stop()` are idempotent. Failures are logged, never thrown. */
export class SpotWatcher {
  private readonly abort = new AbortController();
  private readonly fetch: typeof globalThis.fetch;
  private readonly now: () => number;
  private loop?: Promise<void>;
  private token?: { value: string; until: number };
  private rebalanceSeen = false;
  private failing = false;

  constructor(private readonly o: SpotWatcherOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends watching; a request in flight is abandoned. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** The notice now in force, if any: an interruption first, else a rebalance recommendation not yet reported. Exposed for tests. */
  async check(): Promise<SpotNotice | undefined> {
    const action = await this.get('/latest/meta-data/spot/instance-action');
    if (action !== undefined) {
      const a = InstanceAction.parse(JSON.parse(action));
      return { kind: 'interruption', action: a.action, at: this.timeOf(a.time, this.now() + NOTICE_LEAD_MS) };
    }
    if (this.rebalanceSeen) return undefined;
    const rebalance = await this.get('/latest/meta-data/events/recommendations/rebalance');
    if (rebalance === undefined) return undefined;
    return { kind: 'rebalance', at: this.timeOf(Rebalance.parse(JSON.parse(rebalance)).noticeTime, this.now()) };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const { log, pollIntervalMs, endpoint } = this.o;
    log.info({ endpoint, pollIntervalMs }, 'watching for spot interruption notices');
    while (!signal.aborted) {
      const notice = await this.check().then(
        (n) => {
          if (this.failing) log.info({ endpoint }, 'the instance metadata service answers again');
          this.failing = false;
          return n;
        },
        (err: unknown) => {
          if (!signal.aborted) this.logFailure(err);
          return undefined;
        },
      );
      if (signal.aborted) return;
      if (notice?.kind === 'rebalance') this.rebalanceSeen = true;
      if (notice) {
        try {
          this.o.onNotice(notice);
        } catch (err) {
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'handling a spot notice failed');
        }
      }
      if (notice?.kind === 'interruption') return;
      await sleep(pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** The first failure in a row is a warning, the rest debug lines: off EC2 every check fails. */
  private logFailure(err: unknown): void {
    const fields = { endpoint: this.o.endpoint, err: err instanceof Error ? err.message : String(err) };
    if (this.failing) this.o.log.debug(fields, 'spot check failed');
    else this.o.log.warn(fields, 'cannot read spot notices from the instance metadata service; retrying');
    this.failing = true;
  }

  private timeOf(text: string, fallback: number): number {
    const t = Date.parse(text);
    return Number.isFinite(t) ? t : fallback;
  }

  /** The body of a metadata path, or undefined on 404; a refused token is fetched again once. */
  private async get(path: string): Promise<string | undefined> {
    try {
      return await this.getWith(path, await this.tokenValue());
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) throw err;
      this.token = undefined;
      return this.getWith(path, await this.tokenValue());
    }
  }

  private async getWith(path: string, token: string): Promise<string | undefined> {
    const r = await this.request(path, { headers: { 'X-aws-ec2-metadata-token': token } });
    if (r.status === 404) return undefined;
    if (r.status === 401) throw new TokenRefusedError(`${path}: token refused`);
    if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
    return r.text();
  }

  private async tokenValue(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const r = await this.request('/latest/api/token', { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) } });
    if (!r.ok) throw new Error(`PUT /latest/api/token: HTTP ${r.status}`);
    // Renewed a minute before it expires.
    this.token = { value: await r.text(), until: this.now() + (TOKEN_TTL_SECONDS - 60) * 1000 };
    return this.token.value;
  }

  private request(path: string, init: RequestInit): Promise<Response> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.requestTimeoutMs ?? 2000)]);
    return this.fetch(new URL(path, this.o.endpoint), { ...init, signal });
  }
}
