-- push_reach: what the push outbox did for an alert, summed up when its
-- jobs are purged a month after they were queued (push.Service.Purge):
-- devices whose push service accepted the push (pushed) and devices that
-- showed it (displayed). The reach reads it with what is not purged yet.
CREATE TABLE push_reach (
    ref_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    pushed        INTEGER NOT NULL,
    displayed     INTEGER NOT NULL,
    summarised_at {{.TS}} NOT NULL,
    PRIMARY KEY (ref_id, kind)
);
