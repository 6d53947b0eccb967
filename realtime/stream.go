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
func (c *conn) start(resume map[string]int64) error {
	h := c.hub
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	streams, err := h.o.Streams(ctx, c.id)
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	for _, s := range streams {
		h.subscribe(c, s, -1)
	}
	heads, err := h.o.Log.Heads(ctx, streams)
	if err != nil {
		return fmt.Errorf("heads: %w", err)
	}
	w := api.Welcome{Type: "welcome", Session: c.session, PingInterval: int(h.o.PingInterval / time.Second)}
	for _, s := range streams {
		h.subscribe(c, s, heads[s])
		c.setLast(s, heads[s])
		w.Streams = append(w.Streams, api.StreamPosition{Name: s, Seq: heads[s]})
	}
	if err := c.writeJSON(w); err != nil {
		return err
	}
	for _, s := range streams {
		if from, ok := resume[s]; ok {
			if err := c.resume(ctx, s, from, heads[s]); err != nil {
				return err
			}
		}
	}
	return nil
}

// resume sends stream's events after from, or a reset when from is ahead of
// the log or older than what the log still keeps.
func (c *conn) resume(ctx context.Context, stream string, from, head int64) error {
	if from == head {
		return nil
	}
	reset := from > head
	if !reset {
		oldest, err := c.hub.o.Log.Oldest(ctx, stream)
		if err != nil {
			return err
		}
		reset = oldest == 0 || from < oldest-1
	}
	if reset {
		return c.writeJSON(api.ResetFrame{Type: "reset", Stream: stream, Seq: head})
	}
	c.setLast(stream, from)
	return c.fill(ctx, stream, head)
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
		for i := range evs {
			if evs[i].Seq > upTo {
				break
			}
			if err := c.skipTo(stream, evs[i].Seq-1); err != nil {
				return err
			}
			if err := c.emit(ctx, &evs[i], nil); err != nil {
				return err
			}
		}
		if len(evs) < fillBatch || evs[len(evs)-1].Seq > upTo {
			break
		}
	}
	if upTo == math.MaxInt64 {
		return nil
	}
	return c.skipTo(stream, upTo)
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
