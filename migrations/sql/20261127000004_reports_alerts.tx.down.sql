DROP TABLE alert_acks;
--bun:split
DROP TABLE alerts;
--bun:split
DROP TABLE evidence;
--bun:split
DROP TABLE takedowns;
--bun:split
DROP TABLE reports;
