import type { Command } from 'commander';
import type { BatchGridClient } from '../../client';
import { processIo, runWithClient, type CliIo } from '../render/io';

/** A command that asks one job to change course: `batchgrid NAME JOB`. */
interface JobControl {
  description: string;
  /** The client method that asks. */
  method: keyof Pick<BatchGridClient, 'cancel' | 'pause' | 'resume'>;
  /** What the command prints once asked, after `job JOB: `. */
  done(jobId: string): string;
}

/** `batchgrid cancel|pause|resume JOB`, one row each. */
const JOB_CONTROLS = {
  cancel: {
    description: 'cancel a job: no new part is sent, the job ends cancelled',
    method: 'cancel',
    done: () => 'cancel requested; no new part is sent, parts in flight are abandoned',
  },
  pause: {
    description: 'pause a running job: parts in flight finish, no new part is sent',
    method: 'pause',
    done: (jobId) => `pause requested; parts in flight finish, no new part is sent until \`batchgrid resume ${jobId}\``,
  },
  resume: {
    description: 'resume a paused job',
    method: 'resume',
    done: () => 'resume requested',
  },
} as const satisfies Record<string, JobControl>;

export type JobControlName = keyof typeof JOB_CONTROLS;

/** `batchgrid NAME JOB` for one of the job controls; returns the exit code. */
export async function jobControlCommand(name: JobControlName, jobId: string, io: CliIo = processIo): Promise<number> {
  const control: JobControl = JOB_CONTROLS[name];
  return runWithClient(io, async (client) => {
    await client[control.method](jobId);
    io.out(`job ${jobId}: ${control.done(jobId)}\n`);
  });
}

export const cancelCommand = (jobId: string, io?: CliIo) => jobControlCommand('cancel', jobId, io);
export const pauseCommand = (jobId: string, io?: CliIo) => jobControlCommand('pause', jobId, io);
export const resumeCommand = (jobId: string, io?: CliIo) => jobControlCommand('resume', jobId, io);

export function register(program: Command): void {
  for (const [name, control] of Object.entries(JOB_CONTROLS) as [JobControlName, JobControl][]) {
    program
      .command(name)
      .description(control.description)
      .argument('<job>', 'job id')
      .action(async (jobId: string) => {
        process.exitCode = await jobControlCommand(name, jobId);
      });
  }
}
