-- Application profiles: immutable numbered versions, movable labels, and an audit trail (src/apps).
-- One row per application holds the version counter: incrementing it under the row lock gives two
-- concurrent edits two different numbers, so neither is lost.
CREATE TABLE applications (
  name text PRIMARY KEY,
  next_version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_versions (
  application text NOT NULL REFERENCES applications (name),
  version integer NOT NULL CHECK (version >= 1),
  profile jsonb NOT NULL,            -- the whole profile, as validated
  content_hash text NOT NULL,        -- sha256 of the canonical JSON: loading the same file twice is a no-op
  source text NOT NULL CHECK (source IN ('file', 'edit')),
  source_file text,
  base_version integer,              -- the version the editor started from, when known
  author text NOT NULL,
  author_team text,
  message text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (application, version)
);

CREATE INDEX app_versions_file_idx ON app_versions (application, version DESC) WHERE source = 'file';

-- A label points at one version; `history` is the stack of versions it pointed at before, so a
-- rollback without a target moves it back one step.
CREATE TABLE app_labels (
  application text NOT NULL,
  label text NOT NULL,
  version integer NOT NULL,
  history integer[] NOT NULL DEFAULT '{}',
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (application, label),
  FOREIGN KEY (application, version) REFERENCES app_versions (application, version)
);

CREATE TABLE app_audit (
  id bigserial PRIMARY KEY,
  application text NOT NULL,
  action text NOT NULL CHECK (action IN ('load', 'create', 'label', 'rollback')),
  actor text NOT NULL,
  actor_team text,
  actor_role text,
  version integer,
  label text,
  previous_version integer,
  message text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX app_audit_app_idx ON app_audit (application, id DESC);
