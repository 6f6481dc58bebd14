import { useState } from 'preact/hooks';
import { api } from '../api';
import type { SessionInfo } from '../app';
import { ErrorNote, Section, StageBar, Status } from '../components';
import { bytes, duration, time } from '../format';
import { go, usePoll } from '../hooks';
import type { Job, Progress } from '../types';
import { Dag } from './dag';
import { jobPace } from './jobs';
import { PartsTable } from './parts';
import { ReportView } from './report';
import { TuneForm } from './tune';

const ENDED = ['succeeded', 'failed', 'cancelled'];
const TUNABLE = ['running', 'paused'];

interface Results {
  entries: { stage: string; part: number; outputs: { key: string; bytes: number; url: string }[] }[];
}

/** Cancel, pause, resume, retry failed parts: each asks for confirmation first. */
function Actions({ job, progress, onDone }: { job: Job; progress?: Progress; onDone(): void }) {
  const [error, setError] = useState<Error>();
  const [note, setNote] = useState('');
  const status = progress?.status ?? job.status;
  const failed = (progress?.stages ?? []).reduce((n, s) => n + s.failed, 0);
  const act = async (action: string, question: string) => {
    if (!confirm(question)) return;
    setError(undefined);
    try {
      const r = await api<{ jobId: string }>('POST', `/v1/jobs/${job.jobId}/${action}`);
      if (action === 'retry') go(`jobs/${r.jobId}`);
      else setNote(`${action} requested`);
      onDone();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <div class="actions">
      {['running', 'paused', 'scheduled'].includes(status) ? (
        <button type="button" class="danger" onClick={() => act('cancel', `Cancel job ${job.jobId}? Parts in flight are abandoned; this cannot be undone.`)}>
          Cancel job
        </button>
      ) : null}
      {status === 'running' ? (
        <button type="button" onClick={() => act('pause', `Pause job ${job.jobId}? Parts in flight finish; no new part is sent until you resume.`)}>
          Pause
        </button>
      ) : null}
      {status === 'paused' ? (
        <button type="button" onClick={() => act('resume', `Resume job ${job.jobId}?`)}>
          Resume
        </button>
      ) : null}
      {ENDED.includes(status) && status !== 'cancelled' && failed > 0 ? (
        <button type="button" onClick={() => act('retry', `Start a new job over the ${failed} failed parts of ${job.jobId}?`)}>
          Retry failed parts
        </button>
      ) : null}
      <span role="status">{note}</span>
      <ErrorNote error={error} />
    </div>
  );
}

function ResultsList({ jobId }: { jobId: string }) {
  const results = usePoll(() => api<Results>('GET', `/v1/jobs/${jobId}/results?expiresInSeconds=3600`), `results-${jobId}`, { live: false });
  const outputs = (results.data?.entries ?? []).flatMap((e) => e.outputs.map((o) => ({ ...o, stage: e.stage, part: e.part })));
  return (
    <>
      <ErrorNote error={results.error} />
      <p>
        {outputs.length} output{outputs.length === 1 ? '' : 's'}
        {outputs.length > 100 ? ' (the first 100 listed)' : ''}; links are valid for an hour.
      </p>
      <ul class="results">
        {outputs.slice(0, 100).map((o) => (
          <li key={o.key}>
            <a href={o.url} download>
              {o.key.split('/').slice(-3).join('/')}
            </a>{' '}
            ({o.stage} part {o.part}, {bytes(o.bytes)})
          </li>
        ))}
      </ul>
    </>
  );
}

/** One job: its status and actions, the stage graph with live counts, parts, results and report. */
export function JobPage({ jobId, query, session }: { jobId: string; query: URLSearchParams; session: SessionInfo }) {
  const job = usePoll(() => api<Job>('GET', `/v1/jobs/${jobId}`), `job-${jobId}`, { intervalMs: 5000 });
  const live = !ENDED.includes(job.data?.status ?? 'running');
  const progress = usePoll(() => api<Progress>('GET', `/v1/jobs/${jobId}/progress`), `progress-${jobId}`, { live });
  const j = job.data;
  if (!j) return <ErrorNote error={job.error} />;
  const status = progress.data?.status ?? j.status;
  const stages = progress.data?.stages ?? [];
  const pace = jobPace({ ...j, status, progress: stages });
  const temporal = session.temporalUi ? `${session.temporalUi.url}/namespaces/${encodeURIComponent(session.temporalUi.namespace)}/workflows/${encodeURIComponent(j.workflowId)}` : undefined;
  return (
    <>
      <h1>
        Job <code>{j.jobId}</code> <Status status={status} />
      </h1>
      <p class="meta">
        pipeline <strong>{j.pipelineName}</strong> · fleet <a href={`#/fleets/${j.fleet}`}>{j.fleet}</a> · priority {j.priority ?? j.definition.priority ?? 1} · created {time(j.createdAt)} · started {time(j.startedAt)} · finished{' '}
        {time(progress.data?.finishedAt ?? j.finishedAt)} · {pace.etaMs === 0 ? 'ended' : `ETA ${duration(pace.etaMs)}`}
        {j.parentJobId ? (
          <>
            {' '}
            · retry of <a href={`#/jobs/${j.parentJobId}`}>{j.parentJobId}</a>
          </>
        ) : null}
        {temporal ? (
          <>
            {' '}
            ·{' '}
            <a href={temporal} target="_blank" rel="noreferrer">
              open in the Temporal UI
            </a>
          </>
        ) : null}
      </p>
      {progress.data?.error ?? j.error ? <p class="error">{progress.data?.error ?? j.error}</p> : null}
      <Actions job={j} progress={progress.data} onDone={() => (progress.refresh(), job.refresh())} />
      {/* The API tunes a job under way, paused too (raise concurrency before resuming); not one that has not started. */}
      {TUNABLE.includes(status) ? <TuneForm job={j} onDone={() => job.refresh()} /> : null}
      <Section title="Stages">
        <Dag stages={j.definition.stages} progress={stages} />
        <div class="bars">
          {stages.map((s) => (
            <StageBar key={s.stageId} stage={s} />
          ))}
        </div>
      </Section>
      <Section title="Parts" id="parts">
        <PartsTable jobId={jobId} stages={j.definition.stages} query={query} live={live} />
      </Section>
      {status === 'succeeded' ? (
        <Section title="Results">
          <ResultsList jobId={jobId} />
        </Section>
      ) : null}
      <Section title="Report">
        <ReportView jobId={jobId} live={live} />
      </Section>
    </>
  );
}
