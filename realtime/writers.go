package realtime

import (
	"time"
)

// writerIdle is how long a writer goroutine waits for another connection
// to write to before it ends.
const writerIdle = 2 * time.Second

// write has a writer drain c: a writer that is waiting for work if there
// is one, else a new one. Writers are not bound to connections: an idle
// connection has none (the memory per connection stays small), and while
// events flow the same goroutines serve one connection after another,
// their stacks already grown, instead of a new goroutine per connection and
// event. A writer stuck on a slow socket holds only itself: the next
// connection gets another writer.
func (h *Hub) write(c *conn) {
	select {
	case h.work <- c:
	default:
		h.writerWG.Add(1)
		go h.writer(c)
	}
}

func (h *Hub) writer(c *conn) {
	defer h.writerWG.Done()
	// The idle timer is not reset per connection (a timer update per
	// delivery in a fan-out): when it fires, a writer that served anyone
	// since the last time waits another round, so it ends after one to two
	// writerIdle of nothing to do.
	idle := time.NewTicker(writerIdle)
	defer idle.Stop()
	for c != nil {
		c.drain()
		c = h.nextWork(idle.C)
	}
}

// nextWork waits for the next connection to write; nil when the hub stops
// or idle ticks twice without one.
func (h *Hub) nextWork(idle <-chan time.Time) *conn {
	for busy := true; ; busy = false {
		select {
		case c := <-h.work:
			return c
		case <-idle:
			if !busy {
				return nil
			}
		case <-h.stop:
			return nil
		}
	}
}
