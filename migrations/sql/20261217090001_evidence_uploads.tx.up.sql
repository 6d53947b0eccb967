-- evidence_uploads: one row per evidence upload in progress, written (by
-- the database's clock) just before its file is first stored, and removed
-- by the transaction that writes the file's row in evidence, or, if the
-- upload fails, by the one that queues the file in evidence_deletions. A
-- row that outlives its upload (the instance died, the database went away)
-- is found by the delete_evidence chore once older than any upload can
-- last, and its file queued for deletion then. Each upload has its own
-- row, so no deletion of another report's file, nor the chore, takes the
-- place of an upload still under way.
CREATE TABLE evidence_uploads (
    id         TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    started_at {{.TS}} NOT NULL
);
CREATE INDEX evidence_uploads_started_at ON evidence_uploads (started_at);
