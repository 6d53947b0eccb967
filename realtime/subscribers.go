package realtime

import (
	"slices"
	"time"
)

// subscribe adds c to stream's routing, where c starts at seq at (the head
// it read), and returns how far the stream was fanned out here: past at,
// those events went out before c joined, and c reads them from the log
// itself. On a stream new here, as much passed as was routed while it had
// no subscribers here (see quiet), and its routed position starts at the
// joiner's head (or there, if further). A later joiner with an older head (it
// read before an event was committed that no one here has been sent yet)
// lowers the routed position to its head: the events after it are routed
// to everyone (those that have them drop them by seq) and no one reads the
// log. Connections joining a stream together thus read nothing unless an
// event passed here (fanned out, or dropped as a copy) between their read
// of the head and their join.
func (h *Hub) subscribe(c *conn, stream string, at int64) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.streams[stream]
	if subs == nil {
		q := h.quietRouted(stream)
		subs = &subscribers{routed: max(at, q), fanned: q}
		h.streams[stream] = subs
	} else if at < subs.routed {
		subs.routed = max(at, subs.fanned)
	}
	if subs.add(c) {
		c.subs = append(c.subs, stream)
	}
	return subs.fanned
}

// unsubscribe removes c from stream; an unserved stream is forgotten.
func (h *Hub) unsubscribe(c *conn, stream string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(c.subs, stream); i >= 0 {
		h.leave(c, stream)
		c.subs = slices.Delete(c.subs, i, i+1)
	}
}

// leave takes c off one of its streams; an unserved stream is forgotten
// (how far it was routed kept a while in quiet, with its held events).
// Caller holds mu and keeps c.subs.
func (h *Hub) leave(c *conn, stream string) {
	subs := h.streams[stream]
	if subs == nil {
		return
	}
	subs.remove(c)
	if subs.len() == 0 {
		// Held events go with the last subscriber (a stream's events commit
		// in seq order: the highest held says how far they reach).
		routed := subs.routed
		for seq := range h.held[stream] {
			routed = max(routed, seq)
		}
		delete(h.held, stream)
		delete(h.streams, stream)
		h.noteQuiet(stream, routed)
	}
}

// quiet keeps, for a while, how far streams without subscribers here were
// routed: the events of such a stream are dropped, and a connection that
// read the stream's head before one of them and joins after must read it
// from the log (subscribe). Two generations, the older dropped once the
// newer is quietKeep old: a position stays at least quietKeep, longer than
// a hello's reads may take (two of startTimeout at most), the only window
// where a connection can have read a head older than what was dropped.
type quiet struct {
	cur, old map[string]int64
	since    time.Time // when cur began
}

const quietKeep = 3 * startTimeout

// noteQuiet records that stream, without subscribers, was routed to seq.
// Caller holds mu.
func (h *Hub) noteQuiet(stream string, seq int64) {
	q := &h.quiet
	if now := time.Now(); q.cur == nil || now.Sub(q.since) >= quietKeep {
		q.old, q.cur, q.since = q.cur, make(map[string]int64), now
	}
	if seq > q.cur[stream] {
		q.cur[stream] = seq
	}
}

// quietRouted is how far stream was routed while it had no subscribers
// here lately (0 when not noted). Caller holds mu.
func (h *Hub) quietRouted(stream string) int64 {
	return max(h.quiet.cur[stream], h.quiet.old[stream])
}

// subscribers are this instance's connections on one stream, and how far
// the stream was routed and fanned out. Most streams (each user's own) have
// one subscriber: a short slice costs far less than a map for them.
type subscribers struct {
	few     []*conn            // up to fewSubscribers, while many is nil
	many    map[*conn]struct{} // once there were more
	routed  int64              // events up to here are not routed: every subscriber has them or reads them
	fanned  int64              // highest seq that passed here (fanned out, dropped, noted in quiet); at most routed
	healing bool               // a heal of the stream reads the log now
}

const fewSubscribers = 8

// one is a subscriber, or nil when there is none.
func (s *subscribers) one() *conn {
	for c := range s.many {
		return c
	}
	if len(s.few) > 0 {
		return s.few[0]
	}
	return nil
}

func (s *subscribers) len() int {
	if s.many != nil {
		return len(s.many)
	}
	return len(s.few)
}

// add adds c; false when it was there already.
func (s *subscribers) add(c *conn) bool {
	if s.many != nil {
		if _, ok := s.many[c]; ok {
			return false
		}
		s.many[c] = struct{}{}
		return true
	}
	if slices.Contains(s.few, c) {
		return false
	}
	if len(s.few) < fewSubscribers {
		s.few = append(s.few, c)
		return true
	}
	s.many = make(map[*conn]struct{}, 2*fewSubscribers)
	for _, x := range s.few {
		s.many[x] = struct{}{}
	}
	s.few = nil
	s.many[c] = struct{}{}
	return true
}

func (s *subscribers) remove(c *conn) {
	if s.many != nil {
		delete(s.many, c)
		return
	}
	if i := slices.Index(s.few, c); i >= 0 {
		s.few = slices.Delete(s.few, i, i+1)
	}
}

func (s *subscribers) each(fn func(*conn)) {
	if s.many != nil {
		for c := range s.many {
			fn(c)
		}
		return
	}
	for _, c := range s.few {
		fn(c)
	}
}
