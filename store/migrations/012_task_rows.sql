-- Slimmer per-part rows (docs/engine.md, "The store does not outgrow the job"). task_runs repeated the
-- job id (long text) and the stage id in every row and in every index entry, kept updated_at (written,
-- never read) and a succeeded part's inputs (read only while a part is open, or failed: retries and
-- retry jobs). A stage run now has an integer key, run_id; the rows live in task_rows keyed
-- (run_id, part), with their columns ordered so that no alignment padding sits between them (8-byte
-- columns first, then 4-byte ones, then variable-length ones). The hot paths of store/task-runs.ts
-- and compaction write task_rows directly. task_runs is now a view joining stage_runs, exposing
-- job_id and stage_id as before, so the read queries (reports, progress, console, cost, tests) are
-- unchanged; INSTEAD OF triggers keep the few cold writes through it (tests, tools) working.

ALTER TABLE stage_runs ADD COLUMN run_id int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE stage_runs ADD CONSTRAINT stage_runs_run_id_key UNIQUE (run_id);
-- Whether the run's successes are numbered in the order they happen (task_rows.success_seq, and its
-- index): only a stream stage reads an upstream in that order, so planning sets it on the stages a
-- stream stage needs; the other stages' rows carry neither the number nor its index entry. Stage runs
-- that exist already keep numbering their successes, as before.
ALTER TABLE stage_runs ADD COLUMN success_order boolean NOT NULL DEFAULT false;
UPDATE stage_runs SET success_order = true;

CREATE TABLE task_rows (
  sent_at     timestamptz NULL,
  received_at timestamptz NULL,
  started_at  timestamptz NULL,
  finished_at timestamptz NULL,
  deadline_at timestamptz NULL,
  retry_at    timestamptz NULL,
  bytes_in    bigint NOT NULL DEFAULT 0,
  bytes_out   bigint NOT NULL DEFAULT 0,
  -- nextval('task_runs_success_seq') when the part succeeds: stream chaining reads parts in this order.
  success_seq bigint NULL,
  run_id      int NOT NULL REFERENCES stage_runs (run_id) ON DELETE CASCADE,
  part        int NOT NULL,
  attempt     int NOT NULL,
  -- A part reused from the cache: the run time of the attempt it reused (null: it ran).
  cached_ms   int NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'retry_wait', 'succeeded', 'failed')),
  worker_id   text NULL,
  outputs     jsonb NULL,
  result      jsonb NULL,
  error       jsonb NULL,
  -- What the part is sent with; set to NULL when it succeeds (it is never sent again; `batchgrid part`
  -- derives them from the upstream part or the stage manifest). A failed part keeps them for retry jobs.
  inputs      jsonb NULL,
  inputs_key  text NULL,
  PRIMARY KEY (run_id, part)
);

INSERT INTO task_rows (sent_at, received_at, started_at, finished_at, deadline_at, retry_at, bytes_in, bytes_out, success_seq,
                       run_id, part, attempt, cached_ms, status, worker_id, outputs, result, error, inputs, inputs_key)
SELECT t.sent_at, t.received_at, t.started_at, t.finished_at, t.deadline_at, t.retry_at, t.bytes_in, t.bytes_out, t.success_seq,
       s.run_id, t.part, t.attempt, t.cached_ms, t.status, t.worker_id, t.outputs, t.result, t.error,
       CASE WHEN t.status = 'succeeded' THEN NULL ELSE t.inputs END, CASE WHEN t.status = 'succeeded' THEN NULL ELSE t.inputs_key END
  FROM task_runs t JOIN stage_runs s ON s.job_id = t.job_id AND s.stage_id = t.stage_id;

-- The sequence belongs to the old table's column: keep it when the table goes.
ALTER SEQUENCE task_runs_success_seq OWNED BY NONE;
DROP TABLE task_runs;

CREATE INDEX task_rows_unsucceeded_idx ON task_rows (run_id, status) WHERE status <> 'succeeded';
CREATE INDEX task_rows_success_seq_idx ON task_rows (run_id, success_seq) WHERE success_seq IS NOT NULL;
CREATE INDEX task_rows_in_flight ON task_rows (run_id) WHERE status = 'queued';

CREATE VIEW task_runs AS
SELECT s.job_id, s.stage_id, t.part, t.attempt, t.status, t.worker_id, t.sent_at, t.received_at, t.started_at, t.finished_at,
       t.deadline_at, t.retry_at, t.bytes_in, t.bytes_out, t.outputs, t.result, t.error, t.success_seq, t.inputs, t.inputs_key,
       t.cached_ms, t.run_id
  FROM task_rows t JOIN stage_runs s ON s.run_id = t.run_id;
ALTER VIEW task_runs ALTER COLUMN bytes_in SET DEFAULT 0;
ALTER VIEW task_runs ALTER COLUMN bytes_out SET DEFAULT 0;

-- Writes through the view, for cold paths only (tests, tools): the engine writes task_rows.
CREATE FUNCTION task_runs_write() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  rid int;
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM task_rows WHERE run_id = OLD.run_id AND part = OLD.part;
    RETURN OLD;
  END IF;
  SELECT run_id INTO rid FROM stage_runs WHERE job_id = NEW.job_id AND stage_id = NEW.stage_id;
  IF rid IS NULL THEN
    RAISE foreign_key_violation USING MESSAGE = format('task_runs: no stage run (%s, %s)', NEW.job_id, NEW.stage_id);
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO task_rows (sent_at, received_at, started_at, finished_at, deadline_at, retry_at, bytes_in, bytes_out, success_seq,
                           run_id, part, attempt, cached_ms, status, worker_id, outputs, result, error, inputs, inputs_key)
    VALUES (NEW.sent_at, NEW.received_at, NEW.started_at, NEW.finished_at, NEW.deadline_at, NEW.retry_at, NEW.bytes_in, NEW.bytes_out,
            NEW.success_seq, rid, NEW.part, NEW.attempt, NEW.cached_ms, NEW.status, NEW.worker_id, NEW.outputs, NEW.result, NEW.error,
            NEW.inputs, NEW.inputs_key);
  ELSE
    UPDATE task_rows SET sent_at = NEW.sent_at, received_at = NEW.received_at, started_at = NEW.started_at, finished_at = NEW.finished_at,
           deadline_at = NEW.deadline_at, retry_at = NEW.retry_at, bytes_in = NEW.bytes_in, bytes_out = NEW.bytes_out,
           success_seq = NEW.success_seq, run_id = rid, part = NEW.part, attempt = NEW.attempt, cached_ms = NEW.cached_ms,
           status = NEW.status, worker_id = NEW.worker_id, outputs = NEW.outputs, result = NEW.result, error = NEW.error,
           inputs = NEW.inputs, inputs_key = NEW.inputs_key
     WHERE run_id = OLD.run_id AND part = OLD.part;
  END IF;
  NEW.run_id := rid;
  RETURN NEW;
END
$$;
CREATE TRIGGER task_runs_write INSTEAD OF INSERT OR UPDATE OR DELETE ON task_runs FOR EACH ROW EXECUTE FUNCTION task_runs_write();
