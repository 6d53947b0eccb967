// Package migrations holds Jarimu's schema as bun migrations embedded in the
// binary. One SQL file serves both databases; where they differ, the file uses
// the template fields of Dialect ({{.TS}}, {{.Bytes}}, {{if .Postgres}}).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io"
	"strings"

	"github.com/uptrace/bun/migrate"

	"github.com/jarimu/jarimu/db"
)

//go:embed sql/*.sql
var files embed.FS

// Dialect is the template data the SQL files see.
type Dialect struct {
	Postgres bool
	TS       string // timestamp with time zone
	Bytes    string // binary data
	JSON     string // a JSON document
}

func dialectOf(d *db.DB) Dialect {
	if d.Postgres() {
		return Dialect{Postgres: true, TS: "TIMESTAMPTZ", Bytes: "BYTEA", JSON: "JSONB"}
	}
	return Dialect{TS: "TIMESTAMP", Bytes: "BLOB", JSON: "TEXT"}
}

// advisoryKey is the PostgreSQL advisory lock that serialises migrations of
// instances starting at once ("jarimu" in ASCII).
const advisoryKey = 0x6a6172696d75

func migrator(d *db.DB) (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(files); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return migrate.NewMigrator(d.DB, ms, migrate.WithTemplateData(dialectOf(d)),
		migrate.WithMarkAppliedOnSuccess(true)), nil
}

// locked runs fn holding the migration lock: a PostgreSQL advisory lock, so
// two instances starting at once migrate one after the other. SQLite serves
// one process per data dir, and its DDL transactions are IMMEDIATE.
func locked(ctx context.Context, d *db.DB, fn func(*migrate.Migrator) error) error {
	m, err := migrator(d)
	if err != nil {
		return err
	}
	if !d.Postgres() {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrations: init: %w", err)
		}
		return fn(m)
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", advisoryKey); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", advisoryKey)
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	return fn(m)
}

// Up applies every pending migration and returns the names applied.
func Up(ctx context.Context, d *db.DB) ([]string, error) {
	var names []string
	err := locked(ctx, d, func(m *migrate.Migrator) error {
		g, err := m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrations: up: %w", err)
		}
		for _, mg := range g.Migrations {
			names = append(names, mg.String())
		}
		return nil
	})
	return names, err
}

// Down rolls back the last group of migrations and returns the names undone.
func Down(ctx context.Context, d *db.DB) ([]string, error) {
	var names []string
	err := locked(ctx, d, func(m *migrate.Migrator) error {
		g, err := m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("migrations: down: %w", err)
		}
		for _, mg := range g.Migrations {
			names = append(names, mg.String())
		}
		return nil
	})
	return names, err
}

// Status writes one line per known migration: applied or pending.
func Status(ctx context.Context, d *db.DB, w io.Writer) error {
	return locked(ctx, d, func(m *migrate.Migrator) error {
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return fmt.Errorf("migrations: status: %w", err)
		}
		for _, mg := range ms {
			state := "pending"
			if mg.IsApplied() {
				state = "applied " + mg.MigratedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(w, "%-50s %s\n", strings.TrimSuffix(mg.String(), "_"), state)
		}
		return nil
	})
}
