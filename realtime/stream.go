package realtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// fillBatch is how many events one read of the log returns.
const fillBatch = 500

// startTimeout bounds each of a hello's reads of the database (the hello's
// read, then what it did not cover).
const startTimeout = 15 * time.Second

// helloStreams is how many of the streams a client resumes the hello's
// first read (HelloOf) covers, and helloBatch how many events of each it
// reads: that read comes before the streams the user may have are known, so
// whatever a client names beyond its grant costs at most this much; a
// stream with more to resume reads the rest after.
const (
	helloStreams = 32
	helloBatch   = 100
)

// start subscribes the connection to the streams of st's grant (read at the
// hello, see admit), sends the welcome, then each resumed stream's missed
// events in order (or a reset when the history no longer reaches back).
//
// The heads and the history come from the hello's read where it holds them
// (with Hello: up to helloStreams streams the client resumed, each read from
// the seq resumed, in the grant's statement, and whatever other heads it
// read), otherwise from one more read of the log here (every stream without
// Hello; with it, the streams whose head or history its read did not hold). The connection joins each stream after its head
// was read: an event committed after that read that already passed here
// before the join is what subscribe returns, and the connection reads it
// from the log; later ones are routed to it; repeats are dropped by seq.
//
// The streams come from the database, never from the client or from
// history, in one read with the account. The user's own stream carries the
// changes of what the user may read (memberships, the account); its head is
// read no later than the streams (Grant.Head), and only its events after
// that position are acted on: those are changes the streams just read may
// not include yet. Older ones, resumed or not, are history: they are sent
// but change nothing, so resuming the user's stream from an old seq cannot
// bring back a stream the user has lost.
func (c *conn) start(resume map[string]int64, st Start) error {
	h := c.hub
	ctx, cancel := context.WithTimeout(c.ctx, startTimeout)
	defer cancel()
	own := c.own
	c.live = st.Head
	streams := st.Streams
	if i := slices.Index(streams, own); i > 0 { // the own stream first, see below
		streams = slices.Clone(streams)
		streams[0], streams[i] = streams[i], streams[0]
	}
	from := map[string]int64{}
	for _, s := range streams {
		if seq, ok := resume[s]; ok {
			from[s] = seq
		} else if s == own {
			from[s] = c.live
		}
	}
	// No client has seen its own stream past the head read with its
	// grant; one that says so would skip the changes of access committed
	// since (a removal from an org): they are read, sent and acted on
	// from there. Only a position past the log's head itself (a client
	// ahead of a restored database) keeps its reset below.
	if seq, ok := resume[own]; ok && seq > c.live {
		from[own] = c.live
	}
	// Keep what the hello's read holds for the grant's streams; read the
	// rest: each stream's head, and its history when there is some to
	// resume and the hello's read did not start where from does.
	heads := make(map[string]int64, len(streams))
	since := map[string][]event.Event{}
	batch := map[string]int{} // the most events the read of each stream's history asked for
	var rest []string
	restFrom := map[string]int64{}
	for _, s := range streams {
		seq, resumed := from[s]
		head, ok := st.Heads[s]
		read, hasRead := st.read[s]
		switch {
		case ok && (!resumed || seq >= head):
			heads[s] = head // no history needed: resume sends nothing or a reset
		case ok && hasRead && read == seq:
			heads[s], since[s], batch[s] = head, st.Since[s], helloBatch
		default:
			rest = append(rest, s)
			if resumed {
				restFrom[s], batch[s] = seq, fillBatch
			}
		}
	}
	if len(rest) > 0 {
		hs, sn, err := h.o.Log.HeadsSince(ctx, rest, restFrom, fillBatch)
		if err != nil {
			return fmt.Errorf("heads: %w", err)
		}
		maps.Copy(heads, hs)
		maps.Copy(since, sn)
	}
	// A client past the log's head (a database restored from a backup)
	// gets a reset to the head. When changes of access were committed
	// after its grant was read (SQLite reads the heads after the grant),
	// the reset goes to the grant's head instead, and those changes follow
	// it, sent and acted on as for any client.
	ahead := false
	if seq, ok := resume[own]; ok && seq > heads[own] {
		if heads[own] <= c.live {
			from[own] = seq
		} else {
			ahead = true
		}
	}
	w := api.Welcome{Type: "welcome", Session: c.session, PingInterval: int(h.o.PingInterval / time.Second)}
	behind := map[string]int64{}
	for _, s := range streams {
		at := heads[s]
		if _, resumed := resume[s]; !resumed && s == own {
			at = min(at, c.live)
		}
		if fanned := h.subscribe(c, s, at); fanned > at {
			behind[s] = fanned
		}
		c.addStream(s, at)
		if seq, ok := from[s]; ok && seq <= at {
			c.started(s, seq) // what the client lacks is sent from there
		} else {
			c.started(s, at)
		}
		w.Streams = append(w.Streams, api.StreamPosition{Name: s, Seq: at})
	}
	if err := c.writeJSON(w); err != nil {
		return err
	}
	if ahead {
		if err := c.writeJSON(api.ResetFrame{Type: "reset", Stream: own, Seq: c.live}); err != nil {
			return err
		}
	}
	// The own stream comes first: a change of access it brings is applied
	// before the streams it removes are written; a stream the connection
	// lost meanwhile is skipped.
	for _, s := range streams {
		if seq, ok := from[s]; ok && c.has(s) {
			if err := c.resume(ctx, s, seq, heads[s], since[s], batch[s]); err != nil {
				return err
			}
		}
	}
	// Events fanned out here between a head's read and the join: this
	// connection alone reads them (rare: an event committed within the
	// hello's read and fanned out to others here before this join).
	for _, s := range streams {
		if upTo, ok := behind[s]; ok && c.has(s) && upTo > c.at(s) {
			h.o.Metrics.HealReads.Add(1)
			at := c.at(s)
			if err := c.fill(ctx, s, upTo); err != nil {
				return err
			}
			h.o.Metrics.Healed.Add(c.at(s) - at)
		}
	}
	return nil
}

// resume sends stream's events after from, given evs, the log's first
// events at or after from (a read of at most batch): a reset instead when
// from is ahead of the log or the log no longer reaches back to it (nothing
// kept at from or from+1).
func (c *conn) resume(ctx context.Context, stream string, from, head int64, evs []event.Event, batch int) error {
	if from == head {
		return nil
	}
	if from > head || len(evs) == 0 || evs[0].Seq > from+1 {
		return c.writeJSON(api.ResetFrame{Type: "reset", Stream: stream, Seq: head})
	}
	c.setLast(stream, from)
	more, err := c.emitAll(ctx, stream, evs, head, batch)
	if err != nil {
		return err
	}
	if more {
		return c.fill(ctx, stream, head)
	}
	return c.skipTo(stream, head)
}

// fill writes stream's events from the log after the last one written, up
// to seq upTo, in order. Where the log no longer holds some of them (a
// purge keeps alerts, so history can have holes), a reset says so instead
// of a silent gap.
func (c *conn) fill(ctx context.Context, stream string, upTo int64) error {
	for c.has(stream) && c.at(stream) < upTo {
		// What is batched goes out before the database is read.
		if err := c.flush(); err != nil {
			return err
		}
		evs, err := c.hub.o.Log.After(ctx, stream, c.at(stream), fillBatch)
		if err != nil {
			return err
		}
		more, err := c.emitAll(ctx, stream, evs, upTo, fillBatch)
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	if upTo == math.MaxInt64 || !c.has(stream) {
		return nil
	}
	return c.skipTo(stream, upTo)
}

// emitAll writes the events of evs (one read of the log, asked for at
// most batch) that are after the stream's last written and up to upTo, a
// reset before any hole; more says the read was full and stopped short of
// upTo, so the log may hold more.
func (c *conn) emitAll(ctx context.Context, stream string, evs []event.Event, upTo int64, batch int) (more bool, err error) {
	for i := range evs {
		if evs[i].Seq > upTo || !c.has(stream) {
			return false, nil // past upTo, or the stream was lost (access.revoked)
		}
		if evs[i].Seq <= c.at(stream) {
			continue
		}
		if err := c.skipTo(stream, evs[i].Seq-1); err != nil {
			return false, err
		}
		if err := c.emit(ctx, &evs[i], nil); err != nil {
			return false, err
		}
	}
	return len(evs) == batch, nil
}

// skipTo moves stream past events the log no longer holds, up to seq, with
// a reset frame: the client reloads by REST and continues from seq.
func (c *conn) skipTo(stream string, seq int64) error {
	if last, ok := c.lastSeq(stream); !ok || seq <= last {
		return nil
	}
	c.setLast(stream, seq)
	return c.writeJSON(api.ResetFrame{Type: "reset", Stream: stream, Seq: seq})
}

// deliver writes a live event: repeats and streams this connection does not
// have are dropped; a skipped seq is first filled from the log.
func (c *conn) deliver(ev *event.Event, frame []byte) error {
	last, ok := c.lastSeq(ev.Stream)
	if !ok || ev.Seq <= last {
		return nil
	}
	if ev.Seq > last+1 {
		// Only a gap needs the database; the common path makes no timer.
		// The hub heals gaps of a stream for all its connections; one
		// connection alone behind (it started, or gained the stream,
		// before what the hub had routed) reads its own.
		ctx, cancel := context.WithTimeout(c.ctx, startTimeout)
		defer cancel()
		c.hub.o.Metrics.HealReads.Add(1)
		if err := c.fill(ctx, ev.Stream, ev.Seq-1); err != nil {
			return err
		}
		c.hub.o.Metrics.Healed.Add(ev.Seq - 1 - last)
		return c.emit(ctx, ev, frame)
	}
	return c.emit(c.ctx, ev, frame)
}

// emit writes one event (into the writer's batch when it has the fan-out's
// shared frame) and acts on a change of access it carries.
func (c *conn) emit(ctx context.Context, ev *event.Event, frame []byte) error {
	if last, ok := c.lastSeq(ev.Stream); !ok || ev.Seq <= last {
		return nil // a repeat, or a stream lost (meanwhile)
	}
	if ev.Name == api.EventAccessRevoked && ev.Stream != c.own && ev.Seq > c.startOf(ev.Stream) && revokes(ev, c.hub.o.RevokeKey, c.userID) {
		// This user's access to the stream ended before anything that
		// follows it on the stream: nothing more of it is written.
		return c.lose(ev.Stream)
	}
	var err error
	if frame != nil {
		err = c.buffer(frame)
	} else {
		err = c.writeText(encodeEvent(ev))
	}
	if err != nil {
		return err
	}
	c.setLast(ev.Stream, ev.Seq)
	c.hub.o.Metrics.Delivered.Add(1)
	if ev.Stream == c.own && ev.Seq > c.live {
		if fc := feedChange(ev); fc != nil {
			// The change's event goes out before what it causes.
			if err := c.flush(); err != nil {
				return err
			}
			return c.apply(ctx, fc)
		}
	}
	return nil
}

// lose stops stream on this connection at once (nothing queued for it is
// written any more) and tells the client.
func (c *conn) lose(stream string) error {
	c.forget(stream)
	c.hub.unsubscribe(c, stream)
	return c.writeJSON(api.StreamFrame{Type: "unsubscribed", Stream: stream})
}

// errEnded stops the writer of a connection that apply closed.
var errEnded = errors.New("connection ended")

// apply changes the connection's streams as a change of access says: lost
// streams stop at once (nothing queued for them is written any more);
// gained ones, if the database still grants them, start after the seq
// committed with the change, and what was committed since is read from the
// log. An account that is no longer active ends the connection (4401).
func (c *conn) apply(ctx context.Context, fc *api.FeedChange) error {
	for _, s := range fc.Remove {
		if _, ok := c.lastSeq(s); !ok || s == c.own {
			continue
		}
		if err := c.lose(s); err != nil {
			return err
		}
	}
	if len(fc.Add) == 0 && fc.End == "" {
		return nil
	}
	// The streams lost are told before the database is read (and before a
	// close that read may bring).
	if err := c.flush(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	g, err := c.grant(ctx)
	if err != nil {
		return err
	}
	if !g.Active {
		c.close(4401, trimReason(cmp.Or(fc.End, "the account is not active")))
		return errEnded
	}
	if fc.End != "" {
		// Ended and active again (reactivated before this connection got
		// here): the end's revocations took streams it has again, so
		// the client starts afresh.
		c.close(1012, "access changed; reconnect")
		return errEnded
	}
	c.mu.Lock()
	c.id.Role, c.id.Region = g.Role, g.Region
	c.mu.Unlock()
	for _, s := range slices.Sorted(maps.Keys(fc.Add)) {
		at := fc.Add[s]
		if _, ok := c.lastSeq(s); ok || !slices.Contains(g.Streams, s) {
			if ok {
				// Had already: a revocation from before this grant is
				// history there too.
				c.addStream(s, at)
			}
			continue
		}
		c.hub.subscribe(c, s, at)
		c.addStream(s, at)
		c.started(s, at)
		if err := c.writeJSON(api.StreamFrame{Type: "subscribed", Stream: s, Seq: at}); err != nil {
			return err
		}
		if err := c.fill(ctx, s, math.MaxInt64); err != nil {
			return err
		}
	}
	return nil
}

// grant reads what the user may have now, with the own stream's head.
// Without Access, the head is read first, then Streams.
func (c *conn) grant(ctx context.Context) (Grant, error) {
	if c.hub.o.Access != nil {
		g, err := c.hub.o.Access(ctx, c.userID)
		if err != nil {
			return Grant{}, fmt.Errorf("read access: %w", err)
		}
		return g, nil
	}
	c.mu.Lock()
	id := c.id
	c.mu.Unlock()
	hs, err := c.hub.o.Log.Heads(ctx, []string{c.own})
	if err != nil {
		return Grant{}, fmt.Errorf("heads: %w", err)
	}
	streams, err := c.hub.o.Streams(ctx, id)
	if err != nil {
		return Grant{}, fmt.Errorf("read streams: %w", err)
	}
	return Grant{Active: true, Role: id.Role, Region: id.Region, Streams: streams, Head: hs[c.own]}, nil
}
