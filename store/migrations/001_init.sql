-- batchgrid analytics store: jobs, stage runs, task runs (one row per part), fleet workers, scaling.
-- Append-only: never edit a migration that has shipped; add 002_….sql instead.
-- Tables are unqualified: they land in the connection's search_path (tests use their own schema).

CREATE TABLE jobs (
  job_id        text PRIMARY KEY,
  pipeline_name text NOT NULL,
  definition    jsonb NOT NULL,
  status        text NOT NULL CHECK (status IN ('scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
  bucket        text NOT NULL,
  -- S3 key prefix of the job's raw input, e.g. jobs/<id>/input/
  input_prefix  text NOT NULL,
  workflow_id   text NOT NULL,
  parent_job_id text NULL REFERENCES jobs (job_id),
  fleet         text NOT NULL,
  -- Millisecond precision so a JS Date read back is an exact paging cursor.
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  start_at      timestamptz NULL,
  started_at    timestamptz NULL,
  finished_at   timestamptz NULL,
  summary       jsonb NULL,
  error         text NULL
);
CREATE INDEX jobs_pipeline_created_idx ON jobs (pipeline_name, created_at DESC, job_id DESC);
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at DESC, job_id DESC);
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, job_id DESC);
CREATE INDEX jobs_parent_idx ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;

CREATE TABLE stage_runs (
  job_id               text NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  stage_id             text NOT NULL,
  status               text NOT NULL CHECK (status IN ('pending', 'planning', 'running', 'succeeded', 'failed', 'cancelled')),
  task                 text NOT NULL,
  mode                 text NOT NULL CHECK (mode IN ('barrier', 'stream', 'gather', 'input')),
  parts_total          int NULL,
  manifest_key         text NULL,
  completion_queue_url text NULL,
  started_at           timestamptz NULL,
  finished_at          timestamptz NULL,
  summary              jsonb NULL,
  error                text NULL,
  PRIMARY KEY (job_id, stage_id)
);

-- One row per part: the latest attempt's state. Written only by the orchestrator (store/task-runs.ts).
CREATE TABLE task_runs (
  job_id      text NOT NULL,
  stage_id    text NOT NULL,
  part        int NOT NULL,
  attempt     int NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'retry_wait', 'succeeded', 'failed')),
  worker_id   text NULL,
  sent_at     timestamptz NULL,
  received_at timestamptz NULL,
  started_at  timestamptz NULL,
  finished_at timestamptz NULL,
  deadline_at timestamptz NULL,
  retry_at    timestamptz NULL,
  bytes_in    bigint NOT NULL DEFAULT 0,
  bytes_out   bigint NOT NULL DEFAULT 0,
  outputs     jsonb NULL,
  result      jsonb NULL,
  error       jsonb NULL,
  -- nextval('task_runs_success_seq') when the part succeeds: stream chaining reads parts in this order.
  success_seq bigint NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, stage_id, part),
  FOREIGN KEY (job_id, stage_id) REFERENCES stage_runs (job_id, stage_id) ON DELETE CASCADE
);
CREATE SEQUENCE task_runs_success_seq AS bigint;
CREATE INDEX task_runs_status_idx ON task_runs (job_id, stage_id, status);
CREATE INDEX task_runs_success_seq_idx ON task_runs (job_id, stage_id, success_seq) WHERE success_seq IS NOT NULL;
CREATE INDEX task_runs_slowest_idx ON task_runs (job_id, stage_id, (finished_at - started_at) DESC)
  WHERE status IN ('succeeded', 'failed');

-- Fed by fleet worker events (the fleet has no database access); counters are cumulative per worker.
CREATE TABLE workers (
  worker_id    text PRIMARY KEY,
  fleet        text NOT NULL,
  instance_id  text NOT NULL,
  slots        int NOT NULL DEFAULT 0,
  busy_slots   int NOT NULL DEFAULT 0,
  parts_done   bigint NOT NULL DEFAULT 0,
  parts_failed bigint NOT NULL DEFAULT 0,
  bytes_in     bigint NOT NULL DEFAULT 0,
  bytes_out    bigint NOT NULL DEFAULT 0,
  busy_ms      bigint NOT NULL DEFAULT 0,
  uptime_ms    bigint NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  stopped_at   timestamptz NULL,
  status       text NOT NULL DEFAULT 'up' CHECK (status IN ('up', 'stopped', 'lost'))
);
CREATE INDEX workers_fleet_seen_idx ON workers (fleet, last_seen_at DESC);

CREATE TABLE scaling_decisions (
  id        bigserial PRIMARY KEY,
  fleet     text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  visible   int NOT NULL,
  in_flight int NOT NULL,
  workers   int NOT NULL,
  desired   int NOT NULL,
  previous  int NOT NULL,
  reason    text NOT NULL
);
CREATE INDEX scaling_decisions_fleet_at_idx ON scaling_decisions (fleet, at DESC);

CREATE TABLE fleets (
  fleet      text PRIMARY KEY,
  provider   text NOT NULL,
  desired    int NOT NULL,
  min        int NOT NULL,
  max        int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
