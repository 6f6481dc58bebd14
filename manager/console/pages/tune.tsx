import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNote } from '../components';
import type { Job } from '../types';

type Tolerance = NonNullable<Job['tolerate']>;

/** `3` or `0.5%`, as `batchgrid tune --tolerate` takes it; empty when the job keeps each stage's own. */
const toleranceText = (t: Tolerance | null) => (t === null ? '' : t.failedPercent !== undefined ? `${t.failedPercent}%` : String(t.failedParts ?? 0));

const currentOf = (job: Job) => ({ concurrency: String(job.concurrency), priority: String(job.priority ?? 1), tolerate: toleranceText(job.tolerate) });
type Fields = ReturnType<typeof currentOf>;

/**
 * The body of POST /v1/jobs/{id}/tune: only the fields edited to something other than the job's
 * values. Numbers are sent as typed, without bounds checked here: the API is the one judge of its
 * limits, and its message is the one shown.
 */
function tuneBody(now: Fields, edits: Partial<Fields>): Record<string, number | string> {
  const body: Record<string, number | string> = {};
  const changed = (k: keyof Fields) => {
    const v = edits[k]?.trim();
    return v !== undefined && v !== '' && v !== now[k] ? v : undefined;
  };
  const [concurrency, priority, tolerate] = [changed('concurrency'), changed('priority'), changed('tolerate')];
  if (concurrency !== undefined) body.concurrency = Number(concurrency);
  if (priority !== undefined) body.priority = Number(priority);
  if (tolerate !== undefined) body.tolerate = /^\d+$/.test(tolerate) ? Number(tolerate) : tolerate;
  return body;
}

/**
 * Concurrency, priority and tolerated failures of a job under way (the workflow's `tune` update),
 * filled with the job's current values; `onDone` reloads the job so the page shows what was set.
 * Only the fields edited are kept as typed: the others follow the job as it is polled, so a tune
 * made elsewhere (`batchgrid tune`) meanwhile is not sent back by a change of another field.
 */
export function TuneForm({ job, onDone }: { job: Job; onDone(): void }) {
  const now = currentOf(job);
  const [edits, setEdits] = useState<Partial<Fields>>({});
  const [error, setError] = useState<Error>();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setNote('');
    const body = tuneBody(now, edits);
    if (Object.keys(body).length === 0) return setNote('nothing changed');
    setBusy(true);
    try {
      const r = await api<{ tune: Record<string, unknown> }>('POST', `/v1/jobs/${job.jobId}/tune`, body);
      setNote(`tuned: ${Object.keys(r.tune).join(', ')}`);
      setEdits({});
      onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const field = (name: keyof Fields, label: string, hint: string) => (
    <label>
      {label}
      <input name={`tune-${name}`} inputMode={name === 'tolerate' ? 'text' : 'numeric'} size={8} value={edits[name] ?? now[name]} placeholder={hint} onInput={(ev) => setEdits({ ...edits, [name]: ev.currentTarget.value })} />
    </label>
  );
  return (
    // noValidate: a value out of bounds goes to the API, whose error names the limit.
    <form class="filters tune" onSubmit={submit} aria-label="tune the job" noValidate>
      {field('concurrency', 'Concurrency (parts in flight)', '')}
      {field('priority', 'Priority (fair share weight)', '')}
      {field('tolerate', 'Tolerated failed parts a stage (3 or 0.5%)', "each stage's own")}
      <button type="submit" disabled={busy}>
        Tune
      </button>
      <span role="status" class="tuned" data-concurrency={job.concurrency} data-priority={job.priority ?? 1} data-tolerate={now.tolerate}>
        now: concurrency {job.concurrency}, priority {job.priority ?? 1}, {now.tolerate ? `tolerates ${now.tolerate} failed parts a stage` : "each stage's own tolerance"}
        {note ? ` · ${note}` : ''}
      </span>
      <ErrorNote error={error} />
    </form>
  );
}
