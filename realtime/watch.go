package realtime

import (
	"time"
)

// A connection has no socket deadlines once its hello is done: setting one
// updates a runtime timer, and doing that for every frame written and read
// cost about 6 % of the server's CPU in a fan-out to 10,000 acking clients
// (docs/benchmarks.md). Instead each connection notes when its client was
// last heard and when its write in progress began, and the hub's watch
// looks over every connection a few times per interval.

// silentAfter is how long a client may send nothing (no frame, no pong)
// before the connection is dead: two ping intervals and 10 s.
func (o *Options) silentAfter() time.Duration { return 2*o.PingInterval + 10*time.Second }

// watchEvery is how often the watch looks: a quarter of the shorter of the
// two limits, so either is enforced at most a quarter late.
func (o *Options) watchEvery() time.Duration {
	return min(o.silentAfter(), o.WriteTimeout) / 4
}

// watchLoop runs the watch until Close.
func (h *Hub) watchLoop() {
	t := time.NewTicker(h.o.watchEvery())
	defer t.Stop()
	var silent, stuck []*conn
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		silent, stuck = h.overdue(time.Now(), silent[:0], stuck[:0])
		for _, c := range silent {
			// Its reading ends as it did when the deadline was the
			// socket's: the connection ends, without a close frame to
			// a peer that is likely gone.
			c.wstate.Or(closeSent)
			c.readStop()
		}
		for _, c := range stuck {
			// A write blocked longer than WriteTimeout: the client does
			// not read. The write fails as it did with the socket's
			// deadline, and the writer closes with 1011.
			c.ws.NetConn().SetWriteDeadline(time.Unix(0, 1))
			// Had the write just finished, the next batch clears the
			// deadline instead of failing on it.
			c.deadline.Store(true)
		}
		clear(silent)
		clear(stuck)
	}
}

// overdue appends the connections whose client has been silent too long,
// and those whose write has been blocked too long.
func (h *Hub) overdue(now time.Time, silent, stuck []*conn) ([]*conn, []*conn) {
	at := now.UnixNano()
	quiet, slow := int64(h.o.silentAfter()), int64(h.o.WriteTimeout)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if r := c.readAt.Load(); r != 0 && at-r > quiet {
			silent = append(silent, c)
		}
		if w := c.writeAt.Load(); w != 0 && at-w > slow {
			stuck = append(stuck, c)
		}
	}
	return silent, stuck
}
