DROP INDEX refresh_tokens_expires_idx;
--bun:split
DROP TABLE alert_reach;
--bun:split
DROP TABLE chore_runs;
