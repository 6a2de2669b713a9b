-- Fine-tune jobs run on the durable queue (pg-boss), one step per queue job. A step that calls out and must
-- not run twice at once (a training submission, an evaluation) first takes a lease on the job's row: the
-- owner and until when. A lease whose holder died lapses, and the next queue job takes it over.
ALTER TABLE finetunes ADD COLUMN lease_owner text;
ALTER TABLE finetunes ADD COLUMN lease_until_ms bigint;
