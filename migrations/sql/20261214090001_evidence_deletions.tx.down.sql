DROP TABLE evidence_deletions;
