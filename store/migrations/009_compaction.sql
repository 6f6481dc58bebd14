-- Compaction of finished jobs (store/compaction.ts). Once a job has ended, its task_runs rows are
-- needed only by reports and by retries of failed parts: compaction computes what the reports
-- read (per-stage and per-worker aggregates, percentiles, the slowest parts, busy time) once, keeps
-- the failed parts' rows, keeps the run intervals that fleet cost windows clip as two arrays per
-- stage, and deletes the other rows. Reports read the same numbers before and after.
ALTER TABLE jobs ADD COLUMN compacted_at timestamptz NULL;
CREATE INDEX jobs_uncompacted_idx ON jobs (finished_at) WHERE compacted_at IS NULL AND finished_at IS NOT NULL;

CREATE TABLE job_aggregates (
  job_id       text PRIMARY KEY REFERENCES jobs (job_id) ON DELETE CASCADE,
  -- task_runs rows the job had before compaction: one per part of each stage run.
  part_stages  bigint NOT NULL,
  -- store/progress.ts StageProgress counts per stage, store/reports.ts PartStatsRow[], WorkerStatsRow[],
  -- SlowPartRow[] (the slowest COMPACT_SLOWEST_KEPT of each stage), store/cost.ts StageBusyRow[].
  -- json, not jsonb: kept as written, key order included, so a report prints the same bytes.
  progress     json NOT NULL,
  part_stats   json NOT NULL,
  worker_stats json NOT NULL,
  slowest      json NOT NULL,
  stage_busy   json NOT NULL
);

-- The run intervals of a stage's deleted rows (those that ran to their end), element i of one array
-- with element i of the other: what a fleet's busy time in a window clips.
CREATE TABLE stage_run_intervals (
  job_id      text NOT NULL,
  stage_id    text NOT NULL,
  started_at  timestamptz[] NOT NULL,
  finished_at timestamptz[] NOT NULL,
  PRIMARY KEY (job_id, stage_id),
  FOREIGN KEY (job_id, stage_id) REFERENCES stage_runs (job_id, stage_id) ON DELETE CASCADE
);

-- Slimmer live rows. The slowest parts of a stage are a top-N sort over its finished rows, which a
-- report reads in full for its percentiles anyway: no index of every finished part for it. Lookups
-- by status are for parts not succeeded (open parts after a restart, failed parts for errors and
-- retries): a partial index holds only those, not one entry per part.
DROP INDEX task_runs_slowest_idx;
DROP INDEX task_runs_status_idx;
CREATE INDEX task_runs_unsucceeded_idx ON task_runs (job_id, stage_id, status) WHERE status <> 'succeeded';
