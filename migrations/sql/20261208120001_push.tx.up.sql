CREATE TABLE push_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    events     INTEGER NOT NULL,
    created_at {{.TS}} NOT NULL,
    updated_at {{.TS}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX push_subscriptions_endpoint_key ON push_subscriptions (endpoint);
--bun:split
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id, id);
--bun:split
CREATE TABLE push_jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    ref_id      TEXT NOT NULL,
    region_code TEXT,
    user_id     TEXT,
    wants       INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    urgency     TEXT NOT NULL,
    created_at  {{.TS}} NOT NULL,
    expires_at  {{.TS}} NOT NULL,
    next_sub    TEXT NOT NULL DEFAULT '',
    expanded_at {{.TS}}
);
--bun:split
CREATE INDEX push_jobs_pending_idx ON push_jobs (created_at) WHERE expanded_at IS NULL;
--bun:split
CREATE INDEX push_jobs_ref_idx ON push_jobs (ref_id, kind);
--bun:split
CREATE TABLE push_batches (
    id         TEXT PRIMARY KEY,
    job_id     TEXT NOT NULL REFERENCES push_jobs (id) ON DELETE CASCADE,
    first_sub  TEXT NOT NULL,
    last_sub   TEXT NOT NULL,
    devices    INTEGER NOT NULL,
    next_at    {{.TS}} NOT NULL,
    done_at    {{.TS}}
);
--bun:split
CREATE INDEX push_batches_due_idx ON push_batches (next_at) WHERE done_at IS NULL;
--bun:split
CREATE INDEX push_batches_job_idx ON push_batches (job_id);
--bun:split
CREATE TABLE push_deliveries (
    job_id          TEXT NOT NULL REFERENCES push_jobs (id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('sent', 'retry', 'gone', 'failed', 'dropped')),
    status          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_at         {{.TS}},
    at              {{.TS}} NOT NULL,
    PRIMARY KEY (job_id, subscription_id)
);
--bun:split
CREATE TABLE push_acks (
    job_id          TEXT NOT NULL REFERENCES push_jobs (id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL,
    at              {{.TS}} NOT NULL,
    PRIMARY KEY (job_id, subscription_id)
);
