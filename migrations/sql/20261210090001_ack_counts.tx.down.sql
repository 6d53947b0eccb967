-- Rolling back gives the table of single acknowledgements again, empty:
-- counts cannot be split back into volunteers.
CREATE TABLE alert_acks (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL,
    acked_at {{.TS}} NOT NULL,
    delay_ms BIGINT NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
--bun:split
DROP TABLE alert_ack_counts;
