import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { createLogger } from '../../../common/logger';
import { execPolicyFromSetting } from '../../../worker/builtin/exec-policy';
import { fleetTaskRegistry } from '../../../worker/fleet/options';
import { loadTaskModule } from '../../../worker/load-tasks';
import { sameFailure } from '../../../worker/replay';
import { renderPart } from '../render/part';
import { printJson, processIo, runCommand, type CliIo } from '../render/io';

export interface PartCommandOptions {
  json?: boolean;
  /** Run the part's handler on this machine. */
  run?: boolean;
  /** The task module the fleet runs (for a task that is not built in). */
  tasks?: string;
  /** Where `--run` writes; default `./part-<job>-<stage>-<part>/`. */
  out?: string;
  execPolicy?: string;
}

const partNumber = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`part must be a whole number >= 0 (got ${JSON.stringify(value)}).`);
  return n;
};

/**
 * `batchgrid part JOB STAGE PART`: every attempt of a part, its inputs and outputs; with `--run`,
 * its handler run here on downloaded inputs (exit 0 when it succeeds, 1 when it fails as it did on the fleet).
 */
export async function partCommand(jobId: string, stageId: string, partText: string, opts: PartCommandOptions, io: CliIo = processIo): Promise<number> {
  return runCommand(io, async (ctx) => {
    const part = partNumber(partText);
    if (!opts.run && (opts.tasks !== undefined || opts.out !== undefined || opts.execPolicy !== undefined)) throw new InvalidArgumentError('--tasks, --out and --exec-policy go with --run.');
    if (!opts.run) {
      const details = await (await ctx.client()).part(jobId, stageId, part);
      if (opts.json) return void printJson(io, details);
      io.out(`${renderPart(details)}\n`);
      return;
    }
    // The handlers and the policy are loaded before anything is downloaded: a bad module is named at once.
    const tasks = opts.tasks ? loadTaskModule(opts.tasks) : [];
    const registry = fleetTaskRegistry({ tasks, execPolicy: opts.execPolicy === undefined ? undefined : execPolicyFromSetting(opts.execPolicy) });
    const outDir = path.resolve(opts.out ?? `part-${jobId}-${stageId}-${part}`);
    const { details, replay } = await (await ctx.client()).runPartLocally(jobId, stageId, part, { registry, outDir, log: createLogger('part') });
    const r = replay.result;
    const fleetError = [...details.attempts].reverse().find((a) => a.error)?.error ?? null;
    if (opts.json) {
      printJson(io, { part: details, local: { ...r, inputFiles: replay.inputFiles, outputFiles: replay.outputFiles, reportFile: replay.reportFile }, sameErrorAsFleet: r.error ? sameFailure(r.error, fleetError) : null });
      return r.status === 'succeeded' ? 0 : 1;
    }
    io.out(`ran part ${part} of stage ${stageId} (task ${details.task}, attempt ${replay.result.attempt}) here in ${r.finishedAt - r.startedAt} ms: ${r.status}\n`);
    io.out(`inputs: ${replay.inputFiles.filter(Boolean).length} of ${details.inputs.length} downloaded to ${path.join(outDir, 'inputs')}\n`);
    for (const f of replay.outputFiles) io.out(`output: ${f.file} (${f.bytes} bytes)\n`);
    if (r.result !== undefined) io.out(`result: ${JSON.stringify(r.result)}\n`);
    if (r.error) {
      io.out(`error: ${r.error.type} (${r.error.retryable ? 'retryable' : 'not retryable'}): ${r.error.message}\n`);
      if (r.error.stderrTail) io.out(`stderr (tail):\n${r.error.stderrTail.replace(/\n?$/, '\n')}`);
      if (fleetError) io.out(sameFailure(r.error, fleetError) ? 'the same error as on the fleet\n' : `on the fleet it failed with: ${fleetError.type}: ${fleetError.message}\n`);
    }
    io.out(`outcome: ${replay.reportFile}\n`);
    return r.status === 'succeeded' ? 0 : 1;
  });
}

export function register(program: Command): void {
  program
    .command('part')
    .description("one part of a job's stage: every attempt (worker, timings, error, exec's stderr tail), its inputs and outputs; --run runs its handler here")
    .argument('<job>', 'job id')
    .argument('<stage>', 'stage id')
    .argument('<part>', 'part number (0-based, as in the manifest)')
    .option('--json', 'print the part as JSON only')
    .option('--run', "download the part's inputs and run its handler on this machine with the stage's params; outputs go to a local folder, nothing is recorded")
    .option('--tasks <module>', "with --run: the compiled task module the fleet runs (the built-ins are always there)")
    .option('--out <dir>', 'with --run: where inputs/, outputs/ and part.json go (default: ./part-<job>-<stage>-<part>)')
    .option('--exec-policy <file>', "with --run: the exec policy of the part's fleet (default: BATCHGRID_EXEC_POLICY)")
    .action(async (jobId: string, stageId: string, part: string, opts: PartCommandOptions) => {
      process.exitCode = await partCommand(jobId, stageId, part, opts);
    });
}
