-- The stage activity attempt that owns a running stage. Each attempt claims the stage when it
-- starts; an older attempt that wakes up (a frozen orchestrator, a stale retry) sees a newer
-- owner and stops without writing, instead of racing the attempt that replaced it.
ALTER TABLE stage_runs ADD COLUMN runner_attempt int NULL;
