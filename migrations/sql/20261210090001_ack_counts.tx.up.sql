-- alert_ack_counts: the feed acknowledgements of alerts, counted. Each
-- instance writes, once a second, one row per alert its connections
-- acknowledged and delay bucket (the upper bound of the bucket in
-- milliseconds, alert.DelayBounds), instead of one row per alert and
-- volunteer (alert_acks, which drowned the database at 10,000 acking
-- clients). batch names the write; the reach sums the rows of an alert.
CREATE TABLE alert_ack_counts (
    alert_id  TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    batch     TEXT NOT NULL,
    bucket_ms BIGINT NOT NULL,
    acks      INTEGER NOT NULL,
    PRIMARY KEY (alert_id, batch, bucket_ms)
);
--bun:split
-- The single acknowledgements kept so far (of volunteers, as the reach
-- counted them) become counts in the same buckets.
WITH bounds (b) AS (VALUES (10), (15), (20), (30), (50), (70), (100), (150), (200), (300), (500), (700), (1000), (1500), (2000), (3000), (5000), (7000), (10000), (15000), (20000), (30000), (50000), (70000), (100000), (150000), (200000), (300000), (500000), (700000), (1000000), (1500000), (2000000), (3000000), (5000000), (7000000), (10000000), (15000000), (20000000), (30000000), (50000000), (70000000), (100000000), (150000000), (200000000), (300000000), (500000000), (700000000), (1000000000), (1500000000), (2000000000), (3000000000), (5000000000), (7000000000), (10000000000))
INSERT INTO alert_ack_counts (alert_id, batch, bucket_ms, acks)
SELECT k.alert_id, 'alert_acks', COALESCE((SELECT min(b) FROM bounds WHERE b >= k.delay_ms), 10000000000), count(*)
FROM alert_acks k
WHERE k.user_id IN (SELECT id FROM users WHERE role = 'volunteer')
GROUP BY k.alert_id, 3;
--bun:split
DROP TABLE alert_acks;
