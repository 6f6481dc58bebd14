-- A part's inputs (S3 keys and ranges, never data) stay with its row so that a retry,
-- even one decided after the orchestrator restarted, can resend the part without re-planning.
ALTER TABLE task_runs ADD COLUMN inputs jsonb NULL;
ALTER TABLE task_runs ADD COLUMN inputs_key text NULL;
