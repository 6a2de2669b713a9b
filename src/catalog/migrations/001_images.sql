-- One row per generated image. The blob is written before the row; the sweeper removes blobs no live row references.
CREATE TABLE images (
  id text PRIMARY KEY CHECK (id LIKE 'img\_%'),
  team text NOT NULL,
  application text,
  app_version integer,
  model text NOT NULL,            -- as requested (alias, provider/model or ft/<name>)
  route text NOT NULL,            -- the catalogue model id actually used
  provider text NOT NULL,
  status text NOT NULL DEFAULT 'stored' CHECK (status IN ('stored', 'rejected', 'deleted')),
  blob_key text NOT NULL,
  sha256 text NOT NULL,
  byte_size integer NOT NULL CHECK (byte_size >= 0),
  media_type text NOT NULL,
  width integer NOT NULL,
  height integer NOT NULL,
  prompt text NOT NULL,
  negative_prompt text,
  seed bigint,
  params jsonb NOT NULL DEFAULT '{}'::jsonb,
  native_request jsonb,
  report jsonb,
  cost_usd numeric(14, 6),
  latency_ms integer,
  parent_id text,
  judge jsonb,
  review jsonb,
  idempotency_key text,
  -- millisecond precision, so a cursor carried through JavaScript Dates compares exactly
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  deleted_at timestamptz
);

-- list filters: newest first, optionally by team / application / model / status
CREATE INDEX images_created_idx ON images (created_at DESC, id DESC);
CREATE INDEX images_team_created_idx ON images (team, created_at DESC, id DESC);
CREATE INDEX images_app_created_idx ON images (application, created_at DESC, id DESC) WHERE application IS NOT NULL;
CREATE INDEX images_model_created_idx ON images (model, created_at DESC, id DESC);
CREATE INDEX images_route_created_idx ON images (route, created_at DESC, id DESC);
CREATE INDEX images_status_created_idx ON images (status, created_at DESC, id DESC);
-- the sweeper's question: does any live row reference this key?
CREATE INDEX images_live_blob_idx ON images (blob_key) WHERE deleted_at IS NULL;
CREATE INDEX images_parent_idx ON images (parent_id) WHERE parent_id IS NOT NULL;
-- the export cursor walks (created_at, id) ascending
CREATE INDEX images_export_idx ON images (created_at, id);
