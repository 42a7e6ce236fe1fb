-- Up Migration

-- The order's statement stores its answer for the attempt's key by attempt id: without this index that
-- update reads every key of the retention window, on every checkout.
CREATE INDEX idempotency_keys_attempt ON idempotency_keys (attempt_id) WHERE attempt_id IS NOT NULL;

-- Down Migration
DROP INDEX idempotency_keys_attempt;
