import type { StageDef, StageProgress } from '../types';

const W = 210;
const H = 96;
const GAP_X = 60;
const GAP_Y = 24;

/** Column of each stage: the length of its longest chain of needs (roots are 0). */
function levels(stages: StageDef[]): Map<string, number> {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const level = new Map<string, number>();
  const visit = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    level.set(id, 0); // a cycle cannot be submitted; this only keeps a bad definition from looping
    const l = Math.max(-1, ...(byId.get(id)?.needs ?? []).map(visit)) + 1;
    level.set(id, l);
    return l;
  };
  stages.forEach((s) => visit(s.id));
  return level;
}

/** The stage DAG as a graph: one box per stage with its mode and live counts, arrows along `needs`. */
export function Dag({ stages, progress }: { stages: StageDef[]; progress: StageProgress[] }) {
  const level = levels(stages);
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const s of stages) {
    const l = level.get(s.id) ?? 0;
    const r = rows.get(l) ?? 0;
    rows.set(l, r + 1);
    pos.set(s.id, { x: 10 + l * (W + GAP_X), y: 10 + r * (H + GAP_Y) });
  }
  const width = 20 + (Math.max(0, ...level.values()) + 1) * (W + GAP_X) - GAP_X;
  const height = 20 + Math.max(1, ...rows.values()) * (H + GAP_Y) - GAP_Y;
  return (
    <svg class="dag" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label="stage graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#666" />
        </marker>
      </defs>
      {stages.flatMap((s) =>
        s.needs.map((n) => {
          const a = pos.get(n);
          const b = pos.get(s.id);
          if (!a || !b) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          return <path key={`${n}-${s.id}`} d={`M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`} fill="none" stroke="#666" marker-end="url(#arrow)" />;
        }),
      )}
      {stages.map((s) => {
        const p = pos.get(s.id)!;
        const g = progress.find((x) => x.stageId === s.id);
        const mode = g?.mode ?? s.chain ?? 'barrier';
        return (
          <g key={s.id} transform={`translate(${p.x},${p.y})`} class={`dag-node status-${g?.status ?? 'pending'}`} data-stage={s.id}>
            <title>{`${s.id} (${s.task}), ${mode}: ${g?.status ?? 'pending'}`}</title>
            <rect width={W} height={H} rx="6" />
            <text x="8" y="18" class="dag-title">
              {s.id}
            </text>
            <text x={W - 8} y="18" text-anchor="end" class="dag-mode">
              {mode}
            </text>
            <text x="8" y="36">
              {s.task} · {g?.status ?? 'pending'}
            </text>
            <text x="8" y="56" class="dag-counts">
              {`queued ${g?.queued ?? 0} · running ${g?.running ?? 0}`}
            </text>
            <text x="8" y="74" class="dag-counts">
              {`ok ${g?.succeeded ?? 0} · failed ${g?.failed ?? 0} · retried ${g?.retried ?? 0}`}
            </text>
            <text x="8" y="90" class="dag-counts">
              {`of ${g?.partsTotal ?? '?'}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
