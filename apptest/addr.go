package apptest

import (
	"net"
	"testing"
)

// UnusedAddr is a loopback address (host:port) nothing listens on now: for
// a server a test starts there later, or one that is down.
func UnusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
