-- How many parts a running stage has ready but no window slot for. Stages of one job share its
-- window; while another stage waits, a stage takes no more than its fair share.
ALTER TABLE stage_runs ADD COLUMN waiting int NOT NULL DEFAULT 0;
