ALTER TABLE claims DROP COLUMN end_reason;
