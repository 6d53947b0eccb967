package migrations_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/migrations"
)

// The benchmark's event log: benchStreams streams of benchPerStream events
// each, one every 8 h 45 min from 2026-01-01 (a year), interleaved in
// time as real streams are; one event in 500 is an alert.
const (
	benchStreams   = 10000
	benchPerStream = 1000
)

// fillEvents writes the benchmark's events into an events table of the
// layout before partitioning (no kept column).
const fillEvents = `INSERT INTO events (stream, seq, id, name, data, at)
SELECT 'org:' || s, k, md5(s || ':' || k),
       CASE WHEN k %% 500 = 0 THEN 'alert.published' ELSE 'task.updated' END,
       '{"id":"' || md5(k || ':' || s) || '","title":"Pantau TPS ' || s || '","slots_taken":' || k %% 7 || '}',
       timestamptz '2026-01-01 00:00:00+00' + (k - 1) * interval '8 hours 45 minutes' + s * interval '1 second'
  FROM generate_series(1, %d) AS k, generate_series(1, %d) AS s`

var benchSetup sync.Once

// BenchmarkResume times the reads of a feed resume on an event log of ten
// million rows, unpartitioned (schema plain) and partitioned by month
// (schema part: made by the real migration from the unpartitioned layout,
// whose duration it logs). It needs JARIMU_BENCH_EVENTS_URL, a throwaway
// database that it fills on first use (minutes, about 6 GiB): see
// docs/benchmarks.md. Run with -benchtime 1000x: each op is one resume, of
// random streams; p50 and p99 are reported.
func BenchmarkResume(b *testing.B) {
	base := os.Getenv("JARIMU_BENCH_EVENTS_URL")
	if base == "" {
		b.Skip("JARIMU_BENCH_EVENTS_URL is not set (a throwaway database; see docs/benchmarks.md)")
	}
	benchSetup.Do(func() { setupBench(b, base) })
	for _, layout := range []string{"plain", "part"} {
		d := openSchema(b, base, layout)
		log := event.NewLog(d, nil)
		ops := map[string]func(ctx context.Context, rng *rand.Rand) error{
			// A phone back after a short absence: four streams, each ten
			// events behind its head.
			"heads_since_4_streams": func(ctx context.Context, rng *rand.Rand) error {
				streams := make([]string, 4)
				from := map[string]int64{}
				for i := range streams {
					streams[i] = fmt.Sprint("org:", 1+rng.IntN(benchStreams))
					from[streams[i]] = benchPerStream - 10
				}
				_, _, err := log.HeadsSince(ctx, streams, from, 100)
				return err
			},
			// A connection filling a gap: one stream, ten behind.
			"after_recent": func(ctx context.Context, rng *rand.Rand) error {
				_, err := log.After(ctx, fmt.Sprint("org:", 1+rng.IntN(benchStreams)), benchPerStream-10, 100)
				return err
			},
			// A resume from half a year back: a page of 100.
			"after_half_year": func(ctx context.Context, rng *rand.Rand) error {
				_, err := log.After(ctx, fmt.Sprint("org:", 1+rng.IntN(benchStreams)), benchPerStream/2, 100)
				return err
			},
		}
		for _, name := range []string{"heads_since_4_streams", "after_recent", "after_half_year"} {
			b.Run(layout+"/"+name, func(b *testing.B) {
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(1, 2))
				took := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					if err := ops[name](ctx, rng); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
			})
		}
	}
}

// openSchema opens the database at base with search_path schema.
func openSchema(b *testing.B, base, schema string) *db.DB {
	b.Helper()
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	d, err := db.Open(context.Background(), db.Options{URL: u.String(), MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// setupBench fills schema plain (the layout before partitioning, with the
// kept column added so the same code reads both) and schema part (the same
// rows, then the migration), unless a previous run did.
func setupBench(b *testing.B, base string) {
	ctx := context.Background()
	admin := openSchema(b, base, "public")
	var done bool
	if err := admin.NewRaw("SELECT to_regclass('part.events_kept') IS NOT NULL").Scan(ctx, &done); err != nil {
		b.Fatal(err)
	}
	if done {
		return
	}
	run := func(d *db.DB, what string, stmts ...string) {
		start := time.Now()
		for _, s := range stmts {
			if _, err := d.ExecContext(ctx, s); err != nil {
				b.Fatalf("%s: %s: %v", what, s, err)
			}
		}
		b.Logf("%s: %s", what, time.Since(start).Round(time.Second))
	}
	run(admin, "schemas", "DROP SCHEMA IF EXISTS plain CASCADE", "DROP SCHEMA IF EXISTS part CASCADE",
		"CREATE SCHEMA plain", "CREATE SCHEMA part")
	for _, schema := range []string{"plain", "part"} {
		d := openSchema(b, base, schema)
		if err := migrations.UpTo(ctx, d, beforePartitions); err != nil {
			b.Fatal(err)
		}
		bulk := []string{"SET synchronous_commit = off", "SET maintenance_work_mem = '512MB'",
			"ALTER TABLE events DROP CONSTRAINT events_pkey", "DROP INDEX events_at_idx"}
		if schema == "plain" {
			bulk = append(bulk, fmt.Sprintf(fillEvents, benchPerStream, benchStreams))
		} else {
			bulk = append(bulk, "INSERT INTO events (stream, seq, id, name, data, at) SELECT stream, seq, id, name, data, at FROM plain.events")
		}
		bulk = append(bulk, "ALTER TABLE events ADD PRIMARY KEY (stream, seq)", "CREATE INDEX events_at_idx ON events (at)",
			fmt.Sprintf("INSERT INTO event_streams (stream, seq) SELECT 'org:' || s, %d FROM generate_series(1, %d) AS s", benchPerStream, benchStreams))
		// One connection, so the session settings hold for the fill.
		d.SetMaxOpenConns(1)
		run(d, "fill "+schema, bulk...)
		d.SetMaxOpenConns(4)
		if schema == "plain" {
			run(d, "plain: kept column", "ALTER TABLE events ADD COLUMN kept BOOLEAN NOT NULL DEFAULT FALSE",
				"UPDATE events SET kept = TRUE WHERE name LIKE 'alert.%'")
		} else {
			run(d, "part: vacuum before migrating", "VACUUM ANALYZE events")
			start := time.Now()
			if _, err := migrations.Up(ctx, d); err != nil {
				b.Fatal(err)
			}
			b.Logf("part: migration to partitions: %s", time.Since(start).Round(time.Second))
		}
		run(d, schema+": vacuum analyze", "VACUUM ANALYZE")
	}
}
