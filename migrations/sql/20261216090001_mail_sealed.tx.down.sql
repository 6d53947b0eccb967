ALTER TABLE mail_outbox DROP COLUMN stand_in;
--bun:split
ALTER TABLE mail_outbox DROP COLUMN sealed;
