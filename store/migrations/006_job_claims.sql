-- A submit claims its job id here before it uploads anything: the INSERT only one caller wins, so
-- two submits with one id never merge their inputs. `fingerprint` (definition and input) tells an
-- idempotent resubmit from a different job under a taken id. A `submitting` claim is renewed while
-- its submitter uploads; one not renewed for JOB_CLAIM_TTL_MS (pipeline/limits.ts) was left by a
-- crashed submitter and can be taken over. `submitted`: the job row exists and its workflow started.
CREATE TABLE job_claims (
  job_id      text PRIMARY KEY,
  token       text NOT NULL,
  fingerprint text NOT NULL,
  state       text NOT NULL CHECK (state IN ('submitting', 'submitted')),
  claimed_at  timestamptz NOT NULL DEFAULT now()
);
