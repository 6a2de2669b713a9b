-- Per-provider concurrency shared by every worker: one row per slot (0 … limit-1). A worker holds a slot
-- while one cell's provider call runs, on a lease it renews; a slot whose lease lapsed (its worker died)
-- is free again. Taking a slot is one statement under the row's lock, so no two workers hold the same one.
CREATE TABLE provider_slots (
  provider text NOT NULL,
  slot integer NOT NULL CHECK (slot >= 0),
  owner text,                        -- the worker holding it
  holder text,                       -- what it is held for (a cell's key), for diagnosis
  lease_until_ms bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (provider, slot)
);
