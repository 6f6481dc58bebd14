import path from 'node:path';
import { z } from 'zod';
import { packageRoot } from './paths';

/** Thrown when an environment variable does not parse; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Bad configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const url = z.string().url();
/** A value that may be unset; set but empty counts as unset. */
const optionalText = z.string().optional().transform((v) => v || undefined);

/**
 * Every setting batchgrid reads from the environment, with its default.
 * The AWS SDK's own variables (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS,
 * AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, …) are honoured as-is.
 */
const schema = z.object({
  /** Folder for the local stack's state and logs. Default: `<repo>/.batchgrid`. */
  BATCHGRID_HOME: z.string().default(() => path.join(packageRoot(), '.batchgrid')),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** Temporal Web UI port of the dev server. Default: 8233. */
  TEMPORAL_UI_PORT: port.default(8233),
  /** Base URL of the Temporal UI the web console links jobs to. Default: http://127.0.0.1:<TEMPORAL_UI_PORT>. */
  TEMPORAL_UI_URL: z.url().optional(),
  /** Task queue of the orchestrator worker (workflows and activities). */
  BATCHGRID_TASK_QUEUE: z.string().default('batchgrid'),
  AWS_REGION: z.string().default('us-east-1'),
  /**
   * `1`: talk to AWS's own endpoints instead of the local emulators on 127.0.0.1 (any other value,
   * or unset: the emulators, unless an AWS_ENDPOINT_URL* says otherwise).
   */
  BATCHGRID_REAL_AWS: z.string().optional().transform((v) => v === '1'),
  /**
   * Read only to tell whether credentials are configured: when every endpoint is a local emulator
   * and it is unset, batchgrid signs with dummy credentials. The SDK reads it (and its siblings) itself.
   */
  AWS_ACCESS_KEY_ID: optionalText,
  /** Endpoint for every AWS service; empty means real AWS. Default: the local servers (S3 below, SQS below, moto for Auto Scaling). */
  AWS_ENDPOINT_URL: url.optional(),
  AWS_ENDPOINT_URL_SQS: url.optional(),
  AWS_ENDPOINT_URL_S3: url.optional(),
  AWS_ENDPOINT_URL_AUTO_SCALING: url.optional(),
  /** Port of the local moto server (S3, SQS, Auto Scaling). Default: 5000. */
  BATCHGRID_MOTO_PORT: port.default(5000),
  /** Port of the local ElasticMQ server (SQS). Default: 9324. */
  BATCHGRID_ELASTICMQ_PORT: port.default(9324),
  /** Which local server answers SQS: `elasticmq` (fast, keeps its queues on disk) or `moto` (in memory). Default: elasticmq. */
  BATCHGRID_SQS_BACKEND: z.enum(['elasticmq', 'moto']).default('elasticmq'),
  /** Port of the local S3 server (versitygw, objects on disk under BATCHGRID_HOME). Default: 9000. */
  BATCHGRID_S3_PORT: port.default(9000),
  /** Which local server answers S3: `versitygw` (keeps objects on disk) or `moto` (in memory). Default: versitygw. */
  BATCHGRID_S3_BACKEND: z.enum(['versitygw', 'moto']).default('versitygw'),
  /** Bucket for job inputs, manifests, interim and final results. */
  BATCHGRID_BUCKET: z.string().min(3).default('batchgrid'),
  /** Prefix for every queue batchgrid creates, so several installations can share an account. */
  BATCHGRID_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{0,20}$/).default('bg'),
  DATABASE_URL: z.string().default('postgres://batchgrid:batchgrid@127.0.0.1:5432/batchgrid'),
  /**
   * How long after a job finishes the orchestrator compacts its per-part rows (store/compaction.ts):
   * a duration such as `1h`, `10m`, `0s`, or `off` to leave compaction to `batchgrid db compact`.
   * Default: 1h (a finished job's parts stay readable row by row for an hour).
   */
  BATCHGRID_COMPACT_AFTER: z.string().regex(/^(off|(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/, 'must be a duration such as 1h, 10m, 0s, or off').refine((v) => v !== '', 'must be a duration such as 1h, 10m, 0s, or off').default('1h'),
  /** Bearer token of the HTTP API; the API refuses to start without one unless in dev mode. */
  BATCHGRID_API_TOKEN: z.string().min(16).optional(),
  BATCHGRID_API_PORT: port.default(8080),
  /**
   * What the built-in `exec` task runs on this fleet worker: a policy file of command templates
   * (YAML or JSON, `kind: ExecPolicy`), `none` (exec not registered), or `unrestricted` (raw
   * command lists from pipelines: single-user machines only). Default: unset, so exec refuses
   * every command (no templates declared).
   */
  BATCHGRID_EXEC_POLICY: z.string().optional(),
  /** Removed (checked program names only): a fleet worker refuses to start while it is set; use BATCHGRID_EXEC_POLICY. */
  BATCHGRID_EXEC_ALLOW: z.string().optional(),
  /** A fleet worker's machine id in its events (on EC2: the instance id, from IMDSv2). Default: `<host>:<pid>`. */
  BATCHGRID_INSTANCE_ID: optionalText,
  /**
   * The Auto Scaling group of a fleet worker's EC2 instance: with it and an EC2 instance id in
   * BATCHGRID_INSTANCE_ID, the worker protects its instance from scale-in while busy and drains on
   * the scale-in lifecycle hook (worker/fleet/asg-lifecycle.ts). Default: unset (off).
   */
  BATCHGRID_ASG_NAME: optionalText,
  /** The scale-in lifecycle hook of BATCHGRID_ASG_NAME that a draining worker completes. Default: `batchgrid-drain`. */
  BATCHGRID_ASG_LIFECYCLE_HOOK: optionalText,
  /**
   * The EC2 instance metadata service (IMDSv2) a fleet worker asks for spot interruption notices
   * when spot watching is on (`fleet-worker --spot`). Only EC2 has the default; tests run a fake on 127.0.0.1.
   */
  BATCHGRID_IMDS_ENDPOINT: url.default('http://169.254.169.254'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & {
  /** Resolved endpoints: undefined means the SDK's own resolution (real AWS). */
  endpoints: { s3?: string; sqs?: string; autoScaling?: string };
  /** True when every AWS endpoint is a local emulator (loopback). */
  localAws: boolean;
};

/** Parses the environment once; names every bad variable in the error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })));
  }
  const c = parsed.data;
  const real = c.BATCHGRID_REAL_AWS;
  const moto = `http://127.0.0.1:${c.BATCHGRID_MOTO_PORT}`;
  const localSqs = c.BATCHGRID_SQS_BACKEND === 'elasticmq' ? `http://127.0.0.1:${c.BATCHGRID_ELASTICMQ_PORT}` : moto;
  const localS3 = c.BATCHGRID_S3_BACKEND === 'versitygw' ? `http://127.0.0.1:${c.BATCHGRID_S3_PORT}` : moto;
  const base = c.AWS_ENDPOINT_URL ?? (real ? undefined : moto);
  const endpoints = {
    s3: c.AWS_ENDPOINT_URL_S3 ?? (c.AWS_ENDPOINT_URL ?? (real ? undefined : localS3)),
    sqs: c.AWS_ENDPOINT_URL_SQS ?? (c.AWS_ENDPOINT_URL ?? (real ? undefined : localSqs)),
    autoScaling: c.AWS_ENDPOINT_URL_AUTO_SCALING ?? base,
  };
  const localAws = Object.values(endpoints).every((e) => e !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(e));
  return { ...c, endpoints, localAws };
}

let cached: Config | undefined;
/** The process-wide configuration, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
