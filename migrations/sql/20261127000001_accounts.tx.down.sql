DROP TABLE idempotency_keys;
--bun:split
DROP TABLE refresh_tokens;
--bun:split
DROP TABLE users;
