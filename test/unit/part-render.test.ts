import type { PartDetails } from '../../manager/client';
import { renderPart } from '../../manager/cli/render/part';
import { sameFailure } from '../../worker/replay';

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 0, 0, s));
const attempt = (n: number, outcome: PartDetails['attempts'][number]['outcome'], error: PartDetails['attempts'][number]['error']) => ({
  attempt: n, outcome, workerId: `w${n}`, sentAt: at(n * 10), receivedAt: at(n * 10 + 1), startedAt: at(n * 10 + 1), finishedAt: outcome === 'inFlight' ? null : at(n * 10 + 3),
  queueWaitMs: 1000, runMs: outcome === 'inFlight' ? null : 2000, bytesIn: 10, bytesOut: 0, error, retryAt: outcome === 'retried' ? at(n * 10 + 5) : null, outputs: [],
});

test('a part with a retried exec failure and an attempt in flight: inputs, the table, each error with its stderr tail', () => {
  const text = renderPart(
    {
      jobId: 'j1', stageId: 'sort', task: 'exec', part: 4, status: 'queued', params: { command: 'sort-lines' }, timeoutMs: 60_000, bucket: 'b',
      outputPrefix: 'jobs/j1/stages/sort/parts/4/', inputs: [{ key: 'jobs/j1/input/a.txt', start: 0, end: 100, bytes: 100 }, { key: 'k2' }, { key: 'k3' }], inputsKey: null,
      outputs: [], result: null,
      attempts: [attempt(1, 'retried', { type: 'CommandFailedError', message: "command 'sort' exited with code 2: sort: bad line", retryable: true, stderrTail: 'sort: bad line' }), attempt(2, 'inFlight', null)],
    },
    { inputsShown: 2 },
  );
  expect(text.split('\n').slice(0, 6)).toEqual([
    'job j1  stage sort (task exec)  part 4: in flight, 2 attempts',
    'params: {"command":"sort-lines"}',
    'inputs (3):',
    '  s3://b/jobs/j1/input/a.txt bytes 0–100 (100B)',
    '  s3://b/k2',
    '  … 1 more (--json lists them all)',
  ]);
  expect(text).toMatch(/^\s*1\s+retried\s+w1\s+2026-12-02 00:00:10\s+2026-12-02 00:00:11\s+1\.0s\s+2\.0s\s+CommandFailedError$/m);
  expect(text).toMatch(/^\s*2\s+in flight\s+w2\s.*-\s+-$/m);
  expect(text.endsWith("attempt 1: CommandFailedError (retryable)\n    command 'sort' exited with code 2: sort: bad line\n  stderr (tail):\n    sort: bad line")).toBe(true);
});

test('a replay fails the same way when type and message agree, exec scratch folders aside', () => {
  const fleet = { type: 'CommandFailedError', retryable: true, message: "command 'sh' exited with code 4: reading /tmp/bg-exec-H9jNRo/in/0/out.txt" };
  expect(sameFailure({ ...fleet, message: fleet.message.replace('H9jNRo', 'wvADRd') }, fleet)).toBe(true);
  expect(sameFailure({ ...fleet, message: `${fleet.message}!` }, fleet)).toBe(false);
  expect(sameFailure({ ...fleet, type: 'Error' }, fleet)).toBe(false);
  expect(sameFailure(fleet, null)).toBe(false);
});
