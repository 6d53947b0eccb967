package migrations_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/migrations"
)

// beforePartitions is the last migration before the event log got its kept
// column and, on PostgreSQL, its partitions.
const beforePartitions = "20261206180001"

type oldEvent struct {
	Stream string    `bun:"stream"`
	Seq    int64     `bun:"seq"`
	ID     string    `bun:"id"`
	Name   string    `bun:"name"`
	Data   string    `bun:"data"`
	At     time.Time `bun:"at"`
}

// oldEvents are 15 months of events on three streams, kept ones among them.
func oldEvents() []oldEvent {
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	names := map[string][]string{
		"org:a":     {"task.updated", "org.accreditation_changed", "membership.decided"},
		"region:31": {"alert.published", "task.created", "alert.retracted"},
		"user:u":    {"claim.expired"},
	}
	var out []oldEvent
	for _, stream := range []string{"org:a", "region:31", "user:u"} {
		for i := range 15 {
			at := first.AddDate(0, i-14, 0).Add(time.Duration(i+1) * 37 * time.Hour) // months 14 ago to now
			name := names[stream][i%len(names[stream])]
			out = append(out, oldEvent{Stream: stream, Seq: int64(i + 1), ID: fmt.Sprintf("%s-%d", stream, i+1), Name: name,
				Data: fmt.Sprintf(`{"i":%d}`, i), At: at})
		}
	}
	return out
}

// An installation made before the event log was partitioned keeps every
// event through the migration, each marked kept or not as event.Kept says;
// on PostgreSQL each lands in its month's partition (made for it) or in
// events_kept, the current and the next two months have theirs, and the
// reads of the log use the primary key in every partition, in seq order,
// with no sort. Rolling the migration back gives the plain table again.
func TestEventsMigrationKeepsRows(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			d := openAt(t, b, beforePartitions)
			rows := oldEvents()
			if _, err := d.NewInsert().Model(&rows).ModelTableExpr("events").Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.ExecContext(ctx, "INSERT INTO event_streams (stream, seq) VALUES ('org:a', 15), ('region:31', 15), ('user:u', 15)"); err != nil {
				t.Fatal(err)
			}
			if _, err := migrations.Up(ctx, d); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			checkRows(t, d, rows, true)
			if d.Postgres() {
				checkPartitions(t, d, rows)
				checkPlans(t, d)
			}
			// The log reads and appends as before.
			log := event.NewLog(d, nil)
			evs, err := log.After(ctx, "region:31", 12, 10)
			if err != nil || len(evs) != 3 || evs[0].Seq != 13 || evs[0].ID != "region:31-13" {
				t.Fatalf("after 12: %+v, %v", evs, err)
			}
			if ev, err := event.Append(ctx, d, "region:31", "alert.published", struct{}{}); err != nil || ev.Seq != 16 {
				t.Fatalf("append: seq %d, %v", ev.Seq, err)
			}
			if _, err := d.ExecContext(ctx, "DELETE FROM events WHERE stream = 'region:31' AND seq = 16"); err != nil {
				t.Fatal(err)
			}

			if _, err := migrations.Down(ctx, d); err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			checkRows(t, d, rows, false)
			if d.Postgres() {
				var kind string
				if err := d.NewRaw("SELECT relkind::text FROM pg_class WHERE oid = to_regclass('events')").Scan(ctx, &kind); err != nil || kind != "r" {
					t.Fatalf("events after down is of kind %q (%v), want a plain table", kind, err)
				}
			}
			if _, err := migrations.Up(ctx, d); err != nil {
				t.Fatalf("migrate up again: %v", err)
			}
			checkRows(t, d, rows, true)
		})
	}
}

// openAt opens a fresh database of backend b migrated up to the migration
// whose name starts with last, closed when the test ends.
func openAt(t *testing.T, b dbtest.Backend, last string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.Options(t, b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := migrations.UpTo(ctx, d, last); err != nil {
		t.Fatalf("migrate to %s: %v", last, err)
	}
	return d
}

// checkRows compares the events table with rows; withKept says whether it
// has the kept column.
func checkRows(t *testing.T, d *db.DB, rows []oldEvent, withKept bool) {
	t.Helper()
	var got []struct {
		oldEvent
		Kept bool `bun:"kept"`
	}
	cols := "stream, seq, id, name, data, at"
	if withKept {
		cols += ", kept"
	}
	if err := d.NewRaw("SELECT "+cols+" FROM events ORDER BY stream, seq").Scan(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d events, want %d", len(got), len(rows))
	}
	for i, w := range rows {
		g := got[i]
		if g.Stream != w.Stream || g.Seq != w.Seq || g.ID != w.ID || g.Name != w.Name || g.Data != w.Data || !g.At.Equal(w.At) {
			t.Fatalf("event %d: got %+v, want %+v", i, g.oldEvent, w)
		}
		if withKept && g.Kept != event.Kept(w.Name) {
			t.Fatalf("event %s %d (%s): kept %v, want %v", w.Stream, w.Seq, w.Name, g.Kept, !g.Kept)
		}
	}
}

// checkPartitions says where each row lies and which months have
// partitions.
func checkPartitions(t *testing.T, d *db.DB, rows []oldEvent) {
	t.Helper()
	ctx := context.Background()
	var where []struct {
		Stream string `bun:"stream"`
		Seq    int64  `bun:"seq"`
		Part   string `bun:"part"`
	}
	if err := d.NewRaw("SELECT stream, seq, tableoid::regclass::text AS part FROM events ORDER BY stream, seq").Scan(ctx, &where); err != nil {
		t.Fatal(err)
	}
	months := map[string]bool{}
	for i, w := range rows {
		want := "events_kept"
		if !event.Kept(w.Name) {
			want = "events_" + w.At.UTC().Format("2006_01")
			months[want] = true
		}
		if where[i].Part != want {
			t.Fatalf("event %s %d at %s is in %s, want %s", w.Stream, w.Seq, w.At, where[i].Part, want)
		}
	}
	now := time.Now().UTC()
	for i := range event.MonthsAhead + 1 {
		months["events_"+time.Date(now.Year(), now.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC).Format("2006_01")] = true
	}
	var parts []string
	err := d.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('events_log') ORDER BY 1`).Scan(ctx, &parts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"events_default"}
	for m := range months {
		want = append(want, m)
	}
	slices.Sort(want)
	slices.Sort(parts)
	if !slices.Equal(parts, want) {
		t.Fatalf("partitions %v, want %v", parts, want)
	}
	var stale int
	if err := d.NewRaw("SELECT count(*) FROM pg_class WHERE relname = 'events_unpartitioned'").Scan(ctx, &stale); err != nil || stale != 0 {
		t.Fatalf("the old table is still there (%d, %v)", stale, err)
	}
}

// checkPlans explains the log's reads with sequential scans off: each
// partition must be read through an index, in seq order (no Sort node).
func checkPlans(t *testing.T, d *db.DB) {
	t.Helper()
	queries := map[string]string{
		"After":      "SELECT * FROM events WHERE stream = 'org:a' AND seq > 3 ORDER BY seq LIMIT 100",
		"HeadsSince": "SELECT e.* FROM (VALUES ('org:a', CAST(3 AS bigint)), ('org:b', 5)) AS r (stream, seq) CROSS JOIN LATERAL (SELECT stream, seq, id, name, at, data FROM events WHERE stream = r.stream AND seq >= r.seq ORDER BY seq LIMIT 100) AS e",
		"acks":       "SELECT stream, seq, at, data FROM events WHERE kept = TRUE AND name = 'alert.published' AND (stream = 'region:31' AND seq > 1 AND seq <= 9)",
	}
	for name, q := range queries {
		var plan []string
		err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			return tx.NewRaw("EXPLAIN (COSTS OFF) "+q).Scan(ctx, &plan)
		})
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		for _, line := range plan {
			node := strings.TrimLeft(line, " ->")
			if strings.HasPrefix(node, "Seq Scan") || strings.HasPrefix(node, "Sort") && !strings.HasPrefix(node, "Sort Key") ||
				strings.HasPrefix(node, "Incremental Sort") {
				t.Errorf("%s reads without an index or sorts:\n%s", name, text)
				break
			}
		}
		if name != "acks" && !strings.Contains(text, "events_kept_pkey") {
			t.Errorf("%s does not read events_kept by its primary key:\n%s", name, text)
		}
		if name == "acks" && (strings.Contains(text, "events_20") || strings.Contains(text, "events_default")) {
			t.Errorf("the acks' read of alert events looks beyond events_kept:\n%s", text)
		}
	}
}
