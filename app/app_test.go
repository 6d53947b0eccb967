package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// go-redis's own log lines (its pool failing to dial a Redis that is down)
// go through the service's logger, so the log stays JSON, one object a
// line. Not parallel: go-redis has one logger per process.
func TestRedisLogsAreJSON(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) {
		o.RedisURL, o.RedisPrefix = "redis://127.0.0.1:1/0", "test:"
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.Logs.String(), `"msg":"redis: `) {
		e.App.Redis.Ping(context.Background()) // its pool fails to dial, and says so
		if time.Now().After(deadline) {
			t.Fatalf("no go-redis line in the service's log after 10 s:\n%s", e.Logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	sc := bufio.NewScanner(strings.NewReader(e.Logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
	}
}

// Every cut of a feed connection is counted by its close code in /metrics.
func TestFeedClosesAreCounted(t *testing.T) {
	t.Parallel()
	e := apptest.Start(t, dbtest.SQLite)
	ws, _, err := (&websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}).Dial("ws"+strings.TrimPrefix(e.URL, "http")+"/v1/feed", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"nonsense"}`))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, 4400) {
		t.Fatalf("got %v, want close 4400", err)
	}
	r := e.Do(t, http.MethodGet, "/metrics", nil)
	if !strings.Contains(string(r.Body), `jarimu_feed_closes_total{code="4400"} 1`) {
		t.Fatalf("/metrics has no count of the 4400 close:\n%s", grep(string(r.Body), "jarimu_feed_"))
	}
}

func grep(s, word string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
