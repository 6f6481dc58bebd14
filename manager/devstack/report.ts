import type { ServiceReport } from './services';

/** A plain text table of services: name, state, endpoint, notes. */
export function formatTable(rows: ServiceReport[]): string {
  const cells = rows.map((r) => [
    r.service,
    r.state,
    r.endpoint,
    [r.note, r.pid !== undefined ? `pid ${r.pid}` : undefined].filter(Boolean).join('; '),
  ]);
  const header = ['SERVICE', 'STATE', 'ENDPOINT', 'NOTES'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return [header, ...cells].map((c) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
