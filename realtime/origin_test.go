package realtime_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
)

// dialOrigin opens the feed as a browser on origin would; the status of
// the upgrade's answer (101 when it opened).
func dialOrigin(t *testing.T, e *apptest.Env, origin string) int {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	ws, resp, err := d.Dial(feedURL(e.URL), hdr)
	if err == nil {
		ws.Close()
		return resp.StatusCode
	}
	if resp == nil {
		t.Fatalf("dial with Origin %q: %v", origin, err)
	}
	return resp.StatusCode
}

// The console's own origin opens the feed whatever JARIMU_ALLOWED_ORIGINS
// says; listed sites do too; any other site gets 403, and the refusal is
// logged once (however many come) with the origin and the reason.
func TestFeedOrigins(t *testing.T) {
	listed := "https://dashboard.kopel.or.id"
	cases := map[string][]string{"no list": nil, "another site listed": {listed}}
	for name, allowed := range cases {
		t.Run(name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, e *apptest.Env) {
				own := e.URL // http://127.0.0.1:port, where the console is served
				want := map[string]int{"": 101, own: 101, strings.ToUpper(own): 101,
					own + "1": 403, "null": 403, listed: 403} // own + "1": another port
				if allowed != nil {
					want[listed] = 101
				}
				// The first refusal is the one logged.
				for range 20 {
					if got := dialOrigin(t, e, "https://evil.example"); got != 403 {
						t.Fatalf("another site: got %d, want 403", got)
					}
				}
				for o, status := range want {
					if got := dialOrigin(t, e, o); got != status {
						t.Errorf("Origin %q: got %d, want %d", o, got, status)
					}
				}
				logs := e.Logs.String()
				const msg = `"level":"WARN","msg":"feed handshake: origin refused"`
				if n := strings.Count(logs, msg); n != 1 {
					t.Fatalf("the refusals logged %d lines at warn, want 1 (at most one a minute):\n%s", n, logs)
				}
				line := logs[strings.Index(logs, msg):]
				line = line[:strings.IndexByte(line, '\n')]
				for _, s := range []string{`"origin":"https://evil.example"`, `"reason":"another site, not in JARIMU_ALLOWED_ORIGINS"`, `"host":"127.0.0.1:`} {
					if !strings.Contains(line, s) {
						t.Errorf("the refusal's log line lacks %s: %s", s, line)
					}
				}
			}, func(o *app.Options) { o.AllowedOrigins = allowed })
		})
	}
}
