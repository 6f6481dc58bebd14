import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { execPolicyFromSetting } from '../../../worker/builtin/exec-policy';
import { createFleetWorker } from '../../../worker/fleet';
import { loadTaskModule } from '../../../worker/load-tasks';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
};

/** `batchgrid fleet-worker`: runs a fleet worker until SIGTERM/SIGINT, then drains and exits 0. */
export function register(program: Command): void {
  program
    .command('fleet-worker')
    .description('run a fleet worker: take task parts from the fleet queue, run their handlers, post completions')
    .option('--fleet <name>', 'fleet (input queue) to serve', 'default')
    .option('--tasks <module>', 'compiled JavaScript module exporting defineTask(…) handlers, added to the built-ins (relative to the current directory)')
    .option('--concurrency <n>', 'parts run in parallel (default: 4)', positiveInt)
    .option('--worker-id <id>', 'worker id in completions and events (default: <host>-<pid>-<random>)')
    .option('--grace-ms <ms>', 'on SIGTERM/SIGINT, let running parts finish for this long (default: 30000)', positiveInt)
    .option('--exec-policy <file>', 'what the built-in exec task runs: a policy file of command templates, none, or unrestricted (single-user machines only) (default: BATCHGRID_EXEC_POLICY; unset: every command refused)')
    .option('--visibility-timeout <seconds>', 'how long a received message stays hidden; renewed while its parts run, so a dead worker\'s parts reappear after it (default: 60)', positiveInt)
    .option('--spot', 'the instance is an EC2 spot instance: watch its interruption notices (BATCHGRID_IMDS_ENDPOINT), hand back at once what cannot finish in time, and exit')
    .action(async (opts: { fleet: string; tasks?: string; concurrency?: number; workerId?: string; graceMs?: number; visibilityTimeout?: number; execPolicy?: string; spot?: boolean }) => {
      const tasks = opts.tasks ? loadTaskModule(opts.tasks) : [];
      // Loaded before anything starts: a bad policy file stops the worker with every problem named.
      const execPolicy = opts.execPolicy === undefined ? undefined : execPolicyFromSetting(opts.execPolicy);
      const worker = createFleetWorker({ fleet: opts.fleet, tasks, concurrency: opts.concurrency, workerId: opts.workerId, shutdownGraceMs: opts.graceMs, visibilityTimeoutSeconds: opts.visibilityTimeout, execPolicy, spot: opts.spot });
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          worker.options.log.info({ signal }, 'signal received; draining');
          // A second signal means "now": exit without waiting for the drain.
          process.once(signal, () => process.exit(130));
          worker.stop().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        // A spot notice stops the worker by itself: exit once it has.
        worker.once('spot:notice', () => void worker.stop().then(resolve, resolve));
      });
      await worker.start();
      await stopped;
    });
}
