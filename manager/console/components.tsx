import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { count } from './format';
import type { StageProgress } from './types';

/** A status as a coloured word (colour is never the only cue: the word is there). */
export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/** One stage's parts as a bar: succeeded, failed, running, queued, retrying, over its total (unknown total: over what is known). */
export function StageBar({ stage }: { stage: StageProgress }) {
  const known = stage.done + stage.inFlight + stage.retryWaiting;
  const total = Math.max(stage.partsTotal ?? 0, known, 1);
  const pct = (n: number) => `${(100 * n) / total}%`;
  const label = `${stage.stageId}: ${count(stage.succeeded)} succeeded, ${count(stage.failed)} failed, ${count(stage.running)} running, ${count(stage.queued)} queued of ${stage.partsTotal === null ? 'unknown' : count(stage.partsTotal)}`;
  return (
    <div class="stagebar" title={label} role="img" aria-label={label} data-stage={stage.stageId} data-done={stage.done}>
      <span class="seg ok" style={{ width: pct(stage.succeeded) }} />
      <span class="seg bad" style={{ width: pct(stage.failed) }} />
      <span class="seg run" style={{ width: pct(stage.running) }} />
      <span class="seg wait" style={{ width: pct(stage.queued + stage.retryWaiting) }} />
      <span class="stagebar-text">
        {stage.stageId} {count(stage.done)}/{stage.partsTotal === null ? '?' : count(stage.partsTotal)}
      </span>
    </div>
  );
}

/** An API error as a sentence, with its problems listed. */
export function ErrorNote({ error }: { error?: Error & { body?: { problems?: { path: string; message: string; line?: number }[] } } }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {error.message}
      {error.body?.problems?.length ? (
        <ul>
          {error.body.problems.map((p) => (
            <li key={p.path + p.message}>
              <code>{p.path}</code>
              {p.line !== undefined ? ` (line ${p.line})` : ''}: {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** A section with a heading, for the page's outline (and screen readers). */
export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section id={id} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** Previous / next over cursor pages: `stack` holds the cursors of the pages before. */
export function Pager({ page, hasNext, onPrev, onNext }: { page: number; hasNext: boolean; onPrev(): void; onNext(): void }) {
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" onClick={onPrev} disabled={page === 0}>
        ← Previous
      </button>
      <span>page {page + 1}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </nav>
  );
}

export interface ChartProps {
  title: string;
  /** uPlot's columnar data: x values first, then one array per series. */
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  /** Draws on top (markers such as percentiles). */
  draw?: (u: uPlot) => void;
  /** x is time (epoch seconds) or a plain number. Default: time. */
  time?: boolean;
  height?: number;
  xLabel?: string;
  yLabel?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export const colour = (i: number) => PALETTE[i % PALETTE.length]!;

/** A uPlot chart that follows its data (redrawn in place) and its container's width. */
export function Chart({ title, data, series, draw, time = true, height = 220, xLabel, yLabel }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const shape = series.map((s) => s.label).join('|');
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      title,
      width: Math.max(300, el.clientWidth),
      height,
      scales: { x: { time } },
      series: [{ label: xLabel ?? (time ? 'time' : 'x') }, ...series],
      axes: [{ label: xLabel }, { label: yLabel }],
      hooks: { draw: [(u) => drawRef.current?.(u)] },
    };
    plot.current = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, time, height]);
  useEffect(() => plot.current?.setData(data), [data]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}

/** Bars for a histogram series. */
export const bars = () => uPlot.paths.bars!({ size: [0.9, 40] });

/** Steps for a series that holds its value until the next point (a desired capacity). */
export const steps = () => uPlot.paths.stepped!({ align: 1 });

/** A table's header row. */
export function Head({ cols }: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c, i) => (
          <th key={i}>{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** A labelled select of `options`, with a first option `none` ('' : no filter). */
export function Choice({ label, name, value, none, options, onChange }: { label: string; name: string; value: string; none: string; options: readonly string[]; onChange(v: string): void }) {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{none}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
