package event

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Kept reports whether events named name are kept forever, past the
// retention: alerts (published and retracted: the public record of what
// Bawaslu told whom, and what the reach of each is computed from) and
// changes of an organisation's accreditation (who could watch when). They
// are stored apart (the kept column; on PostgreSQL the events_kept
// partition), so retention never has to look for them.
func Kept(name string) bool {
	return strings.HasPrefix(name, "alert.") || name == "org.accreditation_changed"
}

// MonthsAhead is how many months after the current one have their
// partition made in advance (PostgreSQL).
const MonthsAhead = 2

// lockTimeout bounds how long partition upkeep waits for the locks it
// needs. Attaching or dropping a partition briefly takes locks that reads
// and appends of the event log queue behind; a chore that cannot get them
// at once gives up and tries again at its next turn rather than stall them.
const lockTimeout = "2s"

// Purged says what a purge removed.
type Purged struct {
	// Rows were deleted one by one: on SQLite, and on PostgreSQL those that
	// had landed in the default partition.
	Rows int64
	// Partitions are the month partitions dropped whole (PostgreSQL).
	Partitions []string
}

// Purge removes the events older than before that are not kept, and says
// what went. The counter rows stay, so seqs never repeat.
//
// On SQLite it deletes them. On PostgreSQL it drops each month partition
// that ends at or before before, whole, with no row-by-row delete and no
// dead rows left to vacuum; a month of which only a part is older waits
// until all of it is. Events therefore live from the retention to the
// retention plus one month. Rows in the default partition (a month whose
// partition was missing when they were written) are deleted one by one.
func (l *Log) Purge(ctx context.Context, before time.Time) (Purged, error) {
	if !l.db.Postgres() {
		res, err := l.db.NewDelete().Model((*Event)(nil)).Where("at < ? AND NOT kept", before).Exec(ctx)
		if err != nil {
			return Purged{}, fmt.Errorf("purge events: %w", err)
		}
		n, _ := res.RowsAffected()
		return Purged{Rows: n}, nil
	}
	var out Purged
	months, err := l.partitions(ctx)
	if err != nil {
		return out, err
	}
	for _, m := range months {
		if m.AddDate(0, 1, 0).After(before) {
			continue
		}
		name := partitionName(m)
		err := l.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '"+lockTimeout+"'"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+name)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("purge events: drop %s: %w", name, err)
		}
		out.Partitions = append(out.Partitions, name)
	}
	res, err := l.db.ExecContext(ctx, "DELETE FROM events_default WHERE at < ?", before)
	if err != nil {
		return out, fmt.Errorf("purge events: default partition: %w", err)
	}
	out.Rows, _ = res.RowsAffected()
	return out, nil
}

// Partition keeps the event log's month partitions ahead (PostgreSQL; on
// SQLite it does nothing): the current month and the next MonthsAhead get
// their partition if they have none, and events that landed in the default
// partition move to their month's partition, made for them. It returns the
// partitions it made. now is the time the months count from.
//
// A partition is made as a table of its own (rows moved in) and then
// attached, which holds the default partition's lock (and so the reads of
// the log, which scan it too) only for the moment the attachment takes.
func (l *Log) Partition(ctx context.Context, now time.Time) ([]string, error) {
	if !l.db.Postgres() {
		return nil, nil
	}
	have, err := l.partitions(ctx)
	if err != nil {
		return nil, err
	}
	var strays []time.Time
	if err := l.db.NewRaw("SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') FROM events_default").Scan(ctx, &strays); err != nil {
		return nil, fmt.Errorf("partition events: %w", err)
	}
	slices.SortFunc(strays, time.Time.Compare)
	want := monthsFrom(now, MonthsAhead)
	for _, m := range strays {
		want = append(want, time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC))
	}
	var made []string
	for _, m := range want {
		if slices.ContainsFunc(have, m.Equal) {
			continue
		}
		ok, err := l.addPartition(ctx, m)
		if err != nil {
			return made, err
		}
		have = append(have, m)
		if ok {
			made = append(made, partitionName(m))
		}
	}
	return made, nil
}

// addPartition makes month m's partition, moving its rows out of the
// default partition first; ok is false when it was there already (made
// meanwhile by another upkeep).
func (l *Log) addPartition(ctx context.Context, m time.Time) (ok bool, err error) {
	name := partitionName(m)
	lo, hi := bound(m), bound(m.AddDate(0, 1, 0))
	cols := "stream, seq, id, name, data, at, kept"
	stmts := []string{
		"CREATE TABLE " + name + " (LIKE events_log INCLUDING DEFAULTS)",
		"WITH moved AS (DELETE FROM events_default WHERE at >= '" + lo + "' AND at < '" + hi + "' RETURNING " + cols + ") " +
			"INSERT INTO " + name + " (" + cols + ") SELECT " + cols + " FROM moved",
		"ALTER TABLE events_log ATTACH PARTITION " + name + " FOR VALUES FROM ('" + lo + "') TO ('" + hi + "')",
	}
	err = l.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '"+lockTimeout+"'"); err != nil {
			return err
		}
		// First, so no row of the month can land in the default partition
		// between the move and the attachment; and every upkeep takes it
		// first, so one that ran meanwhile is seen here.
		if _, err := tx.ExecContext(ctx, "LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		var exists bool
		if err := tx.NewRaw("SELECT to_regclass(?) IS NOT NULL", name).Scan(ctx, &exists); err != nil || exists {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("partition events: make %s: %w", name, err)
	}
	return ok, nil
}

// partitions lists the months that have a partition of events_log.
func (l *Log) partitions(ctx context.Context) ([]time.Time, error) {
	var names []string
	err := l.db.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('events_log')`).Scan(ctx, &names)
	if err != nil {
		return nil, fmt.Errorf("list event partitions: %w", err)
	}
	var months []time.Time
	for _, n := range names {
		if m, err := time.Parse("events_2006_01", n); err == nil {
			months = append(months, m)
		}
	}
	slices.SortFunc(months, time.Time.Compare)
	return months, nil
}

// monthsFrom is the first instant (UTC) of now's month and of the ahead
// months after it.
func monthsFrom(now time.Time, ahead int) []time.Time {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, 0, ahead+1)
	for i := range ahead + 1 {
		out = append(out, first.AddDate(0, i, 0))
	}
	return out
}

// partitionName is the partition of month m: events_2029_02.
func partitionName(m time.Time) string { return m.UTC().Format("events_2006_01") }

// bound is m as a partition bound literal, in UTC.
func bound(m time.Time) string { return m.UTC().Format("2006-01-02 15:04:05+00") }
