// Package dbtest gives each test its own migrated database: a SQLite file in
// a temporary directory always, and a fresh PostgreSQL schema too when
// JARIMU_TEST_DATABASE_URL is set. In CI (CI=true) that variable must be set,
// so the PostgreSQL half can never be skipped silently.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/migrations"
)

// Backend names a database a test runs on.
type Backend string

// The backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends lists the databases tests run on here: SQLite always, PostgreSQL
// when JARIMU_TEST_DATABASE_URL is set. In CI a missing URL fails the test.
func Backends(t testing.TB) []Backend {
	t.Helper()
	if os.Getenv("JARIMU_TEST_DATABASE_URL") != "" {
		return []Backend{SQLite, Postgres}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but JARIMU_TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI")
	}
	return []Backend{SQLite}
}

// Each runs fn as a subtest on every backend, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(string(b), func(t *testing.T) { fn(t, Open(t, b)) })
	}
}

// Open gives a fresh, migrated database of backend b, closed (and for
// PostgreSQL dropped) when the test ends.
func Open(t testing.TB, b Backend) *db.DB {
	t.Helper()
	opts := Options(t, b)
	ctx := context.Background()
	d, err := db.Open(ctx, opts)
	if err != nil {
		t.Fatalf("open %s: %v", b, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := migrations.Up(ctx, d); err != nil {
		t.Fatalf("migrate %s: %v", b, err)
	}
	return d
}

// Options makes a fresh, empty database of backend b and returns how to open
// it: a new data dir for SQLite, a new schema for PostgreSQL (dropped at
// cleanup). Tests that start the real server pass these to it.
func Options(t testing.TB, b Backend) db.Options {
	t.Helper()
	if b == SQLite {
		return db.Options{DataDir: t.TempDir()}
	}
	base := os.Getenv("JARIMU_TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("JARIMU_TEST_DATABASE_URL is not set")
	}
	schema := "t_" + randomHex(8)
	admin, err := db.Open(context.Background(), db.Options{URL: base, MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse JARIMU_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return db.Options{URL: u.String(), MaxOpenConns: 8}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
