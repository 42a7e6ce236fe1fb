-- Up Migration

-- An attempt is failed before its stock is released (so that nothing completes it once a release may
-- have landed), and the release itself may fail: this says one is still owed, for recovery to retry,
-- rather than leave the units held until the reservation expires.
ALTER TABLE checkout_attempts ADD COLUMN stock_release_pending boolean NOT NULL DEFAULT false;
CREATE INDEX checkout_attempts_release_pending ON checkout_attempts (locked_until) WHERE stock_release_pending;

-- Down Migration
DROP INDEX checkout_attempts_release_pending;
ALTER TABLE checkout_attempts DROP COLUMN stock_release_pending;
