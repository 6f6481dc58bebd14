import { useState } from 'preact/hooks';
import { api } from '../api';
import { Choice, ErrorNote, Head, Pager, Status } from '../components';
import { bytes, duration, time } from '../format';
import { go, usePoll } from '../hooks';
import { PART_STATUSES, type Part, type StageDef } from '../types';

/**
 * A job's parts, 50 a page, filtered by stage and status (kept in the URL, so a filtered view can
 * be shared); each page is one keyset query, so a 1,000,000-part job pages like a small one.
 */
export function PartsTable({ jobId, stages, query, live }: { jobId: string; stages: StageDef[]; query: URLSearchParams; live: boolean }) {
  const stage = query.get('stage') ?? '';
  const status = query.get('status') ?? '';
  const [cursors, setCursors] = useState<string[]>([]);
  const params = new URLSearchParams({ limit: '50' });
  if (stage) params.set('stage', stage);
  if (status) params.set('status', status);
  const cursor = cursors.at(-1);
  if (cursor) params.set('cursor', cursor);
  const url = `/v1/jobs/${jobId}/parts?${params}`;
  const parts = usePoll(() => api<{ parts: Part[]; nextCursor?: string }>('GET', url), url, { live, intervalMs: 3000 });
  const filter = (name: 'stage' | 'status', value: string) => {
    setCursors([]);
    go(`jobs/${jobId}`, { stage, status, [name]: value });
  };
  return (
    <>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="filter parts">
        <Choice label="Stage" name="part-stage" value={stage} none="all" options={stages.map((st) => st.id)} onChange={(v) => filter('stage', v)} />
        <Choice label="Status" name="part-status" value={status} none="all" options={PART_STATUSES} onChange={(v) => filter('status', v)} />
      </form>
      <ErrorNote error={parts.error} />
      <table class="parts">
        <Head cols={['Stage', 'Part', 'Status', 'Attempts', 'Worker', 'Sent', 'Queue wait', 'Run time', 'Bytes in / out', 'Error']} />
        <tbody>
          {(parts.data?.parts ?? []).map((p) => (
            <tr key={`${p.stageId}/${p.part}`} data-part={p.part} data-status={p.status}>
              <td>{p.stageId}</td>
              <td>{p.part}</td>
              <td>
                <Status status={p.status} />
              </td>
              <td>{p.attempt}</td>
              <td>{p.workerId ?? '—'}</td>
              <td>{time(p.sentAt)}</td>
              <td>{duration(p.queueWaitMs)}</td>
              <td>{duration(p.runTimeMs)}</td>
              <td>
                {bytes(p.bytesIn)} / {bytes(p.bytesOut)}
              </td>
              <td class="part-error">
                {p.error ? (
                  <details>
                    <summary>
                      {p.error.type}: {p.error.message.split('\n')[0]}
                    </summary>
                    <pre>{p.error.message}</pre>
                  </details>
                ) : (
                  ''
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {parts.data && parts.data.parts.length === 0 ? <p>No part matches.</p> : null}
      <Pager page={cursors.length} hasNext={parts.data?.nextCursor !== undefined} onPrev={() => setCursors(cursors.slice(0, -1))} onNext={() => parts.data?.nextCursor && setCursors([...cursors, parts.data.nextCursor])} />
    </>
  );
}
