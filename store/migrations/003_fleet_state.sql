-- What the grid autoscaler last saw of each fleet, so `grid status` (and the HTTP API) answer from
-- the store: the definition it runs, the provider's actual capacity and the input queue's backlog.
ALTER TABLE fleets ADD COLUMN definition jsonb NULL;
ALTER TABLE fleets ADD COLUMN actual int NULL;
ALTER TABLE fleets ADD COLUMN visible int NULL;
ALTER TABLE fleets ADD COLUMN in_flight int NULL;
ALTER TABLE fleets ADD COLUMN observed_at timestamptz NULL;
