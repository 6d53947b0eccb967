-- mail_outbox.sealed: the secret of a queued mail (a password reset link),
-- sealed under a key the instances derive and the database never holds;
-- the bodies carry stand_in in its place until the mail is sent.
ALTER TABLE mail_outbox ADD COLUMN sealed TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE mail_outbox ADD COLUMN stand_in TEXT NOT NULL DEFAULT '';
