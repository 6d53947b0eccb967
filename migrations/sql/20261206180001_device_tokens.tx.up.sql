CREATE TABLE device_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    last_used_at {{.TS}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX device_tokens_hash_key ON device_tokens (token_hash);
--bun:split
CREATE INDEX device_tokens_user_idx ON device_tokens (user_id, last_used_at);
