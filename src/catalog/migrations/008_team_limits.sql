-- Per-team and per-key limits shared by every process on this database.
-- Requests per minute: one counter per scope ('team:<team>' or 'key:<id>') and minute window (ms since epoch).
CREATE TABLE limit_windows (
  scope text NOT NULL,
  window_start bigint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (scope, window_start)
);

-- Generations running now: one lease per generation and scope; a lease its process stopped renewing
-- (the process died) lapses at expires_at (ms since epoch) and no longer counts.
CREATE TABLE limit_leases (
  id text NOT NULL,
  scope text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (id, scope)
);

CREATE INDEX limit_leases_scope_idx ON limit_leases (scope, expires_at);
