// Package db opens Jarimu's one *bun.DB on SQLite (embedded mode) or
// PostgreSQL (scaled mode) and is the one place that knows the difference:
// transactions, the database clock and driver error codes.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
)

// DB is the system of record: bun over SQLite or PostgreSQL.
type DB struct {
	*bun.DB
	postgres bool
	prepared pgx.QueryExecMode // see Prepared
}

// Options say where the database is.
type Options struct {
	// URL is a postgres:// URL; empty means SQLite in DataDir.
	URL string
	// DataDir holds jarimu.db in embedded mode; created if missing.
	DataDir string
	// MaxOpenConns bounds the PostgreSQL pool (default 32).
	MaxOpenConns int
}

// Open connects and checks the connection. It does not migrate. Rows are
// read with the columns the code knows and the others passed over: in a
// rolling upgrade the instances not yet replaced read tables that a later
// release added columns to (docs/operations.md 6.2).
func Open(ctx context.Context, o Options) (*DB, error) {
	var d *DB
	var err error
	if o.URL == "" {
		d, err = openSQLite(o.DataDir)
	} else {
		d, err = openPostgres(o.URL, o.MaxOpenConns)
	}
	if err != nil {
		return nil, err
	}
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return d, nil
}

func openSQLite(dir string) (*DB, error) {
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open database: create data dir: %w", err)
	}
	path := filepath.Join(dir, "jarimu.db")
	// _txlock=immediate: every transaction takes the write lock when it
	// begins, so a read-then-write transaction waits on busy_timeout instead
	// of failing at once with "database is locked".
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxLifetime(0)
	return &DB{DB: bun.NewDB(sqldb, sqlitedialect.New(), bun.WithDiscardUnknownColumns())}, nil
}

// cancelGrace is how long a statement whose context ended may take to
// stop once its cancel is sent, before its connection is closed.
const cancelGrace = 2 * time.Second

func openPostgres(dsn string, maxOpen int) (*DB, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, errors.New("open database: the URL must start with postgres://")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// bun writes argument values into the query text, so no two queries
	// are alike and pgx's default (prepare each new statement, keep it in
	// a per-connection cache) costs a second round trip per query and
	// keeps hundreds of one-off statements per connection alive, on both
	// ends. The simple protocol sends each query once. A URL that sets
	// default_query_exec_mode itself keeps its choice. (A query with $n
	// parameters can still ask for a prepared statement: see Prepared.)
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	// A statement whose context ends (its caller went, or gave up) is
	// cancelled on the server and its connection kept. pgx's default
	// closes the connection instead: PostgreSQL then ran the statement on
	// until it next wrote to the socket, and the pool dialled a new
	// connection (a new server process) in its place, which in a storm of
	// leaving phones is many at once. If the server does not answer the
	// cancel within cancelGrace, the connection is closed as before. In a
	// transaction the rollback that follows keeps it too (see Tx).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	prepared := pgx.QueryExecModeCacheStatement
	if cfg.StatementCacheCapacity <= 0 {
		prepared = pgx.QueryExecModeExec
	}
	sqldb := stdlib.OpenDB(*cfg)
	if maxOpen <= 0 {
		maxOpen = 32
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxOpen)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns()), postgres: true, prepared: prepared}, nil
}

// Prepared is what a query with $n parameters that runs very often passes
// before its arguments (PostgreSQL; database/sql hands it to pgx): prepare
// it once per pooled connection and keep it (pgx's statement cache). A URL
// that turns that cache off (statement_cache_capacity=0, e.g. for a
// connection pooler without prepared statements) gets an unnamed statement
// instead, parsed and planned each time as any other query.
func (d *DB) Prepared() pgx.QueryExecMode { return d.prepared }

// Postgres reports whether this is PostgreSQL (else SQLite).
func (d *DB) Postgres() bool { return d.postgres }

// PoolSize is the most connections the pool opens at once.
func (d *DB) PoolSize() int { return d.DB.DB.Stats().MaxOpenConnections }

// ForUpdate locks the rows q selects until the transaction ends: FOR UPDATE
// on PostgreSQL; on SQLite a write transaction holds the whole database
// already, so q is left as it is.
func (d *DB) ForUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if d.postgres {
		return q.For("UPDATE")
	}
	return q
}

// Tx runs fn in one transaction, committed when fn returns nil. On SQLite the
// transaction begins IMMEDIATE (see openSQLite).
//
// fn's statements run on ctx, and one whose ctx ends is cancelled on the
// server (see openPostgres). The transaction itself is begun on a context
// that ends endGrace after ctx does, so the rollback that follows a
// given-up statement still runs and the connection goes back to the pool:
// the driver rolls back on the context the transaction began with, and on
// an ended one pgx closes the connection (a new server process to dial in
// its place, many at once when phones leave together). A rollback or
// commit that has not finished endGrace after ctx ended is cut as before.
func (d *DB) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	txCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		cut := time.NewTimer(endGrace)
		defer cut.Stop()
		select {
		case <-cut.C:
			cancel()
		case <-txCtx.Done(): // Tx returned
		}
	})
	defer stop()
	tx, err := d.BeginTx(txCtx, nil)
	if err != nil {
		return err
	}
	var done bool
	defer func() {
		if !done {
			_ = tx.Rollback() // fn panicked
		}
	}()
	if err := fn(ctx, tx); err != nil {
		done = true
		_ = tx.Rollback()
		return err
	}
	done = true
	return tx.Commit()
}

// endGrace bounds the rollback or commit of a transaction whose caller's
// context ended: past a given-up statement's own cancelGrace, with room
// for the rollback itself.
const endGrace = cancelGrace + 3*time.Second

// Now is the database's clock, the one clock for leases and expiries. SQLite
// runs in this process, so its clock is this process's.
func (d *DB) Now(ctx context.Context, q bun.IDB) (time.Time, error) {
	if !d.postgres {
		return time.Now().UTC().Truncate(time.Microsecond), nil
	}
	var t time.Time
	if err := q.NewRaw("SELECT clock_timestamp()").Scan(ctx, &t); err != nil {
		return time.Time{}, fmt.Errorf("database clock: %w", err)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// ForNoKeyUpdate is ForUpdate for a row whose key the transaction will not
// change: FOR NO KEY UPDATE on PostgreSQL, the lock an UPDATE of other
// columns takes, taken early. Unlike FOR UPDATE it lets other transactions
// insert rows that refer to the locked one (their foreign key check's KEY
// SHARE).
func (d *DB) ForNoKeyUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if d.postgres {
		return q.For("NO KEY UPDATE")
	}
	return q
}

// ForUpdateOf is ForUpdate for a query that joins: only the rows of table
// (its alias in q) are locked.
func (d *DB) ForUpdateOf(q *bun.SelectQuery, table string) *bun.SelectQuery {
	if d.postgres {
		return q.For("UPDATE OF " + table)
	}
	return q
}

// XactLock takes an advisory lock on key until tx ends: transactions that
// take the same key run one after the other on PostgreSQL. SQLite's write
// transactions are serial already: nothing to take.
func (d *DB) XactLock(ctx context.Context, tx bun.Tx, key string) error {
	if !d.postgres {
		return nil
	}
	// The schema is part of the key (installations or tests sharing a
	// database in schemas of their own do not wait for each other).
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || ?))", key); err != nil {
		return fmt.Errorf("advisory lock %s: %w", key, err)
	}
	return nil
}

// DayUTC is an SQL expression for the UTC calendar day (YYYY-MM-DD) of the
// time column col.
func (d *DB) DayUTC(col string) string {
	if d.postgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(CAST(" + col + " AS TEXT), 1, 10)"
}

// WithNow adds the database clock to q as the column as, so a row and the
// time it was read at come in one statement: clock_timestamp() on
// PostgreSQL; on SQLite (in this process) the process clock, as Now.
func (d *DB) WithNow(q *bun.SelectQuery, as string) *bun.SelectQuery {
	if d.postgres {
		return q.ColumnExpr("clock_timestamp() AS " + as)
	}
	return q.ColumnExpr("? AS "+as, time.Now().UTC().Truncate(time.Microsecond))
}
