-- Idempotency leases: the process running a pending request renews its lease; a retry after that process
-- is gone (lease lapsed) takes the key over instead of waiting out the pending timeout.
ALTER TABLE idempotency ADD COLUMN owner text;
ALTER TABLE idempotency ADD COLUMN lease_expires_at timestamptz;
