-- The content-addressed part cache (docs/engine.md, "Part cache"): a stage with `cache: true`
-- looks each part up by a hash of its task, the handler's version, the stage's params and the
-- identity of its inputs; a hit reuses the recorded outputs and result without sending the part.
-- An entry points at outputs of the job that ran it (job_id): pruning the job removes its entries.
CREATE TABLE part_cache (
  key           text PRIMARY KEY,
  pipeline_name text NOT NULL,
  task          text NOT NULL,
  version       text NOT NULL,
  job_id        text NOT NULL,
  stage_id      text NOT NULL,
  part          int NOT NULL,
  outputs       jsonb NOT NULL,
  result        jsonb NULL,
  run_ms        int NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX part_cache_job_idx ON part_cache (job_id);
CREATE INDEX part_cache_pipeline_idx ON part_cache (pipeline_name);
-- A part reused from the cache: the run time of the attempt it reused (null: it ran).
ALTER TABLE task_runs ADD COLUMN cached_ms int NULL;
