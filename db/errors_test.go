package db_test

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
)

// The errors seen when PostgreSQL goes away under load (drills: a fast
// shutdown, an immediate one, a restart) are all "unavailable", so the
// server answers 503 with Retry-After rather than 500.
func TestIsUnavailable(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	yes := []error{
		&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
		&pgconn.PgError{Code: "57P03", Message: "the database system is starting up"},
		&pgconn.PgError{Code: "08006"},
		&pgconn.PgError{Code: "53300"},
		fmt.Errorf("join: load org: %w", io.ErrUnexpectedEOF),
		fmt.Errorf("user names: %w", reset),
		fmt.Errorf("join: %w", pgconn.ErrConnClosed),
		fmt.Errorf("idempotency: insert: %w", driver.ErrBadConn),
		errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"),
		errors.New("write: broken pipe"),
		errors.New("database is locked"),
	}
	for _, err := range yes {
		if !db.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false, want true", err)
		}
	}
	no := []error{
		nil,
		&pgconn.PgError{Code: "23505"},
		&pgconn.PgError{Code: "40001"},
		problem.Errorf(problem.NotFound, "no such org"),
		errors.New("sql: no rows in result set"),
		io.EOF,
	}
	for _, err := range no {
		if db.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = true, want false", err)
		}
	}
}
