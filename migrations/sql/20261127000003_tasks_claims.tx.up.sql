CREATE TABLE tasks (
    id            TEXT PRIMARY KEY,
    org_id        TEXT REFERENCES orgs (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL CHECK (kind IN ('social_media', 'tps', 'fact_check', 'other')),
    platform      TEXT,
    target        TEXT,
    region_code   TEXT,
    starts_at     {{.TS}},
    due_at        {{.TS}},
    slots         INTEGER NOT NULL CHECK (slots BETWEEN 1 AND 1000),
    slots_taken   INTEGER NOT NULL DEFAULT 0 CHECK (slots_taken >= 0 AND slots_taken <= slots),
    lease_minutes INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by    TEXT NOT NULL,
    created_at    {{.TS}} NOT NULL,
    updated_at    {{.TS}} NOT NULL
);
--bun:split
CREATE INDEX tasks_org_idx ON tasks (org_id, id);
--bun:split
CREATE INDEX tasks_open_idx ON tasks (status, id);
--bun:split
CREATE TABLE claims (
    id               TEXT PRIMARY KEY,
    task_id          TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('active', 'released', 'expired', 'completed')),
    lease_expires_at {{.TS}} NOT NULL,
    warned           BOOLEAN NOT NULL DEFAULT FALSE,
    assigned_by      TEXT,
    outcome          TEXT,
    note             TEXT NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       {{.TS}} NOT NULL,
    ended_at         {{.TS}}
);
--bun:split
CREATE UNIQUE INDEX claims_one_active_key ON claims (task_id, user_id) WHERE status = 'active';
--bun:split
CREATE INDEX claims_task_idx ON claims (task_id, status);
--bun:split
CREATE INDEX claims_user_idx ON claims (user_id, status);
--bun:split
CREATE INDEX claims_lease_idx ON claims (lease_expires_at) WHERE status = 'active';
