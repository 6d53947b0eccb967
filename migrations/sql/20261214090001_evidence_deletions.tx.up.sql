-- evidence_deletions: evidence files that a deletion of reports (an
-- erasure, the retention of unverified reports) left unused, written in the
-- deletion's own transaction and removed once the file is gone. A file whose
-- deletion failed (the store was down) is tried again by the
-- delete_evidence chore instead of staying behind, named by no row.
CREATE TABLE evidence_deletions (
    sha256    TEXT PRIMARY KEY,
    queued_at {{.TS}} NOT NULL
);

-- Whether a file is still in use is asked by its checksum alone (the
-- evidence table's key begins with the report).
CREATE INDEX evidence_sha256 ON evidence (sha256);
