DROP TABLE invites;
--bun:split
DROP TABLE memberships;
--bun:split
DROP TABLE orgs;
--bun:split
DROP TABLE audit_log;
--bun:split
DROP TABLE events;
--bun:split
DROP TABLE event_streams;
