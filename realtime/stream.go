package realtime

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// fillBatch is how many events one read of the log returns.
const fillBatch = 500

// start subscribes the connection to its streams, sends the welcome, then
// each resumed stream's missed events in order (or a reset when the history
// no longer reaches back). Subscribing before reading the heads means no
// event can fall between the two: anything committed later is either
// routed live or read here, and repeats are dropped by seq.
//
// The user's own stream carries membership changes and the streams they add
// or take away. Unless the client resumes it, its head is read before the
// streams are worked out and the welcome starts it there: a change committed
// in between is then sent (and applied) after the welcome instead of being
// hidden below the welcome's position, with its stream never added.
func (c *conn) start(resume map[string]int64) error {
	h := c.hub
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	own, ownBefore := "user:"+c.userID, int64(-1)
	if _, ok := resume[own]; !ok {
		hs, err := h.o.Log.Heads(ctx, []string{own})
		if err != nil {
			return fmt.Errorf("heads: %w", err)
		}
		ownBefore = hs[own]
	}
	streams, err := h.o.Streams(ctx, c.id)
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	for _, s := range streams {
		h.subscribe(c, s, -1)
	}
	// One read of the log: the heads, and the history of every stream to
	// resume (one snapshot, so the history reaches each head exactly).
	from := map[string]int64{}
	for _, s := range streams {
		if seq, ok := resume[s]; ok {
			from[s] = seq
		} else if s == own && ownBefore >= 0 {
			from[s] = ownBefore
		}
	}
	heads, since, err := h.o.Log.HeadsSince(ctx, streams, from, fillBatch)
	if err != nil {
		return fmt.Errorf("heads: %w", err)
	}
	w := api.Welcome{Type: "welcome", Session: c.session, PingInterval: int(h.o.PingInterval / time.Second)}
	for _, s := range streams {
		at := heads[s]
		if _, resumed := resume[s]; !resumed && s == own && ownBefore >= 0 {
			at = min(at, ownBefore)
		}
		h.subscribe(c, s, at)
		c.setLast(s, at)
		w.Streams = append(w.Streams, api.StreamPosition{Name: s, Seq: at})
	}
	if err := c.writeJSON(w); err != nil {
		return err
	}
	for _, s := range streams {
		if seq, ok := from[s]; ok {
			if err := c.resume(ctx, s, seq, heads[s], since[s]); err != nil {
				return err
			}
		}
	}
	return nil
}

// resume sends stream's events after from, given evs, the log's first
// events at or after from: a reset instead when from is ahead of the log or
// the log no longer reaches back to it (nothing kept at from or from+1).
func (c *conn) resume(ctx context.Context, stream string, from, head int64, evs []event.Event) error {
	if from == head {
		return nil
	}
	if from > head || len(evs) == 0 || evs[0].Seq > from+1 {
		return c.writeJSON(api.ResetFrame{Type: "reset", Stream: stream, Seq: head})
	}
	c.setLast(stream, from)
	more, err := c.emitAll(ctx, stream, evs, head, fillBatch)
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
	for c.at(stream) < upTo {
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
	if upTo == math.MaxInt64 {
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
		if evs[i].Seq > upTo {
			return false, nil
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
	if seq <= c.at(stream) {
		return nil
	}
	c.setLast(stream, seq)
	return c.writeJSON(api.ResetFrame{Type: "reset", Stream: stream, Seq: seq})
}

// deliver writes a live event: repeats and streams this connection does not
// have are dropped; a skipped seq is first filled from the log.
func (c *conn) deliver(ev *event.Event, pm *websocket.PreparedMessage) error {
	last, ok := c.lastSeq(ev.Stream)
	if !ok || ev.Seq <= last {
		return nil
	}
	if ev.Seq > last+1 {
		// Only a gap needs the database; the common path makes no timer.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := c.fill(ctx, ev.Stream, ev.Seq-1); err != nil {
			return err
		}
		c.hub.o.Metrics.Healed.Add(ev.Seq - 1 - last)
		return c.emit(ctx, ev, pm)
	}
	return c.emit(context.Background(), ev, pm)
}

// emit writes one event (the shared prepared frame when there is one) and
// applies a membership change it carries.
func (c *conn) emit(ctx context.Context, ev *event.Event, pm *websocket.PreparedMessage) error {
	if ev.Seq <= c.at(ev.Stream) {
		return nil
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.hub.o.WriteTimeout))
	var err error
	if pm != nil {
		err = c.ws.WritePreparedMessage(pm)
	} else {
		err = c.ws.WriteMessage(websocket.TextMessage, encodeEvent(ev))
	}
	if err != nil {
		return err
	}
	c.setLast(ev.Stream, ev.Seq)
	c.hub.o.Metrics.Delivered.Add(1)
	if fc := feedChange(ev); fc != nil {
		return c.apply(ctx, fc)
	}
	return nil
}

// apply changes the connection's streams as a membership event says: lost
// streams stop at once (nothing queued for them is written any more);
// gained ones start after the seq committed with the membership, and what
// was committed since is read from the log.
func (c *conn) apply(ctx context.Context, fc *api.FeedChange) error {
	for _, s := range fc.Remove {
		if _, ok := c.lastSeq(s); !ok {
			continue
		}
		c.forget(s)
		c.hub.unsubscribe(c, s)
		if err := c.writeJSON(api.StreamFrame{Type: "unsubscribed", Stream: s}); err != nil {
			return err
		}
	}
	for s, at := range fc.Add {
		if _, ok := c.lastSeq(s); ok {
			continue
		}
		c.hub.subscribe(c, s, at)
		c.setLast(s, at)
		if err := c.writeJSON(api.StreamFrame{Type: "subscribed", Stream: s, Seq: at}); err != nil {
			return err
		}
		if err := c.fill(ctx, s, math.MaxInt64); err != nil {
			return err
		}
	}
	return nil
}
