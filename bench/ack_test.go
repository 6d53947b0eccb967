package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

// With an ack delay a client acks as the console does: the events of one
// burst are acknowledged together after the delay, one ack per stream
// naming its highest seq; a later burst gets acks of its own. Without a
// delay every event frame is acknowledged at once.
func TestAcksAsTheConsoleSends(t *testing.T) {
	for _, delay := range []time.Duration{0, 700 * time.Millisecond} {
		acks := make(chan string, 100)
		send := make(chan []api.EventFrame)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			go func() {
				for {
					_, b, err := ws.ReadMessage()
					if err != nil {
						close(acks)
						return
					}
					acks <- string(b)
				}
			}()
			for burst := range send {
				for _, f := range burst {
					b, _ := json.Marshal(f)
					ws.WriteMessage(websocket.TextMessage, b)
				}
			}
		}))
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &feedClient{ack: true, ackDelay: delay, last: map[string]int64{}}
		var later *acker
		if delay > 0 {
			later = &acker{ws: ws, delay: delay}
		}
		done := make(chan error, 1)
		go func() { done <- c.readFrames(ws, later) }()
		ev := func(stream string, seq int64) api.EventFrame {
			return api.EventFrame{Type: "event", Stream: stream, Seq: seq, ID: "e", Event: "task.updated", Data: json.RawMessage(`{"id":"t"}`)}
		}
		// takeAcks reads n acks, then checks that no more come for a while.
		takeAcks := func(n int) []string {
			var got []string
			for range n {
				select {
				case a := <-acks:
					got = append(got, a)
				case <-time.After(5 * time.Second):
					t.Fatalf("delay %v: got acks %q, want %d", delay, got, n)
				}
			}
			select {
			case a := <-acks:
				t.Fatalf("delay %v: after %q one more ack %q", delay, got, a)
			case <-time.After(delay + 200*time.Millisecond):
			}
			return got
		}
		start := time.Now()
		send <- []api.EventFrame{ev("region:31", 1), ev("user:u", 4), ev("region:31", 2), ev("region:31", 3)}
		var first []string
		if delay == 0 {
			first = takeAcks(4)
		} else {
			first = takeAcks(2)
			if took := time.Since(start); took < delay {
				t.Errorf("delay %v: the acks came after %v", delay, took)
			}
		}
		want := map[time.Duration]string{
			0:                      `{"type":"ack","stream":"region:31","seq":1} {"type":"ack","stream":"user:u","seq":4} {"type":"ack","stream":"region:31","seq":2} {"type":"ack","stream":"region:31","seq":3}`,
			700 * time.Millisecond: `{"type":"ack","stream":"region:31","seq":3} {"type":"ack","stream":"user:u","seq":4}`,
		}[delay]
		if got := strings.Join(first, " "); got != want {
			t.Errorf("delay %v: first burst acked %s, want %s", delay, got, want)
		}
		// A repeat (seq 3 again) is acknowledged at once as before, and not
		// at all with a delay, as the console queues no ack for it.
		send <- []api.EventFrame{ev("region:31", 3), ev("user:u", 5)}
		if delay == 0 {
			if got := strings.Join(takeAcks(2), " "); got != `{"type":"ack","stream":"region:31","seq":3} {"type":"ack","stream":"user:u","seq":5}` {
				t.Errorf("delay %v: second burst acked %s", delay, got)
			}
		} else if got := takeAcks(1); got[0] != `{"type":"ack","stream":"user:u","seq":5}` {
			t.Errorf("delay %v: second burst acked %q", delay, got)
		}
		close(send)
		if err := <-done; err == nil {
			t.Errorf("delay %v: the reader ended without an error", delay)
		}
		srv.Close()
	}
}
