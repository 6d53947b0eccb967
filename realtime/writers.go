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
	idle := time.NewTimer(writerIdle)
	defer idle.Stop()
	for {
		c.drain()
		idle.Reset(writerIdle)
		select {
		case c = <-h.work:
		case <-idle.C:
			return
		case <-h.stop:
			return
		}
	}
}
