import type { S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { MAX_MESSAGE_BYTES, type TaskMessage } from '../../common/messages';
import { compilePipeline, compilePipelineObject } from '../../pipeline';
import {
  COMPLETION_HEADER_BYTES,
  jsonBytes,
  MESSAGE_BUDGET_BYTES,
  PART_COMPLETION_MAX_BYTES,
  PART_OUTPUTS_MAX,
  PART_RESULT_MAX_BYTES,
  PIPELINE_DEF_MAX_BYTES,
  PIPELINE_SOURCE_MAX_BYTES,
  SQS_MESSAGE_MAX_BYTES,
  STAGE_PARAMS_MAX_BYTES,
  utf8Bytes,
} from '../../pipeline/limits';
import { runPart } from '../../worker/fleet/runner';
import { createTaskRegistry } from '../../worker/registry';
import { defineTask, type TaskContext } from '../../worker/task';

const head = { apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'sizes' };

describe('byte lengths without Buffer', () => {
  test.each(['', 'plain ascii', 'é and ü', '€ 3 bytes', 'emoji 😀 4 bytes', 'lone \ud800 surrogate', 'trailing \udc00', '\u07ff\u0800\uffff'])('utf8Bytes(%j) is what Buffer counts', (text) => {
    expect(utf8Bytes(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  test('jsonBytes is the UTF-8 length of JSON.stringify; 0 for what JSON leaves out', () => {
    const value = { a: 'é€😀', b: [1, null, true], c: '"quoted"\n' };
    expect(jsonBytes(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
    expect(jsonBytes(undefined)).toBe(0);
  });
});

describe('the limits fit the services they protect', () => {
  test('SQS and the packers agree: one budget, below 256 KiB', () => {
    expect(SQS_MESSAGE_MAX_BYTES).toBe(262_144);
    expect(MESSAGE_BUDGET_BYTES).toBe(MAX_MESSAGE_BYTES);
    expect(MESSAGE_BUDGET_BYTES).toBeLessThan(SQS_MESSAGE_MAX_BYTES);
  });

  test('params leave room for 10 packed parts; a completion entry fits a message alone; results pack by the dozen', () => {
    expect(MESSAGE_BUDGET_BYTES - STAGE_PARAMS_MAX_BYTES).toBeGreaterThanOrEqual(10 * 8 * 1024);
    expect(PART_COMPLETION_MAX_BYTES + COMPLETION_HEADER_BYTES).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    expect(Math.floor(PART_COMPLETION_MAX_BYTES / PART_RESULT_MAX_BYTES)).toBeGreaterThanOrEqual(12);
    // 1,000 output references of a typical 150-byte key fit beside the largest result.
    expect(PART_OUTPUTS_MAX * 150 + PART_RESULT_MAX_BYTES).toBeLessThan(PART_COMPLETION_MAX_BYTES);
    // Temporal refuses payloads above 2 MB.
    expect(PIPELINE_DEF_MAX_BYTES).toBeLessThanOrEqual(2_000_000 / 4);
  });
});

describe('compile refuses what would not fit', () => {
  test('params of 300 KB: the field, its size and the limit, with its line', () => {
    const yaml = ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: big', 'stages:', '  - id: a', '    task: noop', '  - id: b', '    task: noop', `    params: { blob: "${'x'.repeat(307_189)}" }`, ''].join('\n');
    const r = compilePipeline(yaml);
    expect(r).toEqual({
      ok: false,
      problems: [{ path: 'stages[1].params', line: 9, message: "307,200 bytes, over the limit of 65,536 bytes (a task message must fit SQS's 256 KiB)" }],
    });
  });

  test('a params problem is listed with the other problems', () => {
    const r = compilePipelineObject({ ...head, stages: [{ id: 'a', task: 'noop', params: { blob: 'x'.repeat(STAGE_PARAMS_MAX_BYTES) } }, { id: 'b', task: 'noop', needs: ['zzz'] }] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.path).sort()).toEqual(['stages[0].params', 'stages[1].needs[0]']);
  });

  test('params just at the limit pass', () => {
    const blob = 'x'.repeat(STAGE_PARAMS_MAX_BYTES - jsonBytes({ blob: '' }));
    expect(compilePipelineObject({ ...head, stages: [{ id: 'a', task: 'noop', params: { blob } }] }).ok).toBe(true);
  });

  test('a compiled definition over 256 KiB, each stage within its own limit', () => {
    const stages = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, task: 'noop', params: { blob: 'x'.repeat(60_000) } }));
    const r = compilePipelineObject({ ...head, stages });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([{ path: '', message: expect.stringMatching(/^the compiled definition is 30\d,\d{3} bytes, over the limit of 262,144 bytes \(.*Temporal.*2 MB/) }]);
  });

  test('text over 1 MiB is refused by its size, unparsed', () => {
    const text = `name: [${'x'.repeat(PIPELINE_SOURCE_MAX_BYTES)}`; // also a syntax error: only the size is reported
    expect(compilePipeline(text)).toEqual({
      ok: false,
      problems: [{ path: '', message: `the definition is ${(PIPELINE_SOURCE_MAX_BYTES + 7).toLocaleString('en-US')} bytes, over the limit of 1,048,576 bytes (a pipeline definition is a few stages; data belongs in the job input)` }],
    });
  });
});

describe('the fleet fails a part whose result or outputs would not fit, never retried', () => {
  /** An S3 that accepts every put: the runner's limits are under test, not S3. */
  const s3 = { send: async () => ({}) } as unknown as S3Client;
  const message: TaskMessage = {
    v: 1, type: 'task', jobId: 'j', stageId: 's', task: 't', params: {}, bucket: 'b', completionQueueUrl: 'q', timeoutMs: 60_000, sentAt: 0,
    parts: [{ part: 0, attempt: 1, inputs: [], outputPrefix: 'jobs/j/stages/s/parts/0/' }],
  };
  const run = async (fn: (ctx: TaskContext) => Promise<unknown>) => {
    const registry = createTaskRegistry([defineTask({ name: 't', run: (_p, ctx) => fn(ctx) })]);
    const outcome = await runPart({ message, part: message.parts[0]!, receivedAt: 0, receiveCount: 1, registry, s3, log: pino({ level: 'silent' }), controller: new AbortController() });
    if (outcome.kind !== 'result') throw new Error('aborted');
    return outcome.result;
  };

  test('a result over 16 KiB', async () => {
    const r = await run(async () => ({ blob: 'x'.repeat(PART_RESULT_MAX_BYTES) }));
    expect(r).toMatchObject({ status: 'failed', error: { type: 'ResultTooLargeError', retryable: false, message: "the task's result: 16,395 bytes, over the limit of 16,384 bytes (a part result is a small summary; write larger data with ctx.writeOutput)" } });
  });

  test('output 1,001 is refused when written', async () => {
    const r = await run(async (ctx) => {
      for (let i = 0; i <= PART_OUTPUTS_MAX; i++) await ctx.writeOutput(`o-${i}`, 'x');
      return undefined;
    });
    expect(r).toMatchObject({ status: 'failed', error: { type: 'ResultTooLargeError', retryable: false, message: expect.stringContaining('"o-1000" would be output 1001, over the limit of 1000 outputs per part') } });
  });

  test('outputs that make the completion entry too large: failed without them, so the failure itself fits', async () => {
    const r = await run(async (ctx) => {
      for (let i = 0; i < PART_OUTPUTS_MAX; i++) await ctx.writeOutput(`${'n'.repeat(250)}-${i}`, 'x');
      return { ok: true };
    });
    expect(r).toMatchObject({ status: 'failed', outputs: [], error: { type: 'ResultTooLargeError', retryable: false, message: expect.stringMatching(/completion entry \(result and 1000 outputs\): [\d,]+ bytes, over the limit of 202,752 bytes/) } });
    expect(jsonBytes(r)).toBeLessThanOrEqual(PART_COMPLETION_MAX_BYTES);
  });

  test('1,000 outputs of ordinary names succeed', async () => {
    const r = await run(async (ctx) => {
      for (let i = 0; i < PART_OUTPUTS_MAX; i++) await ctx.writeOutput(`o-${i}.csv`, 'x');
      return { ok: true };
    });
    expect(r).toMatchObject({ status: 'succeeded', result: { ok: true } });
    expect(r.outputs).toHaveLength(PART_OUTPUTS_MAX);
  });
});
