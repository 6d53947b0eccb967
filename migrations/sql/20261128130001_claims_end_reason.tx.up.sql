-- Why the server released a claim whose holder lost access to its task
-- (membership_ended, org_suspended, org_revoked, org_expired); NULL for
-- claims released by a person, expired or completed. No CHECK: a new reason
-- must not need a table rebuild on SQLite; the API's constants are the list.
ALTER TABLE claims ADD COLUMN end_reason TEXT;
