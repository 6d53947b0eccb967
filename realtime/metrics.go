package realtime

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
)

// Metrics count what the hub does; read them with atomic loads.
type Metrics struct {
	Connections  atomic.Int64 // open now
	Delivered    atomic.Int64 // event frames written
	EventWrites  atomic.Int64 // socket writes of a connection's batched frames (batch.go)
	Coalesced    atomic.Int64 // frames that shared a socket write with an earlier one
	Healed       atomic.Int64 // events read back from the database to fill gaps
	SlowKicked   atomic.Int64 // connections closed with 4429
	Routed       atomic.Int64 // events fanned out by this hub
	DroppedInput atomic.Int64 // deliveries dropped because the hub's input was full
	HealReads    atomic.Int64 // reads of the log to fill gaps (per stream, or per connection)
	Unavailable  atomic.Int64 // hellos, token frames and starts that could not be checked (a dependency down)

	mu     sync.Mutex
	closed map[int]int64 // connections closed by the server, by close code
}

// countClose counts a connection closed by the server with code.
func (m *Metrics) countClose(code int) {
	m.mu.Lock()
	if m.closed == nil {
		m.closed = map[int]int64{}
	}
	m.closed[code]++
	m.mu.Unlock()
}

// Closed is how many connections the server closed, by close code.
func (m *Metrics) Closed() map[int]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.closed)
}

// unavailable logs, at warn, that a check could not be made because a
// dependency is down: the first time, then at most once per
// unavailableRetry with how many were not logged. An outage of the
// database makes every reconnecting phone fail alike; one line tells it.
func (h *Hub) unavailable(what string, err error) {
	h.o.Metrics.Unavailable.Add(1)
	ok, skipped := h.warn.Allow()
	if !ok {
		return
	}
	h.o.Logger.Warn(what+": cannot check now; the client was asked to retry (close 1013) or kept",
		slog.String("error", err.Error()), slog.Int64("not_logged_since_last", skipped))
}
