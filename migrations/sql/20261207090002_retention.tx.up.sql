-- chore_runs: when the cluster last started each periodic chore (the lease
-- that lets one instance run it per period; package chore).
CREATE TABLE chore_runs (
    name   TEXT PRIMARY KEY,
    ran_at {{.TS}} NOT NULL
);
--bun:split
-- alert_reach: an alert's acknowledgements summed up, written when its
-- alert_acks rows are removed (30 days after publication), so its reach
-- answers the same afterwards.
CREATE TABLE alert_reach (
    alert_id      TEXT PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    delivered     INTEGER NOT NULL,
    p50_ms        BIGINT,
    p90_ms        BIGINT,
    summarised_at {{.TS}} NOT NULL
);
--bun:split
-- The hourly purge of expired refresh tokens finds them by expiry.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
