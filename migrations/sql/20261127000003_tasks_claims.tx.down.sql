DROP TABLE claims;
--bun:split
DROP TABLE tasks;
