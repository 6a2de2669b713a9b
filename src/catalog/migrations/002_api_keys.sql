-- API keys: only the sha256 of the key is stored; `prefix` is shown in lists so people can tell keys apart.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  team text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

CREATE INDEX api_keys_team_idx ON api_keys (team, created_at);
