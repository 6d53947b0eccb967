package realtime

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/jarimu/jarimu/event"
)

// Deliver hands committed events to local connections (from this
// instance's event log through Fanout, or from the broker); it never
// blocks. If the hub is far behind, the events are dropped here and found
// again by the next sync from the database.
func (h *Hub) Deliver(events []event.Event) {
	select {
	case h.in <- events:
	default:
		h.o.Metrics.DroppedInput.Add(1)
		h.Heal()
	}
}

// Heal asks for a check of every stream served here against the log, e.g.
// after the broker reconnected and may have missed events.
func (h *Hub) Heal() {
	select {
	case h.heal <- struct{}{}:
	default:
	}
}

func (h *Hub) deliverLoop() {
	for {
		select {
		case <-h.stop:
			return
		case evs := <-h.in:
			for i := range evs {
				h.route(&evs[i])
			}
		}
	}
}

func (h *Hub) syncLoop() {
	t := time.NewTicker(h.o.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-h.heal:
		}
		h.sync()
	}
}

// sync reads the heads of every stream served here and heals each stream
// the hub has not seen to its head: events a broker dropped or delivered
// late.
func (h *Hub) sync() {
	ctx, cancel := context.WithTimeout(context.Background(), h.o.SyncInterval+10*time.Second)
	defer cancel()
	positions, names := h.positions()
	for start := 0; start < len(names); start += 500 {
		batch := names[start:min(start+500, len(names))]
		heads, err := h.o.Log.Heads(ctx, batch)
		if err != nil {
			h.o.Logger.Warn("feed sync: read heads", slog.String("error", err.Error()))
			return
		}
		for _, s := range batch {
			if heads[s] > positions[s] {
				h.healStream(ctx, s, heads[s])
			}
		}
	}
}

// healStream reads once what the hub has not routed of stream (after its
// routed position, up to healBatch events) and fans it out in order to
// every connection on the stream, with the events held for it; the
// connections then have no gap to fill each on its own. Database reads for
// healing grow with streams, not connections. One heal per stream runs at a
// time: a heal asked for meanwhile finds its events routed, or held ones
// are released by the heal that runs. head is the stream's head when the
// caller read it (-1 when it did not): a stream routed that far meanwhile,
// with nothing held, needs no read.
func (h *Hub) healStream(ctx context.Context, stream string, head int64) {
	h.mu.Lock()
	subs := h.streams[stream]
	if subs == nil || subs.healing || (head >= 0 && subs.routed >= head && len(h.held[stream]) == 0) {
		h.mu.Unlock()
		return
	}
	subs.healing = true
	from := subs.routed
	h.mu.Unlock()

	var evs []event.Event
	var failed error // the first read's, when it failed
	for {
		h.o.Metrics.HealReads.Add(1)
		read, err := h.o.Log.After(ctx, stream, from, healBatch)
		if err != nil {
			h.o.Logger.Warn("feed heal: read events", slog.String("stream", stream), slog.String("error", err.Error()))
			if evs == nil {
				failed = err
			}
		} else {
			// What an earlier read of this heal holds past this one
			// follows it.
			if n := len(read); n > 0 {
				i, _ := slices.BinarySearchFunc(evs, read[n-1].Seq+1, func(ev event.Event, seq int64) int { return cmp.Compare(ev.Seq, seq) })
				evs = append(read, evs[i:]...)
			}
		}
		h.mu.Lock()
		// A connection that joined meanwhile with an older head lowered
		// the routed position below this read: read again from there,
		// once for all of them, rather than leave each a gap to fill
		// with a read of its own. (Should that read fail, the earlier
		// one is fanned out, and they fill the gap themselves.)
		if err != nil || h.streams[stream] != subs || subs.routed >= from {
			break
		}
		from = subs.routed
		h.mu.Unlock()
	}
	subs.healing = false
	if failed != nil {
		// Nothing read (the database is down or slow): what is held
		// stays held, in order behind the gap, and the heal is tried
		// again. Fanned out past the gap, it would have each connection
		// on the stream read the gap itself, all at once, from the same
		// database.
		retry := len(h.held[stream]) > 0 && h.streams[stream] == subs && !h.closing
		h.mu.Unlock()
		if retry {
			h.after(healRetry, func() { h.flushHeld(stream) })
		}
		return
	}
	var slow []*conn
	if h.streams[stream] == subs {
		for i := range evs {
			if evs[i].Seq > subs.routed {
				h.o.Metrics.Healed.Add(1)
				slow = append(slow, h.fanOut(&evs[i], subs)...)
			}
		}
		slow = append(slow, h.releaseHeld(stream, subs)...)
		// Whatever is still held follows a hole the log no longer fills
		// (purged) or lies past this read: fan it out, the connections
		// fill or mark the rest.
		slow = append(slow, h.fanOutHeld(stream, subs)...)
	}
	h.mu.Unlock()
	h.kick(slow)
}

// healBatch is how many events one heal reads.
const healBatch = 1000

// healRetry is how long a heal whose read failed waits to try again (the
// hub's sync, every SyncInterval, heals too once the heads can be read).
const healRetry = time.Second

// positions snapshots the routed position of each served stream (events
// after it are what the hub still has to fan out there), and names the
// streams in the order sync heals them: the users' own streams first, so
// that a change of access on one (a member removed) is acted on before the
// events it ends a connection's right to, missed with it, are healed.
func (h *Hub) positions() (p map[string]int64, names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p = make(map[string]int64, len(h.streams))
	var others []string
	for s, subs := range h.streams {
		p[s] = subs.routed
		if c := subs.one(); c != nil && c.own == s {
			names = append(names, s)
		} else {
			others = append(others, s)
		}
	}
	return p, append(names, others...)
}

// route fans one event out to the connections on its stream, encoding it
// once. An event at or below the stream's routed seq was already sent (or
// is healed by each connection from the log); one of a stream without
// connections here is only noted (quiet). A connection whose queue is
// full is closed with 4429 and never slows the others.
func (h *Hub) route(ev *event.Event) {
	h.mu.Lock()
	subs := h.streams[ev.Stream]
	if subs == nil {
		h.noteQuiet(ev.Stream, ev.Seq)
		h.mu.Unlock()
		return
	}
	if ev.Seq <= subs.routed {
		// Every subscriber has it (read with its head): dropped, but it
		// passed here, which a later joiner with an older head must know.
		subs.fanned = max(subs.fanned, ev.Seq)
		h.mu.Unlock()
		return
	}
	if ev.Seq > subs.routed+1 {
		if !h.hold(ev) { // too many held: heal at once
			stream := ev.Stream
			h.after(0, func() { h.flushHeld(stream) })
		}
		h.mu.Unlock()
		return
	}
	slow := h.fanOut(ev, subs)
	slow = append(slow, h.releaseHeld(ev.Stream, subs)...)
	h.mu.Unlock()
	h.kick(slow)
}

// reorderWait is how long an event that arrived ahead of its predecessor
// (writers of one stream publishing after their commits in another order,
// or two instances' publishes crossing) waits for it before it is fanned
// out anyway. Without it, every connection on the stream would pause to
// read the missing event from the database at the same moment.
const reorderWait = 50 * time.Millisecond

// hold keeps an early event for up to reorderWait, then the stream is
// healed; false when too many are held already (the caller heals the
// stream at once: the event is not lost, the heal reads it back).
func (h *Hub) hold(ev *event.Event) bool {
	held := h.held[ev.Stream]
	if len(held) >= 256 {
		return false
	}
	if held == nil {
		held = map[int64]*event.Event{}
		h.held[ev.Stream] = held
		stream := ev.Stream
		h.after(reorderWait, func() { h.flushHeld(stream) })
	}
	held[ev.Seq] = ev
	return true
}

// releaseHeld fans out held events that now follow in order. Caller holds mu.
func (h *Hub) releaseHeld(stream string, subs *subscribers) []*conn {
	var slow []*conn
	held := h.held[stream]
	for len(held) > 0 {
		next, ok := held[subs.routed+1]
		if !ok {
			break
		}
		delete(held, next.Seq)
		slow = append(slow, h.fanOut(next, subs)...)
	}
	if len(held) == 0 {
		delete(h.held, stream)
	}
	return slow
}

// flushHeld heals stream when the event it waited for did not come in
// time: one read of the log for every connection on the stream.
func (h *Hub) flushHeld(stream string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	h.mu.Lock()
	held := len(h.held[stream])
	h.mu.Unlock()
	if held == 0 {
		return // a heal, or the event waited for, released them meanwhile
	}
	h.healStream(ctx, stream, -1)
}

// fanOutHeld fans out whatever is held for stream, in seq order. Caller
// holds mu.
func (h *Hub) fanOutHeld(stream string, subs *subscribers) []*conn {
	held := h.held[stream]
	delete(h.held, stream)
	seqs := make([]int64, 0, len(held))
	for seq := range held {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var slow []*conn
	for _, seq := range seqs {
		if seq > subs.routed {
			slow = append(slow, h.fanOut(held[seq], subs)...)
		}
	}
	return slow
}

// fanOut encodes ev once and queues it on every connection of subs; it
// returns the connections whose queue was full. Caller holds mu.
func (h *Hub) fanOut(ev *event.Event, subs *subscribers) []*conn {
	subs.routed, subs.fanned = ev.Seq, ev.Seq
	frame := textFrame(encodeEvent(ev))
	var slow []*conn
	subs.each(func(c *conn) {
		if !c.enqueue(item{ev: ev, frame: frame}) {
			slow = append(slow, c)
		}
	})
	h.o.Metrics.Routed.Add(1)
	return slow
}

// kick closes connections that could not keep up, once each.
func (h *Hub) kick(slow []*conn) {
	for _, c := range slow {
		if c.tooSlow() {
			h.after(0, func() { c.close(4429, "too slow: reconnect and resume") })
		}
	}
}
