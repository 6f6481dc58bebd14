import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../common/logger';
import type { WorkerEvent } from '../../common/messages';
import { retryAws } from '../../common/sqs/retry';

/** Counters a worker reports; see WorkerEvent. */
export type WorkerCounters = Pick<WorkerEvent, 'slots' | 'busySlots' | 'partsDone' | 'partsFailed' | 'bytesIn' | 'bytesOut' | 'uptimeMs' | 'busyMs'>;

export interface EventReporterOptions {
  sqs: SQSClient;
  log: Logger;
  eventsQueueUrl: string;
  workerId: string;
  instanceId: string;
  fleet: string;
  /** Between heartbeats, in ms. */
  heartbeatIntervalMs: number;
  stats: () => WorkerCounters;
}

/** Posts WorkerEvents (start, heartbeats, stop) to the fleet events queue. A lost event is logged, never fatal. */
export class EventReporter {
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: EventReporterOptions) {}

  /** Sends 'start' and begins heartbeats. */
  async start(): Promise<void> {
    await this.send('start');
    this.timer ??= setInterval(() => void this.send('heartbeat'), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  /** Ends heartbeats and sends 'stop'. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.send('stop');
  }

  /** Builds and posts one event; resolves false when it could not be posted. */
  async send(event: WorkerEvent['event']): Promise<boolean> {
    const o = this.options;
    const body: WorkerEvent = { v: 1, type: 'worker', event, workerId: o.workerId, instanceId: o.instanceId, fleet: o.fleet, ...o.stats(), at: Date.now() };
    try {
      await retryAws('SendMessage(worker event)', () => o.sqs.send(new SendMessageCommand({ QueueUrl: o.eventsQueueUrl, MessageBody: JSON.stringify(body) })), {
        log: o.log,
        maxAttempts: 3,
      });
      return true;
    } catch {
      return false;
    }
  }
}
