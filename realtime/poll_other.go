//go:build !linux

package realtime

import (
	"errors"
	"log/slog"
	"syscall"
)

// Elsewhere than Linux every connection has a reading goroutine
// (reader.go); these stand in for poll_linux.go.
type pollers struct{}

var (
	errWouldBlock   = errors.New("would block")
	errSocketClosed = errors.New("socket closed")
)

func newPollers(int, *slog.Logger) (*pollers, error) { return nil, nil }
func (*pollers) run(func(func()))                    {}
func (*pollers) close()                              {}
func (*pollers) add(*conn, syscall.RawConn) error    { return errors.ErrUnsupported }
func (*pollers) remove(*conn)                        {}
func (c *conn) readRaw([]byte) (int, error)          { return 0, errWouldBlock }
