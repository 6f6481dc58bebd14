import type { PartDetails } from '../../client';
import { formatBytes, formatElapsed, formatTable, formatTimestamp } from './format';

/** One input as a reader wants it: `s3://bucket/key`, its byte range and size. */
function inputLine(bucket: string, ref: PartDetails['inputs'][number]): string {
  const range = ref.start !== undefined || ref.end !== undefined ? ` bytes ${ref.start ?? 0}–${ref.end ?? 'end'}` : '';
  return `s3://${bucket}/${ref.key}${range}${ref.bytes !== undefined ? ` (${formatBytes(ref.bytes)})` : ''}`;
}

const indent = (text: string, by = '    ') => text.replace(/\n+$/, '').split('\n').map((l) => `${by}${l}`).join('\n');

/** `batchgrid part` as text: the part, its inputs and outputs, a table of attempts, then each attempt's error in full. */
export function renderPart(p: PartDetails, options: { inputsShown?: number } = {}): string {
  const shown = options.inputsShown ?? 20;
  const n = p.attempts.length;
  const lines = [
    `job ${p.jobId}  stage ${p.stageId} (task ${p.task})  part ${p.part}: ${p.status === 'queued' ? 'in flight' : p.status.replace('_', ' ')}, ${n} attempt${n === 1 ? '' : 's'}`,
    `params: ${JSON.stringify(p.params)}`,
    `inputs (${p.inputs.length}${p.inputsKey ? `, listed in s3://${p.bucket}/${p.inputsKey}` : ''}):`,
    ...p.inputs.slice(0, shown).map((ref) => `  ${inputLine(p.bucket, ref)}`),
    ...(p.inputs.length > shown ? [`  … ${p.inputs.length - shown} more (--json lists them all)`] : []),
    `outputs (${p.outputs.length}):`,
    ...p.outputs.map((o) => `  s3://${p.bucket}/${o.key} (${formatBytes(o.bytes)})`),
    `result: ${p.result === null || p.result === undefined ? '-' : JSON.stringify(p.result)}`,
    '',
    formatTable(
      ['attempt', 'outcome', 'worker', 'sent (UTC)', 'started (UTC)', 'queue wait', 'run', 'error'],
      p.attempts.map((a) => [
        String(a.attempt),
        a.outcome === 'inFlight' ? 'in flight' : a.outcome,
        a.workerId ?? '-',
        formatTimestamp(a.sentAt),
        formatTimestamp(a.startedAt),
        a.queueWaitMs === null ? '-' : formatElapsed(a.queueWaitMs),
        a.runMs === null ? '-' : formatElapsed(a.runMs),
        a.error ? a.error.type : '-',
      ]),
    ),
  ];
  for (const a of p.attempts.filter((x) => x.error)) {
    const e = a.error!;
    lines.push('', `attempt ${a.attempt}: ${e.type} (${e.retryable ? 'retryable' : 'not retryable'})`, indent(e.message));
    if (e.stderrTail) lines.push('  stderr (tail):', indent(e.stderrTail));
  }
  return lines.join('\n');
}
