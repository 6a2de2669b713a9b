-- Where each export target (e.g. a Snowflake landing prefix) stopped: the last exported (created_at, id).
CREATE TABLE export_cursors (
  target text PRIMARY KEY,
  cursor_created_at timestamptz,
  cursor_id text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
