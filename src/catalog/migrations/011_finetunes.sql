-- Fine-tunes: training datasets (product images with captions, stored in the blob store) and training jobs,
-- each a version of a model served as ft/<name> once it succeeds (and as ft/<name> itself once promoted).
CREATE TABLE finetune_datasets (
  id text PRIMARY KEY CHECK (id LIKE 'ftd\_%'),
  team text NOT NULL,
  name text NOT NULL,
  category text NOT NULL,
  source text NOT NULL,                    -- 'folder:<dir name>' or 'catalog:<query>'
  images jsonb NOT NULL,                   -- [{ file, key, sha256, mediaType, width, height, caption, hash }]
  created_ms bigint NOT NULL,
  UNIQUE (team, name)
);

CREATE TABLE finetunes (
  id text PRIMARY KEY CHECK (id LIKE 'ftj\_%'),
  team text NOT NULL,
  name text NOT NULL,                      -- served as ft/<name>
  version integer NOT NULL CHECK (version >= 1),
  dataset_id text NOT NULL REFERENCES finetune_datasets (id),
  category text NOT NULL,
  base_model text NOT NULL,
  backend text NOT NULL CHECK (backend IN ('sketch', 'replicate', 'fal', 'self-hosted')),
  trigger_token text NOT NULL,
  class_noun text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}'::jsonb,
  state text NOT NULL CHECK (state IN ('queued', 'training', 'evaluating', 'succeeded', 'failed', 'cancelled')),
  progress real NOT NULL DEFAULT 0,
  external jsonb,                          -- the backend's job handle (training id, request id)
  weights jsonb,                           -- what inference needs: version, LoRA URL, or the learned sketch tune
  evaluation jsonb,                        -- the report of fine-tune vs base on held-out prompts
  promoted boolean NOT NULL DEFAULT false,
  cancel_requested boolean NOT NULL DEFAULT false,
  error text,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL,
  UNIQUE (name, version)
);
CREATE INDEX finetunes_state_idx ON finetunes (state);
-- At most one promoted version per fine-tune name.
CREATE UNIQUE INDEX finetunes_promoted_idx ON finetunes (name) WHERE promoted;
