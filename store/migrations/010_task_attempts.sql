-- Every failed attempt of a part. task_runs keeps one row per part, its latest attempt, so an
-- earlier failure (the worker, the timings, the error) would be overwritten by the retry that
-- followed; `batchgrid part` shows each attempt. Written in the same statement that applies the
-- failure to task_runs, and only when it applies (a duplicate or stale completion writes nothing).
-- A succeeded attempt is the task_runs row itself.
CREATE TABLE task_attempts (
  job_id      text NOT NULL,
  stage_id    text NOT NULL,
  part        int NOT NULL,
  attempt     int NOT NULL,
  worker_id   text NULL,
  sent_at     timestamptz NULL,
  received_at timestamptz NULL,
  started_at  timestamptz NULL,
  finished_at timestamptz NULL,
  bytes_in    bigint NOT NULL DEFAULT 0,
  bytes_out   bigint NOT NULL DEFAULT 0,
  outputs     jsonb NULL,
  error       jsonb NULL,
  -- When the attempt was to be retried: null for a final failure.
  retry_at    timestamptz NULL,
  PRIMARY KEY (job_id, stage_id, part, attempt),
  FOREIGN KEY (job_id, stage_id) REFERENCES stage_runs (job_id, stage_id) ON DELETE CASCADE
);
