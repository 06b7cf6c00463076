-- Failed attempts (wrong API keys, failed sign-ins) per client address, and the blocks they
-- lead to, shared by every instance (hub-postgres src/repo/limits.rs).
CREATE TABLE shared_failures (
    name          VARCHAR(100) PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_until  TIMESTAMPTZ NOT NULL,
    blocked_until TIMESTAMPTZ
);
CREATE INDEX shared_failures_expiry ON shared_failures (window_until);
