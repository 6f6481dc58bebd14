import type { Pool } from 'pg';
import type { AwsClients } from '../common/aws';
import type { Logger } from '../common/logger';

/** What the orchestrator's activities need; tests pass their own (e.g. a pool on a test schema). */
export interface ActivityDeps {
  db: Pool;
  aws: AwsClients;
  /** Prefix of every queue name (config BATCHGRID_QUEUE_PREFIX). */
  queuePrefix: string;
  log: Logger;
  /** Bucket of a job whose workflow input names none. Default: config BATCHGRID_BUCKET. */
  bucket?: string;
}
