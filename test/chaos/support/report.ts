import fs from 'node:fs';
import path from 'node:path';
import { config } from '../../../common/config';

/** One row of the fault table. */
export interface FaultRow {
  fault: string;
  parts: number;
  lost: number;
  countedTwice: number;
  /** From the service's return (or the signal) to the next increase of succeeded parts, in s; null when none came. */
  progressSeconds: number | null;
  outcome: string;
  /** Wall time of the row, in s. */
  seconds: number;
}

const HEADER = ['fault', 'parts', 'lost', 'counted twice', 'to progress (s)', 'row (s)', 'outcome'];

const cells = (r: FaultRow) => [r.fault, String(r.parts), String(r.lost), String(r.countedTwice), r.progressSeconds === null ? '-' : r.progressSeconds.toFixed(1), r.seconds.toFixed(0), r.outcome];

/** The rows as a plain-text table, columns padded, the outcome last and unpadded. */
export function renderTable(rows: FaultRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Where the last run's table goes: `$BATCHGRID_HOME/chaos/report.txt` (and `.json`). */
export const reportFile = () => path.join(config().BATCHGRID_HOME, 'chaos', 'report.txt');

/** Collects rows as they finish; `write()` prints the whole table and saves it. */
export class FaultReport {
  readonly rows: FaultRow[] = [];
  private readonly startedAt = Date.now();

  add(row: FaultRow): void {
    this.rows.push(row);
    process.stdout.write(`chaos: ${cells(row).join(' | ')}\n`);
  }

  write(): void {
    if (this.rows.length === 0) return;
    const text = `${renderTable(this.rows)}\n\n${this.rows.length} rows in ${((Date.now() - this.startedAt) / 1000).toFixed(0)} s\n`;
    const file = reportFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    fs.writeFileSync(file.replace(/\.txt$/, '.json'), `${JSON.stringify(this.rows, null, 2)}\n`);
    process.stdout.write(`\n${text}(saved to ${file})\n`);
  }
}
