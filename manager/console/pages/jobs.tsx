import { useState } from 'preact/hooks';
import { api } from '../api';
import { Choice, ErrorNote, Head, Pager, StageBar, Status } from '../components';
import { duration, money, rate, time } from '../format';
import { go, usePoll } from '../hooks';
import { JOB_STATUSES, type Fleet, type Job } from '../types';

/** A job's overall pace from its stages: parts done per second since it started, and the time left at that pace. */
export function jobPace(job: Pick<Job, 'startedAt' | 'finishedAt' | 'status'> & { progress?: Job['progress'] }): { throughput: number | null; etaMs: number | null } {
  const stages = job.progress ?? [];
  const done = stages.reduce((n, s) => n + s.done, 0);
  const started = job.startedAt ? Date.parse(job.startedAt) : undefined;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  const throughput = started !== undefined && done > 0 && end > started ? done / ((end - started) / 1000) : null;
  if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return { throughput, etaMs: 0 };
  const total = stages.every((s) => s.partsTotal !== null) ? stages.reduce((n, s) => n + (s.partsTotal ?? 0), 0) : null;
  return { throughput, etaMs: total !== null && throughput ? ((total - done) / throughput) * 1000 : null };
}

/**
 * What a job's parts have cost so far: each stage's busy time at its fleet's price per worker-hour.
 * The fleets' idle time, which the report shares out between jobs, is on the job's page; null when no fleet of the job has a price.
 */
export function busyCost(job: Job, prices: Map<string, number>): number | null {
  let cost: number | null = null;
  for (const s of job.progress ?? []) {
    const fleet = job.definition.stages.find((d) => d.id === s.stageId)?.fleet ?? job.fleet;
    const price = prices.get(fleet);
    if (price !== undefined) cost = (cost ?? 0) + (s.busyMs / 3_600_000) * price;
  }
  return cost;
}

/** The jobs list: newest first, filtered by pipeline, status, fleet and id, one page of 50 at a time, live. */
export function JobsPage({ query }: { query: URLSearchParams }) {
  const filters = { pipeline: query.get('pipeline') ?? '', status: query.get('status') ?? '', fleet: query.get('fleet') ?? '', q: query.get('q') ?? '' };
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const params = new URLSearchParams({ progress: 'true', limit: '50' });
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  const url = `/v1/jobs?${params}`;
  const jobs = usePoll(() => api<{ jobs: Job[]; nextCursor?: string }>('GET', url), url);
  // Prices change rarely: asked for less often than the jobs.
  const fleets = usePoll(() => api<{ fleets: Fleet[] }>('GET', '/v1/fleets?decisions=0'), 'fleet-prices', { intervalMs: 15_000 });
  const prices = new Map((fleets.data?.fleets ?? []).flatMap((f) => (f.pricePerWorkerHour === null ? [] : [[f.fleet, f.pricePerWorkerHour] as const])));

  const setFilter = (name: keyof typeof filters, value: string) => {
    setCursors([]);
    go('jobs', { ...filters, [name]: value.trim() });
  };
  const input = (name: keyof typeof filters, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} value={filters[name]} placeholder={placeholder} onChange={(e) => setFilter(name, e.currentTarget.value)} />
    </label>
  );
  return (
    <>
      <h1>Jobs</h1>
      {/* A field applies when it changes (on leaving it) or on Enter, which submits every field at once. */}
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setCursors([]);
          go('jobs', Object.fromEntries(Object.keys(filters).map((k) => [k, String(form.get(k) ?? '').trim()])));
        }}
      >
        {input('q', 'Job id', 'starts with…')}
        {input('pipeline', 'Pipeline', 'any')}
        <Choice label="Status" name="status" value={filters.status} none="any" options={JOB_STATUSES} onChange={(v) => setFilter('status', v)} />
        {input('fleet', 'Fleet', 'any')}
      </form>
      <ErrorNote error={jobs.error} />
      <table class="jobs">
        <Head cols={['Job', 'Pipeline', 'Status', 'Fleet', 'Priority', 'Created', 'Stages', 'Throughput', 'ETA', 'Cost so far']} />
        <tbody>
          {(jobs.data?.jobs ?? []).map((j) => {
            const pace = jobPace(j);
            return (
              <tr key={j.jobId} data-job={j.jobId}>
                <td>
                  <a href={`#/jobs/${j.jobId}`}>{j.jobId}</a>
                </td>
                <td>{j.pipelineName}</td>
                <td>
                  <Status status={j.status} />
                </td>
                <td>
                  <a href={`#/fleets/${j.fleet}`}>{j.fleet}</a>
                </td>
                <td>{j.priority ?? j.definition.priority ?? 1}</td>
                <td>{time(j.createdAt)}</td>
                <td class="bars">
                  {(j.progress ?? []).map((s) => (
                    <StageBar key={s.stageId} stage={s} />
                  ))}
                </td>
                <td>{rate(pace.throughput)}</td>
                <td>{pace.etaMs === 0 ? 'done' : duration(pace.etaMs)}</td>
                <td class="cost" title="busy time × the fleet's price per worker-hour; the job's report adds its share of idle time">
                  {money(busyCost(j, prices))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {jobs.data && jobs.data.jobs.length === 0 ? <p>No job matches.</p> : null}
      <Pager
        page={cursors.length}
        hasNext={jobs.data?.nextCursor !== undefined}
        onPrev={() => setCursors(cursors.slice(0, -1))}
        onNext={() => jobs.data?.nextCursor && setCursors([...cursors, jobs.data.nextCursor])}
      />
    </>
  );
}
