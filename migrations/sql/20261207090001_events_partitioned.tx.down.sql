{{if .Postgres}}
CREATE TABLE events_unpartitioned (
    stream TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    data   TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL
);
--bun:split
INSERT INTO events_unpartitioned (stream, seq, id, name, data, at)
SELECT stream, seq, id, name, data, at FROM events;
--bun:split
DROP TABLE events;
--bun:split
ALTER TABLE events_unpartitioned RENAME TO events;
--bun:split
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (stream, seq);
--bun:split
CREATE INDEX events_at_idx ON events (at);
{{else}}
ALTER TABLE events DROP COLUMN kept;
{{end}}
