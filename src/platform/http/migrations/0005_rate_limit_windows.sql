-- Up Migration

-- Per-key rate limits shared by every instance of a service (PostgresRateLimitStore). UNLOGGED: a counter lost
-- in a crash costs nothing, and its writes need no WAL flush.
CREATE UNLOGGED TABLE rate_limit_windows (
  key       text PRIMARY KEY,
  hits      integer NOT NULL,
  reset_at  timestamptz NOT NULL
);

-- Down Migration
DROP TABLE rate_limit_windows;
