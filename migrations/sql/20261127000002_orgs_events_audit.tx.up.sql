CREATE TABLE event_streams (
    stream TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);
--bun:split
CREATE TABLE events (
    stream TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    data   TEXT NOT NULL,
    at     {{.TS}} NOT NULL,
    PRIMARY KEY (stream, seq)
);
--bun:split
CREATE INDEX events_at_idx ON events (at);
--bun:split
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          {{.TS}} NOT NULL,
    actor_id    TEXT,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before      {{.JSON}},
    after       {{.JSON}},
    request_id  TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
--bun:split
CREATE TABLE orgs (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    accreditation_number TEXT NOT NULL,
    accredited_until     {{.TS}} NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('accredited', 'suspended', 'revoked')),
    region_code          TEXT,
    lapse_announced      BOOLEAN NOT NULL DEFAULT FALSE,
    created_by           TEXT REFERENCES users (id),
    created_at           {{.TS}} NOT NULL,
    updated_at           {{.TS}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX orgs_accreditation_number_key ON orgs (upper(accreditation_number));
--bun:split
CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('member', 'coordinator')),
    status     TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'removed', 'left')),
    reason     TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    decided_at {{.TS}},
    created_at {{.TS}} NOT NULL,
    updated_at {{.TS}} NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
--bun:split
CREATE INDEX memberships_user_idx ON memberships (user_id, status);
--bun:split
CREATE INDEX memberships_org_status_idx ON memberships (org_id, status);
--bun:split
CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at {{.TS}} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{.TS}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX invites_code_hash_key ON invites (code_hash);
