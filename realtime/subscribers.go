package realtime

import (
	"math"
	"slices"
)

// subscribe adds c to stream's routing; at is where c starts, or -1 when c
// does not know it yet (it is reading the heads). A stream new here starts
// at -1: every event is routed and syncs leave it out, until every
// connection on it knows where it starts; the routed position is then the
// lowest of those, so no event a connection still waits for (on its way
// through the broker, say) is dropped, and a gap is healed for all of them
// at once. Later, the routed position is raised to at only while c is
// alone on the stream (so a sync does not replay older events).
func (h *Hub) subscribe(c *conn, stream string, at int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.streams[stream]
	if subs == nil {
		subs = &subscribers{routed: -1, lowest: math.MaxInt64}
		h.streams[stream] = subs
	}
	i := slices.IndexFunc(c.subs, func(x sub) bool { return x.stream == stream })
	if i < 0 {
		subs.add(c)
		c.subs = append(c.subs, sub{stream: stream, known: at >= 0})
		if at < 0 {
			subs.unknown++
		}
	} else if at >= 0 && !c.subs[i].known {
		c.subs[i].known = true
		subs.unknown--
	}
	if at < 0 {
		return
	}
	if subs.routed < 0 {
		subs.lowest = min(subs.lowest, at)
		if subs.unknown == 0 {
			subs.routed = subs.lowest
		}
		return
	}
	if subs.len() == 1 && at > subs.routed {
		subs.routed = at
	}
}

// sub is one stream a connection is routed, and whether the hub knows
// where the connection starts on it.
type sub struct {
	stream string
	known  bool
}

// unsubscribe removes c from stream; an unserved stream is forgotten.
func (h *Hub) unsubscribe(c *conn, stream string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.IndexFunc(c.subs, func(x sub) bool { return x.stream == stream }); i >= 0 {
		h.leave(c, c.subs[i])
		c.subs = slices.Delete(c.subs, i, i+1)
	}
}

// leave takes c off one of its streams; an unserved stream is forgotten.
// Caller holds mu and keeps c.subs.
func (h *Hub) leave(c *conn, x sub) {
	subs := h.streams[x.stream]
	if subs == nil {
		return
	}
	subs.remove(c)
	if !x.known {
		subs.unknown--
		if subs.routed < 0 && subs.unknown == 0 && subs.lowest != math.MaxInt64 {
			subs.routed = subs.lowest
		}
	}
	if subs.len() == 0 {
		delete(h.streams, x.stream)
	}
}

// subscribers are this instance's connections on one stream, and how far
// the stream was fanned out. Most streams (each user's own) have one
// subscriber: a short slice costs far less than a map for them.
type subscribers struct {
	few     []*conn            // up to fewSubscribers, while many is nil
	many    map[*conn]struct{} // once there were more
	routed  int64              // highest seq fanned out; -1 while unknown
	healing bool               // a heal of the stream reads the log now
	unknown int                // subscribers that do not know their start yet
	lowest  int64              // the lowest start given while routed is unknown
}

const fewSubscribers = 8

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
