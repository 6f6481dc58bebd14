-- The stage loop counts a job's parts in flight every time it fills its window; a partial index
-- keeps that count proportional to the window, not to the job's size.
CREATE INDEX task_runs_in_flight ON task_runs (job_id) WHERE status = 'queued';
