package db_test

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
)

// A read-then-write transaction must wait for another writer, not fail with
// "database is locked": SQLite transactions begin IMMEDIATE.
func TestConcurrentReadThenWriteTransactions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "INSERT INTO counter (n) VALUES (0)"); err != nil {
			t.Fatal(err)
		}
		const workers = 20
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				errs <- d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					var n int
					q := "SELECT n FROM counter"
					if d.Postgres() {
						q += " FOR UPDATE"
					}
					if err := tx.NewRaw(q).Scan(ctx, &n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "UPDATE counter SET n = ?", n+1)
					return err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("transaction failed: %v", err)
			}
		}
		var n int
		if err := d.NewRaw("SELECT n FROM counter").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != workers {
			t.Fatalf("got counter %d, want %d", n, workers)
		}
	})
}

func TestUniqueViolationAndNoRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		d.ExecContext(ctx, "CREATE TABLE u (k TEXT PRIMARY KEY)")
		if _, err := d.ExecContext(ctx, "INSERT INTO u VALUES ('a')"); err != nil {
			t.Fatal(err)
		}
		_, err := d.ExecContext(ctx, "INSERT INTO u VALUES ('a')")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("got %v, want a unique violation", err)
		}
		var k string
		err = d.NewRaw("SELECT k FROM u WHERE k = 'b'").Scan(ctx, &k)
		if !db.IsNoRows(err) {
			t.Fatalf("got %v, want no rows", err)
		}
		if db.IsUniqueViolation(errors.New("other")) {
			t.Fatal("a plain error is not a unique violation")
		}
	})
}

// Times written and compared through bun keep their order on both databases.
func TestTimeOrderAndClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ts := "TIMESTAMP"
		if d.Postgres() {
			ts = "TIMESTAMPTZ"
		}
		d.ExecContext(ctx, "CREATE TABLE tm (id INTEGER, at "+ts+" NOT NULL)")
		now, err := d.Now(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(now).Abs() > time.Minute {
			t.Fatalf("database clock %v is far from %v", now, time.Now())
		}
		base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		times := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(510 * time.Millisecond), base.Add(time.Second), base.Add(1500 * time.Microsecond)}
		for i, at := range times {
			if _, err := d.NewRaw("INSERT INTO tm (id, at) VALUES (?, ?)", i, at).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := d.NewRaw("SELECT count(*) FROM tm WHERE at < ?", base.Add(505*time.Millisecond)).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("got %d rows before base+505ms, want 3", n)
		}
		var got time.Time
		if err := d.NewRaw("SELECT at FROM tm WHERE id = 4").Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(times[4]) {
			t.Fatalf("got %v, want %v", got, times[4])
		}
	})
}

// On PostgreSQL, queries (bun writes their values into the text, so each
// is new) must not leave prepared statements behind on the connection:
// each would have cost a round trip of its own and stayed in memory.
func TestPostgresQueriesAreNotPrepared(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if !d.Postgres() {
			return // SQLite has no server-side statement cache
		}
		ctx := context.Background()
		conn, err := d.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range 20 {
			var n int
			if err := conn.NewRaw("SELECT ?::int + 1", i).Scan(ctx, &n); err != nil || n != i+1 {
				t.Fatalf("query %d: %d, %v", i, n, err)
			}
		}
		var prepared int
		if err := conn.NewRaw("SELECT count(*) FROM pg_prepared_statements").Scan(ctx, &prepared); err != nil {
			t.Fatal(err)
		}
		if prepared != 0 {
			t.Fatalf("%d statements prepared on the connection, want none", prepared)
		}
	})
}

// A query with $n parameters that passes Prepared is prepared once per
// connection and kept (one statement however often it runs); a URL that
// turns pgx's statement cache off (as for a pooler without prepared
// statements) gets unnamed statements instead, which still run.
func TestPreparedOncePerConnection(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		if b != dbtest.Postgres {
			continue // SQLite has no server-side statements
		}
		for _, tc := range []struct {
			param string
			mode  pgx.QueryExecMode
			kept  int
		}{{"", pgx.QueryExecModeCacheStatement, 1}, {"statement_cache_capacity=0", pgx.QueryExecModeExec, 0}} {
			t.Run("cache "+cmp.Or(tc.param, "on"), func(t *testing.T) {
				opts := dbtest.Options(t, b)
				if tc.param != "" {
					opts.URL += "&" + tc.param
				}
				ctx := context.Background()
				d, err := db.Open(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if d.Prepared() != tc.mode {
					t.Fatalf("Prepared: %v, want %v", d.Prepared(), tc.mode)
				}
				conn, err := d.DB.DB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				for i := range 20 {
					var n int
					if err := conn.QueryRowContext(ctx, "SELECT CAST($1 AS int) + 1", d.Prepared(), i).Scan(&n); err != nil || n != i+1 {
						t.Fatalf("query %d: %d, %v", i, n, err)
					}
				}
				var kept int
				if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&kept); err != nil {
					t.Fatal(err)
				}
				if kept != tc.kept {
					t.Fatalf("%d statements kept on the connection, want %d", kept, tc.kept)
				}
			})
		}
	}
}

// openOne opens b with a pool of one connection, closed at the test's end.
func openOne(t *testing.T, b dbtest.Backend) (db.Options, *db.DB) {
	t.Helper()
	opts := dbtest.Options(t, b)
	opts.MaxOpenConns = 1
	d, err := db.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return opts, d
}

// A statement whose caller gives up stops on the server, and its connection
// stays in the pool: the next query runs on the same server process at once.
// (pgx's default closed the connection, and PostgreSQL ran the statement on.)
func TestGivenUpStatementCancelledOnServer(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		if b != dbtest.Postgres {
			continue // SQLite runs in the process: nothing to cancel elsewhere
		}
		opts, d := openOne(t, b)
		ctx := context.Background()
		var pid int
		if err := d.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		marker := "given_up_" + t.Name()
		_, err := d.ExecContext(short, "SELECT pg_sleep(30) /* "+marker+" */")
		if err == nil {
			t.Fatal("a 30 s statement given up after 200 ms succeeded")
		}
		var again int
		if err := d.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if again != pid {
			t.Fatalf("the next query ran on server process %d, want %d (the connection was closed, not kept)", again, pid)
		}
		admin, err := db.Open(ctx, db.Options{URL: opts.URL, MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		var running int
		if err := admin.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE ?",
			"%"+marker+"%").Scan(ctx, &running); err != nil {
			t.Fatal(err)
		}
		// The admin's own query names the marker too, as its argument.
		if running != 1 {
			t.Fatalf("%d server processes still run the given-up statement, want none", running-1)
		}
	}
}

// A transaction whose caller gives up in the middle of a statement rolls
// back, nothing it wrote stays, and its connection stays in the pool: on
// PostgreSQL the next query runs on the same server process (the rollback
// used to run on the ended context, and pgx closed the connection).
func TestGivenUpTransactionKeepsConnection(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			_, d := openOne(t, b)
			ctx := context.Background()
			if _, err := d.ExecContext(ctx, "CREATE TABLE given_up (n INTEGER NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			pid := func() int {
				t.Helper()
				if !d.Postgres() {
					return 0
				}
				var p int
				if err := d.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &p); err != nil {
					t.Fatal(err)
				}
				return p
			}
			before := pid()
			short, cancel := context.WithCancel(ctx)
			defer cancel()
			start := time.Now()
			err := d.Tx(short, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO given_up (n) VALUES (1)"); err != nil {
					return err
				}
				if !d.Postgres() {
					cancel() // SQLite runs in the process: the next statement is refused
					_, err := tx.ExecContext(ctx, "INSERT INTO given_up (n) VALUES (2)")
					return err
				}
				time.AfterFunc(200*time.Millisecond, cancel)
				_, err := tx.ExecContext(ctx, "SELECT pg_sleep(30)")
				return err
			})
			if err == nil { // context.Canceled, or PostgreSQL's "canceling statement"
				t.Fatal("the given-up transaction committed")
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the given-up transaction took %v", took)
			}
			var n int
			if err := d.NewRaw("SELECT count(*) FROM given_up").Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d rows of the given-up transaction stayed", n)
			}
			if after := pid(); after != before {
				t.Errorf("the next query ran on server process %d, want %d (the connection was closed, not kept)", after, before)
			}
			// The pool still commits what is not given up.
			if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO given_up (n) VALUES (3)")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if err := d.NewRaw("SELECT count(*) FROM given_up").Scan(ctx, &n); err != nil || n != 1 {
				t.Errorf("after a committed transaction: %d rows (%v), want 1", n, err)
			}
		})
	}
}
