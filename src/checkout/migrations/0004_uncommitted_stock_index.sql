-- Up Migration

-- Completed attempts whose stock is not committed yet are few at any time, but the table of attempts
-- only grows: recovery's claim and the `checkout_attempts_unsettled` gauge read them through this index.
CREATE INDEX checkout_attempts_uncommitted_stock ON checkout_attempts (locked_until)
  WHERE phase = 'completed' AND NOT stock_committed;

-- Down Migration
DROP INDEX checkout_attempts_uncommitted_stock;
