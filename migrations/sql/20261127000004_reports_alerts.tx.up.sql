CREATE TABLE reports (
    id                TEXT PRIMARY KEY,
    reporter_id       TEXT NOT NULL REFERENCES users (id),
    org_id            TEXT REFERENCES orgs (id),
    claim_id          TEXT REFERENCES claims (id),
    url               TEXT NOT NULL,
    normalized_url    TEXT NOT NULL,
    cluster_id        TEXT NOT NULL,
    platform          TEXT NOT NULL,
    category          TEXT NOT NULL,
    summary           TEXT NOT NULL,
    region_code       TEXT,
    observed_at       {{.TS}} NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('submitted', 'endorsed', 'rejected', 'verified', 'duplicate')),
    duplicate_of      TEXT,
    review_note       TEXT NOT NULL DEFAULT '',
    verification_note TEXT NOT NULL DEFAULT '',
    takedown_status   TEXT,
    created_at        {{.TS}} NOT NULL,
    updated_at        {{.TS}} NOT NULL
);
--bun:split
CREATE INDEX reports_cluster_idx ON reports (cluster_id);
--bun:split
CREATE INDEX reports_reporter_idx ON reports (reporter_id, id);
--bun:split
CREATE INDEX reports_org_idx ON reports (org_id, id);
--bun:split
CREATE INDEX reports_region_idx ON reports (region_code, id);
--bun:split
CREATE TABLE takedowns (
    id           TEXT PRIMARY KEY,
    report_id    TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    platform_ref TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    by_user      TEXT NOT NULL,
    at           {{.TS}} NOT NULL
);
--bun:split
CREATE INDEX takedowns_report_idx ON takedowns (report_id, id);
--bun:split
CREATE TABLE evidence (
    report_id    TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    PRIMARY KEY (report_id, sha256)
);
--bun:split
CREATE TABLE alerts (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    severity          TEXT NOT NULL,
    region_code       TEXT,
    category          TEXT,
    report_ids        TEXT NOT NULL DEFAULT '[]',
    links             TEXT NOT NULL DEFAULT '[]',
    issued_by         TEXT NOT NULL,
    stream            TEXT NOT NULL,
    published_at      {{.TS}} NOT NULL,
    retracted_at      {{.TS}},
    retraction_reason TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX alerts_published_idx ON alerts (published_at, id);
--bun:split
CREATE INDEX alerts_region_idx ON alerts (region_code, id);
--bun:split
CREATE TABLE alert_acks (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL,
    acked_at {{.TS}} NOT NULL,
    delay_ms BIGINT NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
