-- The receipts queue. The harness applies this file to a template database; every test file gets a
-- fresh copy. GET /jobs/:id (what the ops dashboard and the tests read) shows `status` and
-- `last_error`: keep those columns and these statuses. Add columns as the fix needs them.
CREATE TABLE jobs (
  id          bigserial   PRIMARY KEY,
  kind        text        NOT NULL,
  payload     jsonb       NOT NULL,
  -- queued: waiting to run (from run_at on); running: a worker has it; done: it took effect;
  -- dead: it failed every attempt it was allowed, and last_error says why (the dead-letter state).
  status      text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'dead')),
  attempts    int         NOT NULL DEFAULT 0,
  last_error  text,
  run_at      timestamptz NOT NULL DEFAULT now(),
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz,
  -- The lease: a running job belongs to the worker holding `lease` until `locked_until`; past that,
  -- any worker may take it again (its worker is presumed dead).
  locked_until timestamptz,
  lease        uuid
);

CREATE INDEX jobs_queued ON jobs (run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE status = 'running';
