import { ActivityCancellationDetails, CancelledFailure } from '@temporalio/common';
import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';

/** How a test drives an activity: its attempt number, and a controller to cancel it with a reason. */
export interface ActivityRun<T> {
  result: Promise<T>;
  /** Aborts the activity's cancellation signal, as the SDK does, with these details. */
  cancel(details: ConstructorParameters<typeof ActivityCancellationDetails>[0]): void;
}

/**
 * Runs an activity function inside an activity Context, the way the Temporal worker does (the
 * SDK's own MockActivityEnvironment does the same; the testing package is not a dependency).
 */
export function runActivity<T>(fn: () => Promise<T>, options: { attempt?: number } = {}): ActivityRun<T> {
  const abort = new AbortController();
  const holder: { details?: ActivityCancellationDetails } = {};
  let reject: (err: unknown) => void = () => undefined;
  const cancelled = new Promise<never>((_, r) => (reject = r));
  cancelled.catch(() => undefined);
  const info = { attempt: options.attempt ?? 1, activityId: 'test', activityType: 'test', workflowExecution: { workflowId: 'test', runId: 'test' } } as unknown as Info;
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const meter = { createCounter: () => ({ add() {} }), createHistogram: () => ({ record() {} }), createGauge: () => ({ set() {} }), withTags: () => meter };
  const ctx = new Context(info, cancelled, abort.signal, () => undefined, undefined, quiet as never, meter as never, holder);
  return {
    result: asyncLocalStorage.run(ctx, fn),
    cancel(details) {
      holder.details = new ActivityCancellationDetails(details);
      const err = new CancelledFailure(details?.cancelRequested ? 'CANCELLED' : 'WORKER_SHUTDOWN');
      abort.abort(err);
      reject(err);
    },
  };
}
