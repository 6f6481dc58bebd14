-- Priorities and fair share between the jobs on a fleet (docs/engine.md, "Fair share").
-- A job's priority is its weight: jobs with parts waiting on one fleet share its capacity in
-- proportion to it. Kept on the job (not only in its definition) so it can be changed while it runs.
ALTER TABLE jobs ADD COLUMN priority int NOT NULL DEFAULT 1;
-- What each running stage publishes about itself, about once a second, for the allocation on its
-- fleet: the fleet it runs on, its parts in flight, the worker slots they keep busy, the parts it
-- has ready and no room for, and the mean run time of its finished parts (also the autoscaler's
-- measure of expected work).
ALTER TABLE stage_runs ADD COLUMN fleet text NULL;
ALTER TABLE stage_runs ADD COLUMN in_flight int NOT NULL DEFAULT 0;
ALTER TABLE stage_runs ADD COLUMN busy_slots double precision NOT NULL DEFAULT 0;
ALTER TABLE stage_runs ADD COLUMN ready int NOT NULL DEFAULT 0;
ALTER TABLE stage_runs ADD COLUMN mean_run_ms double precision NULL;
CREATE INDEX stage_runs_running_fleet_idx ON stage_runs (fleet) WHERE status = 'running';
-- A running job's settings changed by `batchgrid tune` (null: the definition's): its window and
-- the failed parts its stages tolerate. Stages read them about once a second.
ALTER TABLE jobs ADD COLUMN concurrency int NULL;
ALTER TABLE jobs ADD COLUMN tolerate jsonb NULL;
