-- Every change to an image row, numbered: the insert is version 1, each update that changes the row (a
-- review, a gate outcome, the soft delete) the next version. Each change keeps the row as it was after it,
-- so an export sends changes (a deleted or re-reviewed image reaches the warehouse), each exactly once.
ALTER TABLE images ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE TABLE image_changes (
  seq bigserial PRIMARY KEY,
  image_id text NOT NULL,
  version integer NOT NULL,
  change text NOT NULL CHECK (change IN ('insert', 'update', 'delete')),
  -- The transaction that made the change. An export takes only changes of transactions older than the
  -- oldest one still running, in (xid, seq) order: no change can commit later behind its cursor.
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The row after the change (the idempotency key stays out: it is the caller's, not the image's).
  row jsonb NOT NULL,
  UNIQUE (image_id, version)
);
CREATE INDEX image_changes_order ON image_changes (xid, seq);

CREATE FUNCTION images_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$$;

CREATE FUNCTION images_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO image_changes (image_id, version, change, row)
  VALUES (
    NEW.id,
    NEW.version,
    CASE
      WHEN TG_OP = 'INSERT' THEN 'insert'
      WHEN NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN 'delete'
      ELSE 'update'
    END,
    to_jsonb(NEW) - 'idempotency_key'
  );
  RETURN NULL;
END
$$;

-- An UPDATE that changes nothing is no change: no new version, nothing to export.
CREATE TRIGGER images_version BEFORE UPDATE ON images
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION images_next_version();
CREATE TRIGGER images_inserted AFTER INSERT ON images
  FOR EACH ROW EXECUTE FUNCTION images_record_change();
CREATE TRIGGER images_updated AFTER UPDATE ON images
  FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION images_record_change();

-- Rows from before this migration: one change each, as they are now.
INSERT INTO image_changes (image_id, version, change, row)
SELECT id, 1, CASE WHEN deleted_at IS NULL THEN 'insert' ELSE 'delete' END, to_jsonb(images) - 'idempotency_key'
FROM images ORDER BY created_at, id;

-- Export cursors move on (xid, seq) of image_changes now; the created_at/id cursor is no longer read.
ALTER TABLE export_cursors ADD COLUMN change_xid xid8, ADD COLUMN change_seq bigint;
