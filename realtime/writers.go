package realtime

import (
	"sync"
	"time"
)

// writerIdle is how long a writer goroutine waits for another connection
// to write to before it ends.
var writerIdle = 2 * time.Second // a variable for tests

// maxWriters is how many writer goroutines a hub runs at most (the default
// of Options.Writers). Beyond it, connections wait in the hub's queue for
// the next free writer. Without a bound, a fan-out to 10,000 connections
// (or a round of pings) started a writer for nearly every connection:
// goroutines made, their stacks grown, and about 1,200 left idle at 10,000
// connections (0.4 KiB of the server's memory per connection, measured in
// docs/benchmarks.md). A writer blocked on a full socket holds only itself
// until the watch cuts the write (WriteTimeout); it would take maxWriters
// such clients at once to hold up the others.
const maxWriters = 256

// writers is the hub's pool of writer goroutines and the queue of
// connections waiting for one. Starting a writer or queuing, and a writer
// leaving, are decided under mu: a connection is never queued just as the
// last writer leaves.
type writers struct {
	work    chan *conn    // hand-off to an idle writer
	wake    chan struct{} // connections wait in the queue
	mu      sync.Mutex
	queue   []*conn
	running int // writer goroutines, idle ones included
	wg      sync.WaitGroup
}

func newWriters() writers {
	return writers{work: make(chan *conn), wake: make(chan struct{}, 1)}
}

// write has a writer drain c: a writer that is waiting for work if there
// is one, else a new one while fewer than Options.Writers run, else the next
// writer that is done. Writers are not bound to connections: an idle
// connection has none (the memory per connection stays small), and while
// events flow the same goroutines serve one connection after another,
// their stacks already grown.
func (h *Hub) write(c *conn) {
	w := &h.writers
	select {
	case w.work <- c:
		return
	default:
	}
	w.mu.Lock()
	if w.running < h.o.Writers {
		w.running++
		w.wg.Add(1)
		w.mu.Unlock()
		go h.writer(c)
		return
	}
	w.queue = append(w.queue, c)
	w.mu.Unlock()
	w.signal()
}

// signal wakes one idle writer to look at the queue.
func (w *writers) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// next takes the connection that has waited longest in the queue, waking
// another writer when more wait. When none waits it answers nil, and with
// leaving the writer asking is gone from the count (under the lock that
// write decides under).
func (w *writers) next(leaving bool) *conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		if leaving {
			w.running--
		}
		return nil
	}
	c := w.queue[0]
	w.queue[0] = nil
	w.queue = w.queue[1:]
	if len(w.queue) == 0 {
		w.queue = nil // let the drained backing array go
	} else {
		w.signal()
	}
	return c
}

func (h *Hub) writer(c *conn) {
	w := &h.writers
	defer w.wg.Done()
	// The idle timer is not reset per connection (a timer update per
	// delivery in a fan-out): when it fires, a writer that served anyone
	// since the last time waits another round, so it ends after one to two
	// writerIdle of nothing to do.
	idle := time.NewTicker(writerIdle)
	defer idle.Stop()
	for c != nil {
		c.drain()
		if c = w.next(false); c == nil {
			c = h.nextWork(idle.C)
		}
	}
}

// nextWork waits for the next connection to write; nil when the writer
// leaves: the hub stops, or idle ticks twice without work and nothing is
// queued.
func (h *Hub) nextWork(idle <-chan time.Time) *conn {
	w := &h.writers
	for busy := true; ; busy = false {
		select {
		case c := <-w.work:
			return c
		case <-w.wake:
			if c := w.next(false); c != nil {
				return c
			}
		case <-idle:
			if !busy {
				return w.next(true)
			}
		case <-h.stop:
			w.mu.Lock()
			w.running--
			w.mu.Unlock()
			return nil
		}
	}
}
