-- The event log gets a kept column: true for the events kept forever (alert
-- events and accreditation changes; event.Kept decides for new events),
-- false for the rest, which go after JARIMU_EVENT_RETENTION.
--
-- On PostgreSQL the table becomes partitioned, so that retention drops whole
-- months instead of deleting rows:
--   events                 PARTITION BY LIST (kept)
--     events_kept          kept = true, never dropped
--     events_log           kept = false, PARTITION BY RANGE (at)
--       events_YYYY_MM     one per calendar month (UTC)
--       events_default     the safety net for a month without its partition
-- The primary key must hold every partitioning column, so it is
-- (stream, seq, kept, at): its (stream, seq) prefix serves every read, and a
-- (stream, seq) pair stays unique because seqs come from the stream's counter
-- row in event_streams. The rows are copied from the old table: this holds
-- the events table locked for as long as the copy takes (docs/operations.md
-- 6.5 gives the measured time). Months of the old rows get their partitions
-- here, as do the current and the next two months; the chore keeps that up.
{{if .Postgres}}
ALTER TABLE events RENAME TO events_unpartitioned;
--bun:split
ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_unpartitioned_pkey;
--bun:split
DROP INDEX events_at_idx;
--bun:split
CREATE TABLE events (
    stream TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    data   TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    kept   BOOLEAN NOT NULL DEFAULT FALSE
) PARTITION BY LIST (kept);
--bun:split
CREATE TABLE events_kept PARTITION OF events FOR VALUES IN (TRUE);
--bun:split
CREATE TABLE events_log PARTITION OF events FOR VALUES IN (FALSE) PARTITION BY RANGE (at);
--bun:split
CREATE TABLE events_default PARTITION OF events_log DEFAULT;
--bun:split
DO $$
DECLARE
    m TIMESTAMP; -- the month's first instant, in UTC
BEGIN
    FOR m IN
        SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') FROM events_unpartitioned
         WHERE NOT (name LIKE 'alert.%' OR name = 'org.accreditation_changed')
        UNION
        SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => n)
          FROM generate_series(0, 2) AS n
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF events_log FOR VALUES FROM (%L) TO (%L)',
            'events_' || to_char(m, 'YYYY_MM'),
            to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
    END LOOP;
END
$$;
--bun:split
INSERT INTO events (stream, seq, id, name, data, at, kept)
SELECT stream, seq, id, name, data, at, (name LIKE 'alert.%' OR name = 'org.accreditation_changed')
  FROM events_unpartitioned;
--bun:split
ALTER TABLE events ADD PRIMARY KEY (stream, seq, kept, at);
--bun:split
DROP TABLE events_unpartitioned;
{{else}}
ALTER TABLE events ADD COLUMN kept BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
UPDATE events SET kept = TRUE WHERE name LIKE 'alert.%' OR name = 'org.accreditation_changed';
{{end}}
