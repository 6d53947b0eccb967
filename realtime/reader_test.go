package realtime_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// clientFrame is a frame as a client sends it: masked (unless unmasked),
// the length in the shortest form unless long says 8 bytes.
func clientFrame(fin bool, op byte, payload []byte, opts ...string) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	masked, long := true, false
	for _, o := range opts {
		switch o {
		case "unmasked":
			masked = false
		case "rsv1":
			b0 |= 0x40
		case "long":
			long = true
		}
	}
	var b []byte
	mbit := byte(0x80)
	if !masked {
		mbit = 0
	}
	switch n := len(payload); {
	case long || n > 65535:
		b = append([]byte{b0, mbit | 127}, binary.BigEndian.AppendUint64(nil, uint64(n))...)
	case n > 125:
		b = append([]byte{b0, mbit | 126}, binary.BigEndian.AppendUint16(nil, uint16(n))...)
	default:
		b = []byte{b0, mbit | byte(n)}
	}
	if !masked {
		return append(b, payload...)
	}
	mask := []byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, mask...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

// modes runs f with the hub's pollers (on Linux) and with a goroutine per
// connection.
func modes(t *testing.T, f func(t *testing.T, o realtime.Options)) {
	t.Run("pollers", func(t *testing.T) { t.Parallel(); f(t, realtime.Options{}) })
	t.Run("goroutines", func(t *testing.T) { t.Parallel(); f(t, realtime.Options{ReaderGoroutines: true}) })
}

// writeRaw writes bytes to the client's socket as they are.
func (c *client) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.ws.NetConn().Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Frames that arrive split anywhere, several in one write, fragmented, or
// with control frames between fragments are all read, after the hello as
// with it.
func TestFramesAsTheyArrive(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, o realtime.Options) {
		env := startHub(t, o)
		tok := env.token("u1", time.Now().Add(time.Hour))

		// A hello in three fragments, a websocket ping between them, and
		// a ping frame in the same write: the pong for the websocket ping,
		// the welcome, then the feed's pong.
		c := connect(t, env.url, nil, nil)
		pongs := make(chan string, 4)
		c.ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
		h := []byte(`{"type":"hello","token":"` + tok + `"}`)
		var w []byte
		w = append(w, clientFrame(false, 0x1, h[:5])...)
		w = append(w, clientFrame(true, 0x9, []byte("p1"))...)
		w = append(w, clientFrame(false, 0x0, h[5:12])...)
		w = append(w, clientFrame(true, 0x0, h[12:])...)
		w = append(w, clientFrame(true, 0x1, []byte(`{"type":"ping"}`))...)
		c.writeRaw(w)
		if f := c.next(); f.Type != "welcome" {
			t.Fatalf("got %v, want welcome", f)
		}
		// At once: the ping came with the hello, nothing more will.
		if f, err := c.read(time.Second); err != nil || f.Type != "pong" {
			t.Fatalf("got %v %v, want the pong of the ping sent with the hello", f, err)
		}
		if p := <-pongs; p != "p1" {
			t.Fatalf("websocket pong %q, want p1", p)
		}

		// Three acks and a ping in one write, then an ack and a ping one
		// byte at a time.
		ack := func(seq int) []byte {
			return clientFrame(true, 0x1, fmt.Appendf(nil, `{"type":"ack","stream":"user:u1","seq":%d}`, seq))
		}
		w = slices.Concat(ack(1), ack(2), ack(3), clientFrame(true, 0x1, []byte(`{"type":"ping"}`)))
		c.writeRaw(w)
		if f := c.next(); f.Type != "pong" {
			t.Fatalf("got %v, want pong", f)
		}
		w = slices.Concat(ack(4), clientFrame(true, 0x1, []byte(`{"type":"ping"}`)))
		for i := range w {
			c.writeRaw(w[i : i+1])
			time.Sleep(time.Millisecond)
		}
		if f := c.next(); f.Type != "pong" {
			t.Fatalf("got %v, want pong", f)
		}
		// A fragmented ack with a websocket ping between its fragments;
		// the 8-byte length form.
		a := []byte(`{"type":"ack","stream":"user:u1","seq":5}`)
		c.writeRaw(slices.Concat(clientFrame(false, 0x1, a[:9], "long"), clientFrame(true, 0x9, []byte("p2")),
			clientFrame(true, 0x0, a[9:]), clientFrame(true, 0x1, []byte(`{"type":"ping"}`))))
		if f := c.next(); f.Type != "pong" {
			t.Fatalf("got %v, want pong", f)
		}
		if p := <-pongs; p != "p2" {
			t.Fatalf("websocket pong %q, want p2", p)
		}
		env.mu.Lock()
		got := slices.Clone(env.acks)
		env.mu.Unlock()
		want := []string{"u1 user:u1 0..1", "u1 user:u1 1..2", "u1 user:u1 2..3", "u1 user:u1 3..4", "u1 user:u1 4..5"} // each from the ack before
		if !slices.Equal(got, want) {
			t.Fatalf("acks %q, want %q", got, want)
		}

		// A burst larger than a poller reads of one connection at once
		// (four 16 KiB buffers): all of it is read, in order.
		var burst []byte
		for seq := 6; seq <= 3000; seq++ {
			burst = append(burst, ack(seq)...)
		}
		c.writeRaw(append(burst, clientFrame(true, 0x1, []byte(`{"type":"ping"}`))...))
		if f := c.next(); f.Type != "pong" {
			t.Fatalf("got %v, want pong", f)
		}
		env.mu.Lock()
		n, last := len(env.acks), env.acks[len(env.acks)-1]
		env.mu.Unlock()
		if n != 3000 || last != "u1 user:u1 2999..3000" {
			t.Fatalf("%d acks, the last %q; want 3000, the last 2999..3000", n, last)
		}

		// A close frame is answered with its code, and the connection ends.
		c.writeRaw(clientFrame(true, 0x8, websocket.FormatCloseMessage(4000, "bye")))
		c.expectClose("client's close", 4000, 5*time.Second)
		waitFor(t, "no connection left", func() bool { return env.hub.Connections() == 0 })
	})
}

// Every frame that breaks the websocket protocol closes with 1002 (1007
// for a close reason that is not UTF-8); a message larger than the feed
// takes, or binary, with 4400. Before the hello and after it.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	ping := []byte(`{"type":"ping"}`)
	cases := []struct {
		name  string
		bytes []byte
		code  int
	}{
		{"unmasked", clientFrame(true, 0x1, ping, "unmasked"), websocket.CloseProtocolError},
		{"reserved bit", clientFrame(true, 0x1, ping, "rsv1"), websocket.CloseProtocolError},
		{"unknown opcode", clientFrame(true, 0x3, ping), websocket.CloseProtocolError},
		{"long control frame", clientFrame(true, 0x9, bytes.Repeat([]byte("p"), 126)), websocket.CloseProtocolError},
		{"fragmented control frame", clientFrame(false, 0x9, []byte("p")), websocket.CloseProtocolError},
		{"continuation first", clientFrame(true, 0x0, ping), websocket.CloseProtocolError},
		{"binary inside a message", slices.Concat(clientFrame(false, 0x1, ping[:3]), clientFrame(true, 0x2, ping)), websocket.CloseProtocolError},
		{"new message inside one", slices.Concat(clientFrame(false, 0x1, ping[:3]), clientFrame(true, 0x1, ping)), websocket.CloseProtocolError},
		{"close of one byte", clientFrame(true, 0x8, []byte{3}), websocket.CloseProtocolError},
		{"close code 1005", clientFrame(true, 0x8, []byte{0x03, 0xed}), websocket.CloseProtocolError},
		{"close reason not UTF-8", clientFrame(true, 0x8, []byte{0x03, 0xe8, 0xff}), websocket.CloseInvalidFramePayloadData},
		{"frame past the limit", clientFrame(true, 0x1, bytes.Repeat([]byte(" "), api.MaxClientFrameSize+1)), api.CloseBadFrame},
		// A header announcing 1 GiB: refused before any payload arrives.
		{"header past the limit", []byte{0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4}, api.CloseBadFrame},
		{"fragments past the limit", slices.Concat(clientFrame(false, 0x1, bytes.Repeat([]byte(" "), 3000)), clientFrame(true, 0x0, bytes.Repeat([]byte(" "), 1200))), api.CloseBadFrame},
		{"binary, fragmented", clientFrame(false, 0x2, ping), api.CloseBadFrame},
	}
	modes(t, func(t *testing.T, o realtime.Options) {
		env := startHub(t, o)
		tok := env.token("u1", time.Now().Add(time.Hour))
		for _, tc := range cases {
			for _, after := range []bool{false, true} {
				c := connect(t, env.url, nil, nil)
				if after {
					c.send(api.ClientFrame{Type: "hello", Token: tok})
					if f := c.next(); f.Type != "welcome" {
						t.Fatalf("got %v, want welcome", f)
					}
				}
				c.writeRaw(tc.bytes)
				c.expectClose(fmt.Sprintf("%s (after hello %v)", tc.name, after), tc.code, 5*time.Second)
				c.ws.Close()
			}
		}
		waitFor(t, "no connection left", func() bool { return env.hub.Connections() == 0 })
	})
}

// A client that vanishes without a close frame ends its connection at
// once (long before the pings would find it gone): after half a message,
// and after an ack or a pong sent with its last bytes.
func TestClientVanishes(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, o realtime.Options) {
		o.PingInterval = time.Hour
		env := startHub(t, o)
		tok := env.token("u1", time.Now().Add(time.Hour))
		for _, last := range [][]byte{
			clientFrame(false, 0x1, []byte(`{"type":`)),
			clientFrame(true, 0x1, []byte(`{"type":"ack","stream":"user:u1","seq":1}`)),
			clientFrame(true, 0xA, nil),
		} {
			for range 10 {
				c, _ := open(t, env.url, tok, nil)
				c.writeRaw(last)
				c.ws.NetConn().Close()
			}
		}
		waitFor(t, "no connection left", func() bool { return env.hub.Connections() == 0 })
	})
}
