-- Account self-service and the personal data law (UU 27/2022): the
-- preferred language, the version of the privacy notice the owner
-- consented to (NULL: never, as for accounts an admin made), when the
-- account was last used (sign-in or refresh; for the inactive-account
-- retention), and when it was erased (an erased account is a row without
-- personal data that what it did still points at).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'id';
--bun:split
ALTER TABLE users ADD COLUMN privacy_version TEXT;
--bun:split
ALTER TABLE users ADD COLUMN last_seen_at {{.TS}};
--bun:split
ALTER TABLE users ADD COLUMN erased_at {{.TS}};
--bun:split
-- Every consent given, with the notice version and the time.
CREATE TABLE consents (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version    TEXT NOT NULL,
    at         {{.TS}} NOT NULL
);
--bun:split
CREATE INDEX consents_user_idx ON consents (user_id, at);
--bun:split
-- Password reset tokens: only the SHA-256 of the token is kept; a token is
-- good once, until expires_at.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at {{.TS}} NOT NULL,
    expires_at {{.TS}} NOT NULL,
    used_at    {{.TS}}
);
--bun:split
CREATE UNIQUE INDEX password_resets_hash_key ON password_resets (token_hash);
--bun:split
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
--bun:split
-- The mail outbox: a message is queued in the transaction of what caused
-- it, sent by a worker, retried with backoff, and deleted once the SMTP
-- server took it or it expired.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{.TS}} NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      {{.TS}} NOT NULL,
    expires_at      {{.TS}} NOT NULL
);
--bun:split
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at);
--bun:split
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id);
