DROP INDEX evidence_sha256;
DROP TABLE evidence_deletions;
