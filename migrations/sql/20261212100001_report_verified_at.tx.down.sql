ALTER TABLE reports DROP COLUMN verified_at;
