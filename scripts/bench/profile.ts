import fs from 'node:fs';
import type { Pool } from 'pg';
import { stackStatus } from '../../manager/devstack';

/**
 * Where the time of an engine run goes: CPU time of every process, the Postgres sessions each
 * process held, the calls each made (common/call-counts) and the rows the job wrote. Printed per
 * part-stage by the benchmark (docs/engine.md, "Where the time goes").
 */
export interface Profile {
  /** CPU time (user + system) by process, in ms; `postgres (orchestrator)` is the server side of the orchestrator's sessions, the shared servers (ElasticMQ, Temporal…) are named by service. */
  cpuMs: Record<string, number>;
  /** Share of the machine's CPU time that was busy during the job, in per cent (all processes, this run's and others'). */
  machineBusyPct: number;
  /** Calls by process, by `service.operation`. */
  calls: Record<string, Record<string, number>>;
  /** Row writes the job's schema saw: inserts, updates (of them HOT), deletes. */
  rows: { inserts: number; updates: number; hotUpdates: number; deletes: number };
  /** When each stage's first part was sent, its first part finished and its last part finished, in ms after the job was submitted; `endMs`: when its result came back. */
  timeline: { stages: Record<string, { firstSentMs: number; firstFinishedMs: number; lastFinishedMs: number }>; endMs: number };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time a process has used so far (user + system), in ms; 0 for a process that has gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** How often the Postgres backends of a process are read while a job runs. */
const BACKEND_SAMPLE_MS = 1000;

/**
 * CPU time of the Postgres backends serving `pid`'s sessions (store/db names them `batchgrid pid N`)
 * from now until `stop()`, in ms. Backends are read every second, so a session the pool closes
 * meanwhile keeps what it used until its last reading (at most a second of its CPU is missed), and a
 * session open before the start counts only what it used after it.
 */
export function trackPostgresCpu(db: Pool, pid: number): { stop(): Promise<number> } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const read = async (start: boolean) => {
    const r = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [`batchgrid pid ${pid}`]);
    for (const { pid: backend } of r.rows) {
      const ms = cpuMsOf(backend);
      if (ms === 0) continue;
      if (!first.has(backend)) first.set(backend, start ? ms : 0);
      last.set(backend, ms);
    }
  };
  let reading: Promise<void> = read(true).catch(() => undefined);
  const timer = setInterval(() => (reading = reading.then(() => read(false)).catch(() => undefined)), BACKEND_SAMPLE_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read(false).catch(() => undefined);
      return [...last].reduce((sum, [backend, ms]) => sum + ms - (first.get(backend) ?? 0), 0);
    },
  };
}

/** The counts a process wrote at exit to its BATCHGRID_CALL_COUNTS_FILE; empty when it wrote none. */
export function readCallCounts(file: string): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Row writes in `schema`'s tables so far (the statistics collector's counts, flushed within a second or so). */
export async function rowWrites(db: Pool, schema: string): Promise<Profile['rows']> {
  const r = await db.query<{ ins: string; upd: string; hot: string; del: string }>(
    `SELECT coalesce(sum(n_tup_ins), 0) AS ins, coalesce(sum(n_tup_upd), 0) AS upd, coalesce(sum(n_tup_hot_upd), 0) AS hot, coalesce(sum(n_tup_del), 0) AS del
       FROM pg_stat_user_tables WHERE schemaname = $1`,
    [schema],
  );
  const x = r.rows[0]!;
  return { inserts: Number(x.ins), updates: Number(x.upd), hotUpdates: Number(x.hot), deletes: Number(x.del) };
}

/**
 * The job's timeline from its part rows (read before compaction): per stage, the first send, the
 * first and the last finish, in ms after `submittedAt` (epoch ms). What lies before a stage's first
 * send and after its last finish is the job's fixed cost, paid once whatever N is.
 */
export async function jobTimeline(db: Pool, jobId: string, submittedAt: number, endedAt: number): Promise<Profile['timeline']> {
  // float8 arrives as a JS number (node-postgres parses it).
  const r = await db.query<{ stage_id: string; first_sent: number; first_finished: number; last_finished: number }>(
    `SELECT s.stage_id, (extract(epoch FROM min(t.sent_at)) * 1000)::float8 AS first_sent,
            (extract(epoch FROM min(t.finished_at)) * 1000)::float8 AS first_finished,
            (extract(epoch FROM max(t.finished_at)) * 1000)::float8 AS last_finished
       FROM task_rows t JOIN stage_runs s ON s.run_id = t.run_id
      WHERE s.job_id = $1 GROUP BY s.stage_id ORDER BY min(t.sent_at)`,
    [jobId],
  );
  const at = (epochMs: number) => Math.round(epochMs - submittedAt);
  const stages = Object.fromEntries(
    r.rows.map((x) => [x.stage_id, { firstSentMs: at(x.first_sent), firstFinishedMs: at(x.first_finished), lastFinishedMs: at(x.last_finished) }]),
  );
  return { stages, endMs: endedAt - submittedAt };
}

/** Pids of the shared stack's servers this machine runs (Temporal, ElasticMQ, Postgres…), by service. */
export async function sharedServicePids(): Promise<Record<string, number>> {
  const services = await stackStatus();
  return Object.fromEntries(services.flatMap((s) => (s.pid !== undefined ? [[s.service, s.pid]] : [])));
}

/** The machine's busy and total CPU time so far (/proc/stat, all cores), in ticks. */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
