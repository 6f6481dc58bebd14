import type uPlot from 'uplot';
import { api } from '../api';
import { bars, Chart, colour, ErrorNote, Head, Section, Status } from '../components';
import { bytes, count, duration, money, rate } from '../format';
import { usePoll } from '../hooks';
import type { Charts, Histogram, Percentiles, Report } from '../types';

/** p50 / p95 / p99 as text; dashes before any part finished. */
const pcts = (p: Percentiles | null) => (p ? `${duration(p.p50)} / ${duration(p.p95)} / ${duration(p.p99)}` : '—');

/** Vertical lines at p50/p95/p99 (x in ms) on a histogram. */
function percentileMarks(p: Percentiles | null) {
  return (u: uPlot) => {
    if (!p) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.font = `${12 * devicePixelRatio}px system-ui`;
    (['p50', 'p95', 'p99'] as const).forEach((k, i) => {
      const v = p[k];
      if (v === null) return;
      const x = u.valToPos(v, 'x', true);
      ctx.strokeStyle = ['#2ca02c', '#ff7f0e', '#d62728'][i]!;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(`${k} ${duration(v)}`, x + 4, u.bbox.top + 14 * devicePixelRatio * (i + 1));
    });
    ctx.restore();
  };
}

function HistogramChart({ title, h, p }: { title: string; h: Histogram; p: Percentiles | null }) {
  const width = (h.maxMs - h.minMs) / h.counts.length;
  const xs = h.counts.map((_, i) => h.minMs + (i + 0.5) * width);
  return <Chart title={`${title} (p50 / p95 / p99: ${pcts(p)})`} time={false} xLabel="ms" yLabel="parts" data={[xs, h.counts]} series={[{ label: 'parts', fill: '#1f77b455', stroke: '#1f77b4', paths: bars() }]} draw={percentileMarks(p)} />;
}

/** Stages with `cache: true` once finished: parts reused from the part cache, parts run, run time saved (the CLI report's "part cache"). */
function CacheTable({ stages }: { stages: Report['stages'] }) {
  const cached = stages.filter((s) => s.cache);
  if (cached.length === 0) return null;
  return (
    <Section title="Part cache">
      <p class="meta">Reused: a part with the same task, handler version, params and input bytes as an earlier one, whose outputs were taken without running it.</p>
      <table class="cache">
        <Head cols={['Stage', 'Reused', 'Ran', 'Run time saved']} />
        <tbody>
          {cached.map((s) => (
            <tr key={s.stageId} data-stage={s.stageId} data-hits={s.cache!.hits} data-misses={s.cache!.misses}>
              <td>{s.stageId}</td>
              <td>{count(s.cache!.hits)}</td>
              <td>{count(s.cache!.misses)}</td>
              <td>{duration(s.cache!.savedMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

/** The job's performance report as charts, with the tables beside them. */
export function ReportView({ jobId, live }: { jobId: string; live: boolean }) {
  const report = usePoll(() => api<Report>('GET', `/v1/jobs/${jobId}/report?slowest=10`), `report-${jobId}`, { live, intervalMs: 15_000 });
  const charts = usePoll(() => api<Charts>('GET', `/v1/jobs/${jobId}/charts?buckets=60`), `charts-${jobId}`, { live, intervalMs: 15_000 });
  const r = report.data;
  const c = charts.data;
  const xs = c?.times.map((t) => t / 1000) ?? [];
  const perSecond = (n: number) => n / ((c?.bucketMs ?? 1000) / 1000);
  const throughput = c ? c.times.map((_, i) => perSecond(c.finished.reduce((n, s) => n + (s.counts[i] ?? 0), 0))) : [];
  return (
    <>
      <ErrorNote error={report.error ?? charts.error} />
      {r ? (
        <table class="summary">
          <tbody>
            <tr>
              <th>Parts</th>
              <td>
                {count(r.parts)} ({count(r.succeeded)} succeeded, {count(r.failed)} failed, {count(r.retried)} retried)
              </td>
              <th>Makespan</th>
              <td>{duration(r.makespanMs)}</td>
              <th>Throughput</th>
              <td>{rate(r.throughput)}</td>
            </tr>
            <tr>
              <th>Bytes in / out</th>
              <td>
                {bytes(r.bytesIn)} / {bytes(r.bytesOut)}
              </td>
              <th>Cost so far</th>
              <td class="cost">{r.cost.cost === null ? `no price${r.cost.unpriced.length ? ` (${r.cost.unpriced.join(', ')})` : ''}` : money(r.cost.cost)}</td>
              <th>Run time p50 / p95 / p99</th>
              <td>{pcts(r.runTimeMs)}</td>
            </tr>
          </tbody>
        </table>
      ) : null}
      {c && c.times.length ? (
        <div class="charts">
          <Chart title="Parts finished over time, per stage" yLabel="parts" data={[xs, ...c.finished.map((s) => s.counts)]} series={c.finished.map((s, i) => ({ label: s.stageId, stroke: colour(i), width: 2 }))} />
          <Chart title="Throughput over time (all stages)" yLabel="parts/s" data={[xs, throughput]} series={[{ label: 'parts/s', stroke: '#2ca02c', fill: '#2ca02c22', width: 2 }]} />
          {r ? <HistogramChart title="Run time" h={c.runTime} p={r.runTimeMs} /> : null}
          {r ? <HistogramChart title="Queue wait" h={c.queueWait} p={r.queueWaitMs} /> : null}
          <Chart
            title="Worker utilisation (average busy slots per time bucket)"
            yLabel="busy slots"
            data={[xs, ...c.workers.map((w) => w.busyMs.map((b) => b / c.bucketMs))]}
            series={c.workers.map((w, i) => ({ label: w.workerId, stroke: colour(i), width: 1.5 }))}
          />
        </div>
      ) : null}
      {r ? (
        <>
          <Section title="Stages">
            <table>
              <Head cols={['Stage', 'Status', 'Parts', 'Failed', 'Wall time', 'Throughput', 'Run time p50/p95/p99', 'Queue wait p50/p95/p99', 'Cost']} />
              <tbody>
                {r.stages.map((s) => (
                  <tr key={s.stageId}>
                    <td>{s.stageId}</td>
                    <td>
                      <Status status={s.status} />
                    </td>
                    <td>{count(s.parts)}</td>
                    <td>{count(s.failed)}</td>
                    <td>{duration(s.wallMs)}</td>
                    <td>{rate(s.throughput)}</td>
                    <td>{pcts(s.runTimeMs)}</td>
                    <td>{pcts(s.queueWaitMs)}</td>
                    <td>{s.cost ? `${money(s.cost.cost)} (${s.cost.fleet})` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <CacheTable stages={r.stages} />
          <div class="side-by-side">
            <Section title="Slowest parts">
              <table>
                <Head cols={['Stage', 'Part', 'Run time', 'Worker', 'Attempt', 'Status']} />
                <tbody>
                  {r.slowest.map((p) => (
                    <tr key={`${p.stageId}/${p.part}`}>
                      <td>{p.stageId}</td>
                      <td>{p.part}</td>
                      <td>{duration(p.runTimeMs)}</td>
                      <td>{p.workerId ?? '—'}</td>
                      <td>{p.attempt}</td>
                      <td>
                        <Status status={p.status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
            <Section title="Workers">
              <table>
                <Head cols={['Worker', 'Parts', 'Failed', 'Busy']} />
                <tbody>
                  {r.workers.map((w) => (
                    <tr key={w.workerId}>
                      <td>{w.workerId}</td>
                      <td>{count(w.parts)}</td>
                      <td>{count(w.failed)}</td>
                      <td>{duration(w.busyMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
          </div>
        </>
      ) : null}
    </>
  );
}
