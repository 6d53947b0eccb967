//go:build !linux

package realtime

import (
	"errors"
	"syscall"
)

// Elsewhere than Linux every connection has a reading goroutine
// (reader.go); these stand in for poll_linux.go.
type pollers struct{}

var errWouldBlock = errors.New("would block")

func newPollers(int) (*pollers, error)           { return nil, errors.New("no poller on this system") }
func (*pollers) run(func(func()))                {}
func (*pollers) close()                          {}
func (*pollers) add(*conn, syscall.RawConn) bool { return false }
func (*pollers) remove(*conn)                    {}
func (c *conn) readRaw([]byte) (int, error)      { return 0, errWouldBlock }
