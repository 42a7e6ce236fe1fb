-- Up Migration

-- An attempt unwound while its charge call's outcome was unknown may still be charged later, if the
-- gateway processes the call very late. Recovery looks once more at this time, and refunds what it finds.
ALTER TABLE checkout_attempts ADD COLUMN recheck_charge_after timestamptz;
CREATE INDEX checkout_attempts_recheck ON checkout_attempts (recheck_charge_after) WHERE recheck_charge_after IS NOT NULL;

-- Down Migration
DROP INDEX checkout_attempts_recheck;
ALTER TABLE checkout_attempts DROP COLUMN recheck_charge_after;
