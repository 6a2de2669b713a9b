-- Datasets: items imported from CSV or JSONL, one row per good item (bad rows are reported, not stored).
CREATE TABLE datasets (
  id text PRIMARY KEY CHECK (id LIKE 'ds\_%'),
  team text NOT NULL,
  name text NOT NULL,
  source text NOT NULL,             -- the imported file's name
  format text NOT NULL CHECK (format IN ('csv', 'jsonl')),
  item_count integer NOT NULL CHECK (item_count >= 0),
  rejected_count integer NOT NULL CHECK (rejected_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (team, name)
);

CREATE TABLE dataset_items (
  dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  idx integer NOT NULL CHECK (idx >= 0),  -- position among the good rows, 0-based
  line integer NOT NULL,                  -- line in the source file
  external_id text,
  category text,
  vars jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (dataset_id, idx)
);

-- Experiments and production runs: a dataset sample × candidates × an application.
CREATE TABLE batch_runs (
  id text PRIMARY KEY CHECK (id LIKE 'run\_%' OR id LIKE 'exp\_%'),
  kind text NOT NULL CHECK (kind IN ('experiment', 'production')),
  team text NOT NULL,
  dataset_id text NOT NULL REFERENCES datasets (id),
  application text NOT NULL,
  candidates jsonb NOT NULL,               -- [{ model, overrides }]
  sample jsonb NOT NULL,                   -- { mode: all|first|random, n, seed }
  gate boolean NOT NULL DEFAULT false,
  economy boolean NOT NULL DEFAULT false,
  deadline_ms bigint,                      -- economy window
  budget_usd numeric(14, 6),
  state text NOT NULL CHECK (state IN ('running', 'paused', 'cancelled', 'done', 'budget_stopped')),
  stop_reason text,
  cell_count integer NOT NULL,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL
);
CREATE INDEX batch_runs_team_idx ON batch_runs (team, created_ms DESC);

-- One cell per (run, item, candidate): the unit of work and of idempotency.
CREATE TABLE batch_cells (
  run_id text NOT NULL REFERENCES batch_runs (id) ON DELETE CASCADE,
  item_idx integer NOT NULL,
  candidate_idx integer NOT NULL,
  provider text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until_ms bigint,
  image_ids jsonb,
  cost_usd numeric(14, 6),
  latency_ms integer,
  judge_pass boolean,
  error jsonb,                             -- { code, reason, message } of the last failure
  via text,                                -- 'direct' or 'openai_batch'
  finished_ms bigint,
  PRIMARY KEY (run_id, item_idx, candidate_idx)
);
CREATE INDEX batch_cells_state_idx ON batch_cells (run_id, state);

-- Requests-per-minute token buckets per provider, shared by every worker on this database.
CREATE TABLE provider_buckets (
  provider text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated_ms bigint NOT NULL,
  blocked_until_ms bigint NOT NULL DEFAULT 0  -- a provider's own wait (429 Retry-After) holds every worker
);

-- Monthly budgets per team (USD).
CREATE TABLE team_budgets (
  team text PRIMARY KEY,
  monthly_usd numeric(14, 6) NOT NULL CHECK (monthly_usd >= 0),
  updated_ms bigint NOT NULL
);

-- Economy mode: provider batch jobs (OpenAI Batch API) followed to the end.
CREATE TABLE provider_batches (
  id text PRIMARY KEY,                     -- the provider's batch id
  run_id text NOT NULL REFERENCES batch_runs (id) ON DELETE CASCADE,
  provider text NOT NULL,
  input_file_id text NOT NULL,
  status text NOT NULL,
  cells jsonb NOT NULL,                    -- custom_id → [item_idx, candidate_idx]
  created_ms bigint NOT NULL,
  finished_ms bigint
);
