package event_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
)

// monthStart is the first instant (UTC) of the month n months from t's.
func monthStart(t time.Time, n int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
}

// appendAt appends an event named name to stream and moves it to time at,
// as if written then (on PostgreSQL the row moves to at's partition, or
// to the default one when at's month has none).
func appendAt(t *testing.T, d *db.DB, stream, name string, at time.Time) event.Event {
	t.Helper()
	ctx := context.Background()
	ev, err := event.Append(ctx, d, stream, name, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewRaw("UPDATE events SET at = ? WHERE stream = ? AND seq = ?", at, stream, ev.Seq).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	ev.At = at
	return ev
}

// partitionsOf lists the month partitions of the event log (PostgreSQL).
func partitionsOf(t *testing.T, d *db.DB) []string {
	t.Helper()
	var names []string
	err := d.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('events_log') AND c.relname <> 'events_default' ORDER BY 1`).Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// partitionOf names the partition holding stream's event seq (PostgreSQL).
func partitionOf(t *testing.T, d *db.DB, stream string, seq int64) string {
	t.Helper()
	var name string
	err := d.NewRaw("SELECT tableoid::regclass::text FROM events WHERE stream = ? AND seq = ?", stream, seq).Scan(context.Background(), &name)
	if err != nil {
		t.Fatalf("partition of %s %d: %v", stream, seq, err)
	}
	return name
}

func seqsOf(t *testing.T, log *event.Log, stream string) []int64 {
	t.Helper()
	evs, err := log.After(context.Background(), stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.Seq)
	}
	return out
}

// Retention removes old events, never alerts or accreditation changes, and
// the counters stay, so seqs never repeat. On PostgreSQL it drops whole
// months: a month only partly past the cut waits, where SQLite deletes row
// by row.
func TestPurgeKeepsAlertsAndSeqs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := event.NewLog(d, nil)
		ctx := context.Background()
		now := time.Now().UTC()
		old, older := monthStart(now, -2).Add(5*24*time.Hour), monthStart(now, -3).Add(5*24*time.Hour)
		s := "region:31"
		appendAt(t, d, s, "task.created", older)                                       // 1, goes
		appendAt(t, d, s, "alert.published", older)                                    // 2, kept
		appendAt(t, d, s, "task.updated", older)                                       // 3, goes
		appendAt(t, d, "org:a", "org.accreditation_changed", older)                    // org:a 1, kept
		appendAt(t, d, "org:a", "membership.decided", older)                           // org:a 2, goes
		appendAt(t, d, s, "task.updated", old)                                         // 4: older than the cut, in a month that is not
		appendAt(t, d, s, "alert.retracted", old)                                      // 5, kept
		if _, err := event.Append(ctx, d, s, "task.created", struct{}{}); err != nil { // 6, recent
			t.Fatal(err)
		}
		made, err := log.Partition(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		cut := monthStart(now, -2).Add(10 * 24 * time.Hour) // after seq 4, inside its month
		if d.Postgres() {
			// The old rows had no partition: they waited in the default
			// one, and now have their months'.
			if want := []string{"events_" + older.Format("2006_01"), "events_" + old.Format("2006_01")}; !slices.Equal(made, want) {
				t.Fatalf("made %v, want %v", made, want)
			}
			if p := partitionOf(t, d, s, 1); p != made[0] {
				t.Fatalf("seq 1 is in %s, want %s", p, made[0])
			}
			if p := partitionOf(t, d, s, 2); p != "events_kept" {
				t.Fatalf("the alert is in %s, want events_kept", p)
			}
		} else if made != nil {
			t.Fatalf("made %v on SQLite, want nothing", made)
		}
		p, err := log.Purge(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{2, 4, 5, 6} // the month of seq 4 is not over before the cut
		if d.Postgres() {
			if !slices.Equal(p.Partitions, made[:1]) || p.Rows != 0 {
				t.Fatalf("purged %+v, want the partition %s dropped and no row deleted", p, made[0])
			}
			if got := partitionsOf(t, d); slices.Contains(got, made[0]) || !slices.Contains(got, made[1]) {
				t.Fatalf("partitions %v after the purge: want %s gone, %s kept", got, made[0], made[1])
			}
		} else {
			want = []int64{2, 5, 6}
			if p.Rows != 4 || p.Partitions != nil {
				t.Fatalf("purged %+v, want 4 rows", p)
			}
		}
		if got := seqsOf(t, log, s); !slices.Equal(got, want) {
			t.Fatalf("region:31 keeps %v, want %v", got, want)
		}
		if got := seqsOf(t, log, "org:a"); !slices.Equal(got, []int64{1}) {
			t.Fatalf("org:a keeps %v, want the accreditation change (1) only", got)
		}
		ev, err := event.Append(ctx, d, s, "task.created", struct{}{})
		if err != nil || ev.Seq != 7 {
			t.Errorf("got seq %d (%v) after purge, want 7", ev.Seq, err)
		}
	})
}

// A write to a month without its partition (the chore stopped for months)
// still succeeds: it lands in the default partition, reads find it, and
// the next upkeep moves it to the month's partition, made for it.
// Partitions are ready for the current and the next two months from the
// migration on.
func TestWriteWithoutPartition(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		if b != dbtest.Postgres {
			continue // SQLite has no partitions
		}
		t.Run(string(b), func(t *testing.T) {
			d := dbtest.Open(t, b)
			log := event.NewLog(d, nil)
			ctx := context.Background()
			now := time.Now().UTC()
			var ahead []string
			for i := range event.MonthsAhead + 1 {
				ahead = append(ahead, "events_"+monthStart(now, i).Format("2006_01"))
			}
			if got := partitionsOf(t, d); !slices.Equal(got, ahead) {
				t.Fatalf("partitions after migrating %v, want %v", got, ahead)
			}
			current := ahead[0]
			if _, err := d.ExecContext(ctx, "DROP TABLE "+current); err != nil {
				t.Fatal(err)
			}
			ev, err := event.Append(ctx, d, "org:a", "task.created", struct{}{})
			if err != nil {
				t.Fatalf("append without a partition: %v", err)
			}
			if p := partitionOf(t, d, "org:a", ev.Seq); p != "events_default" {
				t.Fatalf("the event is in %s, want events_default", p)
			}
			if got := seqsOf(t, log, "org:a"); !slices.Equal(got, []int64{1}) {
				t.Fatalf("read %v from the default partition, want [1]", got)
			}
			made, err := log.Partition(ctx, now)
			if err != nil || !slices.Equal(made, []string{current}) {
				t.Fatalf("made %v (%v), want %s", made, err, current)
			}
			if p := partitionOf(t, d, "org:a", ev.Seq); p != current {
				t.Fatalf("the event is in %s after the upkeep, want %s", p, current)
			}
			// Upkeep a month on makes the next month ahead, and nothing else.
			made, err = log.Partition(ctx, monthStart(now, 1))
			if want := "events_" + monthStart(now, 3).Format("2006_01"); err != nil || !slices.Equal(made, []string{want}) {
				t.Fatalf("made %v (%v) a month on, want %s", made, err, want)
			}
			if ev, err := event.Append(ctx, d, "org:a", "task.updated", struct{}{}); err != nil || ev.Seq != 2 {
				t.Fatalf("append after the upkeep: seq %d, %v", ev.Seq, err)
			}
		})
	}
}
