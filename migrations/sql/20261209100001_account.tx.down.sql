DROP TABLE mail_outbox;
--bun:split
DROP TABLE password_resets;
--bun:split
DROP TABLE consents;
--bun:split
ALTER TABLE users DROP COLUMN erased_at;
--bun:split
ALTER TABLE users DROP COLUMN last_seen_at;
--bun:split
ALTER TABLE users DROP COLUMN privacy_version;
--bun:split
ALTER TABLE users DROP COLUMN language;
