package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// pair is a server-side websocket and the client talking to it.
func pair(t *testing.T) (server, client *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- ws
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server = <-got
	t.Cleanup(func() { server.Close() })
	return server, client
}

// Frames built by textFrame read back through gorilla/websocket's client
// as the same text message, at each length encoding's edges.
func TestTextFrameLengths(t *testing.T) {
	server, client := pair(t)
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000}
	go func() {
		for _, n := range sizes {
			server.NetConn().Write(textFrame(bytes.Repeat([]byte{'a' + byte(n%26)}, n)))
		}
	}()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, n := range sizes {
		typ, b, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if typ != websocket.TextMessage || !bytes.Equal(b, bytes.Repeat([]byte{'a' + byte(n%26)}, n)) {
			t.Fatalf("%d bytes: read type %d, %d bytes", n, typ, len(b))
		}
	}
}

// batchConn is a connection whose start holds its outbox (so queued items
// wait for drain) on stream "s" from seq 0.
func batchConn(t *testing.T) (*conn, *websocket.Conn) {
	t.Helper()
	return batchConnWith(t, Options{})
}

func batchConnWith(t *testing.T, o Options) (*conn, *websocket.Conn) {
	t.Helper()
	h := NewHub(o)
	server, client := pair(t)
	c := &conn{hub: h, ws: server, out: newOutbox(), last: []written{{"s", 0, 0}}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	server.SetPingHandler(c.ping)
	server.SetCloseHandler(c.closing)
	if !c.out.hold() {
		t.Fatal("the outbox ended")
	}
	return c, client
}

// queue puts events 1..n of stream "s" in c's outbox, each with its shared
// frame as a fan-out makes it, data padded to size bytes.
func queue(t *testing.T, c *conn, n, size int) {
	t.Helper()
	for seq := range int64(n) {
		ev := &event.Event{Stream: "s", Seq: seq + 1, ID: fmt.Sprint(seq + 1), Name: "test.batch", At: time.Now(),
			Data: json.RawMessage(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", size)))}
		if ok, lend := c.out.push(item{ev: ev, frame: textFrame(encodeEvent(ev))}, 1000); !ok || lend {
			t.Fatalf("push %d: ok %v lend %v", seq+1, ok, lend)
		}
	}
}

// readSeqs reads n event frames and fails unless they are seqs 1..n.
func readSeqs(t *testing.T, client *websocket.Conn, n int) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for want := range int64(n) {
		var f api.EventFrame
		if err := client.ReadJSON(&f); err != nil {
			t.Fatalf("frame %d: %v", want+1, err)
		}
		if f.Type != "event" || f.Stream != "s" || f.Seq != want+1 {
			t.Fatalf("frame %d: %+v", want+1, f)
		}
	}
}

// The events queued for a connection when its writer comes go out in one
// socket write, in order; a batch past maxBatchBytes in more than one.
func TestQueuedEventsShareAWrite(t *testing.T) {
	for _, tc := range []struct {
		name          string
		events, size  int
		writes, extra int64
	}{
		{"one event, one write", 1, 10, 1, 0},
		{"five small events, one write", 5, 10, 1, 4},
		{"three of 30 KiB: two writes", 3, 30 << 10, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, client := batchConn(t)
			queue(t, c, tc.events, tc.size)
			done := make(chan struct{})
			go func() { c.drain(); close(done) }()
			readSeqs(t, client, tc.events)
			<-done
			m := c.hub.o.Metrics
			if m.EventWrites.Load() != tc.writes || m.Coalesced.Load() != tc.extra || m.Delivered.Load() != int64(tc.events) {
				t.Errorf("writes %d, coalesced %d, delivered %d; want %d, %d, %d",
					m.EventWrites.Load(), m.Coalesced.Load(), m.Delivered.Load(), tc.writes, tc.extra, tc.events)
			}
			if c.wfirst != nil || c.wmore != nil || c.wlen != 0 {
				t.Error("the batch is still held after the write")
			}
		})
	}
}

// A frame built here (a pong) queued after events goes out after them:
// the batch is written before it.
func TestBatchWrittenBeforeOtherFrames(t *testing.T) {
	c, client := batchConn(t)
	queue(t, c, 3, 10)
	if ok, _ := c.out.push(item{ctrl: pongItem}, 1000); !ok {
		t.Fatal("push pong")
	}
	go c.drain()
	readSeqs(t, client, 3)
	var f struct{ Type string }
	if err := client.ReadJSON(&f); err != nil || f.Type != "pong" {
		t.Fatalf("after the events: %+v, %v", f, err)
	}
}

// After the close frame, a queued batch is not written: the client reads
// the close and nothing after it.
func TestNoBatchAfterTheCloseFrame(t *testing.T) {
	c, client := batchConn(t)
	queue(t, c, 3, 10)
	c.sendClose(websocket.FormatCloseMessage(4401, "gone"))
	c.drain()
	if c.hub.o.Metrics.EventWrites.Load() != 0 {
		t.Errorf("%d event writes after the close frame", c.hub.o.Metrics.EventWrites.Load())
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := client.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4401 {
		t.Fatalf("first read: %q, %v; want close 4401", b, err)
	}
	// The socket's raw bytes after the close frame: none (it is closed
	// by the server after its grace period, or times out here).
	client.NetConn().SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := client.NetConn().Read(make([]byte, 64)); n > 0 {
		t.Fatalf("read %d bytes after the close frame (%v)", n, err)
	}
}

// The close frame waits for a batch being written (it would otherwise cut
// into it) and goes out once the write is done; a write stuck for longer
// than a second makes it give up, and no batch follows.
func TestCloseFrameWaitsForTheBatch(t *testing.T) {
	c, client := batchConn(t)
	c.wstate.Store(rawWriting) // as flush does around its write
	sent := make(chan struct{})
	go func() { c.sendClose(websocket.FormatCloseMessage(4429, "too slow")); close(sent) }()
	select {
	case <-sent:
		t.Fatal("the close frame did not wait for the write in progress")
	case <-time.After(50 * time.Millisecond):
	}
	c.wstate.CompareAndSwap(rawWriting, 0)
	<-sent
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := client.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4429 {
		t.Fatalf("read %v; want close 4429", err)
	}

	stuck, client2 := batchConn(t)
	stuck.wstate.Store(rawWriting)
	start := time.Now()
	stuck.sendClose(websocket.FormatCloseMessage(4429, "too slow"))
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("gave up after %v, want about a second", d)
	}
	stuck.wstate.CompareAndSwap(rawWriting, 0) // what flush does after: no effect now
	queue(t, stuck, 1, 10)
	stuck.drain()
	if n := stuck.hub.o.Metrics.EventWrites.Load(); n != 0 {
		t.Errorf("%d event writes after the close frame was given up", n)
	}
	client2.NetConn().SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := client2.NetConn().Read(make([]byte, 64)); n > 0 {
		t.Errorf("read %d bytes: want nothing (no close frame, no batch)", n)
	}
}

// The deadline a ping (the server's, or its pong to the client's) leaves on
// the socket does not fail the batches written after it has passed.
// (gorilla resets it in its own writes; batches are not its writes.)
func TestControlFramesLeaveNoDeadline(t *testing.T) {
	c, client := batchConnWith(t, Options{WriteTimeout: 50 * time.Millisecond})
	go func() { // the server's reader: answers the client's pings
		for {
			if _, _, err := c.ws.NextReader(); err != nil {
				return
			}
		}
	}()
	pinged := make(chan struct{}, 1)
	client.SetPingHandler(func(string) error { pinged <- struct{}{}; return nil })
	ponged := make(chan struct{}, 1)
	client.SetPongHandler(func(string) error { ponged <- struct{}{}; return nil })
	if ok, _ := c.out.push(item{ctrl: pingItem}, 1000); !ok {
		t.Fatal("push ping")
	}
	c.drain() // the ping, deadline 50 ms
	if err := client.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() { // the client's reader: control frames are handled while reading
		for {
			if _, _, err := client.NextReader(); err != nil {
				return
			}
		}
	}()
	for _, ch := range []chan struct{}{pinged, ponged} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping or no pong")
		}
	}
	time.Sleep(1100 * time.Millisecond) // past both deadlines (50 ms, and the pong's 1 s)
	if closed := c.hub.o.Metrics.Closed(); len(closed) > 0 {
		t.Fatalf("closed: %v", closed)
	}
	c.out.mu.Lock() // held again, as a start holds it: the events queue
	c.out.writing = true
	c.out.writers.Add(1)
	c.out.mu.Unlock()
	queue(t, c, 3, 10)
	c.drain()
	if n := c.hub.o.Metrics.EventWrites.Load(); n != 1 {
		t.Fatalf("%d event writes, want 1 (the write failed: %v)", n, c.hub.o.Metrics.Closed())
	}
}

// serveReads runs the server side's reads (control frames are handled
// while reading) until the connection ends.
func serveReads(c *conn) {
	go func() {
		for {
			if _, _, err := c.ws.NextReader(); err != nil {
				c.wstate.Or(closeSent) // as conn.read does
				return
			}
		}
	}()
}

// The pong to a client's ping is not written during a batch's write (its
// 1 s deadline would cut that write): it waits for the write to end.
func TestPongWaitsForTheBatch(t *testing.T) {
	c, client := batchConn(t)
	serveReads(c)
	ponged := make(chan struct{}, 1)
	client.SetPongHandler(func(string) error { ponged <- struct{}{}; return nil })
	go func() {
		for {
			if _, _, err := client.NextReader(); err != nil {
				return
			}
		}
	}()
	c.wstate.Store(rawWriting) // as flush does around its write
	if err := client.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ponged:
		t.Fatal("the pong went out during the batch's write")
	case <-time.After(100 * time.Millisecond):
	}
	c.wstate.CompareAndSwap(rawWriting, 0)
	select {
	case <-ponged:
	case <-time.After(5 * time.Second):
		t.Fatal("no pong after the write")
	}
}

// A client's close frame is answered with the same code, and no batch
// follows the answer.
func TestNoBatchAfterTheClientsClose(t *testing.T) {
	c, client := batchConn(t)
	serveReads(c)
	if err := client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.wstate.Load()&closeSent == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the client's close was not answered")
		}
		time.Sleep(time.Millisecond)
	}
	queue(t, c, 2, 10)
	c.drain()
	if n := c.hub.o.Metrics.EventWrites.Load(); n != 0 {
		t.Fatalf("%d event writes after the close frame", n)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := client.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 {
		t.Fatalf("read %v; want the close 4000 echoed", err)
	}
}

// A batch that comes while the pong to a client's ping is being written
// waits for it and goes out after it: the connection is not ended (it was,
// with 1011, as if the close frame had gone).
func TestBatchWaitsForThePong(t *testing.T) {
	c, client := batchConn(t)
	queue(t, c, 3, 10)
	inPong := make(chan struct{})
	release := make(chan struct{})
	ponged := make(chan bool, 1)
	go func() {
		ponged <- c.exclusive(func() { close(inPong); <-release }) // as ping holds the socket
	}()
	<-inPong
	done := make(chan struct{})
	go func() { c.drain(); close(done) }()
	time.Sleep(50 * time.Millisecond) // the writer reaches its flush
	close(release)
	if !<-ponged {
		t.Fatal("the pong did not run")
	}
	readSeqs(t, client, 3)
	<-done
	if s := c.wstate.Load(); s&closeSent != 0 {
		t.Fatalf("the connection was ended (wstate %d)", s)
	}
}

// A pong that could not be written (part of it may be on the wire) lets no
// batch follow it, and ends the connection with 1011.
func TestFailedPongEndsTheConnection(t *testing.T) {
	c, _ := batchConn(t)
	c.ws.NetConn().Close() // the pong's write fails
	if err := c.ping("p"); err == nil {
		t.Fatal("a pong that could not be written was taken as sent")
	}
	if c.wstate.Load()&closeSent == 0 {
		t.Fatal("a batch may still follow the failed pong")
	}
	if err := c.buffer(textFrame([]byte(`{"type":"pong"}`))); err != nil {
		t.Fatal(err)
	}
	if err := c.flush(); !errors.Is(err, errEnded) {
		t.Fatalf("a batch after the failed pong: %v, want nothing written (errEnded)", err)
	}
	if n := c.hub.o.Metrics.Closed()[1011]; n != 1 {
		t.Fatalf("closes with 1011: %d, want 1", n)
	}
}
