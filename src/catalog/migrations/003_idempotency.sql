-- Idempotency records: a repeat of (team, key) within 24 h replays the stored response.
CREATE TABLE idempotency (
  team text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done')),
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (team, key)
);

CREATE INDEX idempotency_expires_idx ON idempotency (expires_at);
