import { condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from './temporal-activities';

/**
 * The hand-rolled Temporal fan-out, written the way Temporal's batch samples are: one activity per
 * part, at most `window` in flight (a sliding window), and continue-as-new before the history grows
 * too long. A run stops starting parts after `partsPerRun` (or when the server suggests it), lets
 * its window drain — activities cannot cross a continue-as-new — and continues from where it stopped.
 */
export interface FanOutArgs {
  parts: number;
  window: number;
  /** Parts a run starts before it continues as new. */
  partsPerRun: number;
  /** First part of this run. */
  offset: number;
  /** Runs before this one in the chain. */
  runsBefore: number;
  /** History events of the runs before this one. */
  eventsBefore: number;
  /** Activities completed by the runs before this one. */
  completedBefore: number;
}

export interface FanOutResult {
  /** Activities completed over the whole chain. */
  completed: number;
  runs: number;
  /** History events summed over every run of the chain. */
  historyEvents: number;
}

const { benchPart } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** Temporal refuses to schedule more than 2,000 pending activities per workflow; stay below. */
const MAX_PENDING = 2000;
/** Well under Temporal's 51,200-event ceiling, with room for the workflow tasks between activities. */
const MAX_EVENTS = 40_000;

export async function benchFanOut(args: FanOutArgs): Promise<FanOutResult> {
  const window = Math.min(args.window, MAX_PENDING);
  const end = Math.min(args.parts, args.offset + args.partsPerRun);
  let inFlight = 0;
  let completed = 0;
  let failure: unknown;
  let next = args.offset;
  const full = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= MAX_EVENTS;
  while (next < end && !full()) {
    await condition(() => inFlight < window || failure !== undefined);
    if (failure !== undefined) throw failure;
    inFlight += 1;
    benchPart(next).then(
      () => {
        inFlight -= 1;
        completed += 1;
      },
      (err: unknown) => (failure = err),
    );
    next += 1;
  }
  await condition(() => inFlight === 0 || failure !== undefined);
  if (failure !== undefined) throw failure;
  const eventsBefore = args.eventsBefore + workflowInfo().historyLength;
  if (next < args.parts) {
    return continueAsNew<typeof benchFanOut>({ ...args, offset: next, runsBefore: args.runsBefore + 1, eventsBefore, completedBefore: args.completedBefore + completed });
  }
  return { completed: args.completedBefore + completed, runs: args.runsBefore + 1, historyEvents: eventsBefore };
}
