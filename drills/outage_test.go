package drills_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/browsertest"
	"github.com/jarimu/jarimu/client"
)

// PostgreSQL is stopped for about 8 s under two instances (sharing it and
// a Redis) while the feed's clients are connected: the Go SDK's Feed (two
// per instance) and the web console in Chromium, all through TCP proxies
// that break every connection when the database goes and refuse new ones
// for 3 s, so that every one of them really reconnects during the outage;
// and two raw websockets straight to the instances, which stay open.
//
// While it is down: hellos with valid tokens are closed 1013 ("retry in 5
// s"), never 4401; token frames on open connections leave them open; the
// console says "Menyambung ulang" and keeps its session. Once it is back,
// an officer publishes three alerts through the API: every client, the
// console included, gets each of them, once, on its own.
func TestPostgresDownFeedsHold(t *testing.T) {
	t.Parallel()
	browsertest.Path(t) // skip early (outside CI) rather than after starting servers
	pg := startPostgres(t)
	rs := startRedis(t)
	o := app.Options{DatabaseURL: pg.URL(), MaxOpenConns: 16, Keys: apptest.NewKeys(t), VAPID: apptest.NewVAPID(t), RedisURL: rs.URL(),
		RedisPrefix: "drill:" + auth.NewID() + ":"}
	a, b := startApp(t, o), startApp(t, o)
	apps := []*drillApp{a, b}
	pa, pb := startProxy(t, hostOf(t, a.URL)), startProxy(t, hostOf(t, b.URL))
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	officer := a.User(t, "officer", "petugas", "31")
	web := a.User(t, "volunteer", "konsol", "3171")
	var sdks []*alertFeed
	for i, p := range []*cutProxy{pa, pa, pb, pb} {
		v := a.User(t, "volunteer", "sdk", "3171")
		sdks = append(sdks, startAlertFeed(t, ctx, fmt.Sprintf("sdk%d", i), p.URL(), v.Tokens))
	}
	var held []*heldConn
	var fresh []string // a second valid token of each held connection's user
	for i, e := range apps {
		v := a.User(t, "volunteer", "terbuka", "3171")
		held = append(held, openHeld(t, fmt.Sprintf("held%d", i), e.URL, v.Tokens.AccessToken))
		again, err := a.App.Auth.Login(context.Background(), api.LoginRequest{Email: v.User.Email, Password: apptest.Password}, "drill")
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, again.Tokens.AccessToken)
	}
	c := newConsole(t, pa.URL())
	c.signIn(web.User.Email)
	c.Eval(`location.hash = '#/feed'`)
	c.WaitJS("the live feed page", `document.getElementById('feed-state')?.dataset.state === 'open'`, 10*time.Second)
	// Every change of the banner and of the feed's state, with its time.
	c.Eval(`(() => {
		window.seen = [];
		const net = document.getElementById('net'), st = document.getElementById('feed-state');
		const rec = () => window.seen.push({at: Date.now(), net: net.hidden ? '' : net.textContent, feed: st.dataset.state});
		const o = new MutationObserver(rec);
		for (const el of [net, st]) o.observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
		rec();
	})()`)

	// ---- the outage ----
	closesBefore := []map[int]int64{a.App.Hub.Metrics().Closed(), b.App.Hub.Metrics().Closed()}
	down := time.Now()
	pg.Stop(fast)
	pa.Cut()
	pb.Cut()
	t.Logf("PostgreSQL stopped in %v; the proxies cut every connection", time.Since(down).Round(time.Millisecond))
	c.WaitJS("the reconnecting banner", `(() => { const n = document.getElementById('net');
		return !n.hidden && n.textContent.includes('Menyambung ulang'); })()`, 10*time.Second)

	// (a) Hellos with valid tokens: 1013 with the delay, never 4401.
	hellos := make([]int, len(apps))
	for i, e := range apps {
		for j := range 3 {
			code, reason := helloClose(t, e.URL, fresh[i], j)
			hellos[i]++
			if code != websocket.CloseTryAgainLater || reason != "try again later: retry in 5 s" {
				t.Errorf("instance %d, hello %d while PostgreSQL is down: closed %d %q, want 1013 \"try again later: retry in 5 s\"", i, j, code, reason)
			}
		}
	}
	// Token frames on open connections: they stay open.
	for i, h := range held {
		pongs := h.pongCount()
		h.send(t, api.ClientFrame{Type: "token", Token: fresh[i]})
		h.send(t, api.ClientFrame{Type: "ping"})
		if !h.waitPong(pongs, 5*time.Second) {
			t.Errorf("%s: no pong after a token frame while PostgreSQL is down: %v", h.name, h.endErr())
		}
	}

	time.Sleep(time.Until(down.Add(3 * time.Second)))
	pa.Restore()
	pb.Restore()
	// The clients behind the proxies reconnect while the database is still
	// down, and are told to come back later.
	want := []int64{int64(hellos[0] + 1 + 2), int64(hellos[1] + 2)} // raw hellos, the console (on A), two SDK feeds each
	took, ok := waitFor(20*time.Second, func() bool {
		for i, e := range apps {
			if e.App.Hub.Metrics().Closed()[1013]-closesBefore[i][1013] < want[i] {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Errorf("the clients behind the proxies did not come back (to a 1013) within 20 s: 1013 closes on A %d, B %d; want %v",
			a.App.Hub.Metrics().Closed()[1013]-closesBefore[0][1013], b.App.Hub.Metrics().Closed()[1013]-closesBefore[1][1013], want)
	} else {
		t.Logf("%v after the proxies let them through, every client behind them had been answered 1013", took.Round(time.Millisecond))
	}
	if !c.EvalBool(`(() => { const n = document.getElementById('net');
		return !n.hidden && n.textContent.includes('Menyambung ulang') && !document.getElementById('logout').hidden; })()`) {
		t.Errorf("during the outage the console shows %q (signed in: %v), want the reconnecting banner", c.Text("#net"),
			c.EvalBool(`!document.getElementById('logout').hidden`))
	}
	time.Sleep(time.Until(down.Add(8 * time.Second)))
	pg.Start()
	up := time.Now()
	t.Logf("PostgreSQL down for %v", up.Sub(down).Round(time.Millisecond))

	// ---- after: three alerts, through the API ----
	titles := []string{"Pulih 1: hoaks surat suara", "Pulih 2: ajakan golput palsu", "Pulih 3: jadwal coblos palsu"}
	for i, title := range titles {
		publishAlert(t, hc, apps[i%2].URL, officer.Tokens.AccessToken, title)
	}
	t.Logf("the three alerts were published %v after PostgreSQL accepted connections", time.Since(up).Round(time.Millisecond))
	gotAll := func() bool {
		for _, s := range sdks {
			if !s.has(titles) {
				return false
			}
		}
		for _, h := range held {
			if !h.has(titles) {
				return false
			}
		}
		return c.EvalBool(fmt.Sprintf(`(() => { const text = [...document.querySelectorAll('#feed-list li')].map((li) => li.textContent);
			return %s.every((w) => text.some((x) => x.includes(w))); })()`, jsList(titles)))
	}
	took, ok = waitFor(30*time.Second, gotAll)
	if !ok {
		for _, s := range sdks {
			t.Errorf("%s got %v (states %v)", s.name, s.got(), s.stateLog())
		}
		for _, h := range held {
			t.Errorf("%s got %v (ended: %v)", h.name, h.got(), h.endErr())
		}
		t.Fatalf("30 s after PostgreSQL came back, not every client has the three alerts; the console lists %s and shows %q",
			c.Eval(`[...document.querySelectorAll('#feed-list li')].map((li) => li.textContent)`), c.Text("#net"))
	}
	t.Logf("every client had the three alerts %v after they were published", took.Round(time.Millisecond))

	// Each alert once, everywhere.
	for _, s := range sdks {
		if got := s.got(); !sameSet(got, titles) {
			t.Errorf("%s: got the alerts %q, want each of %q once", s.name, got, titles)
		}
		select {
		case err := <-s.done:
			t.Errorf("%s: Run returned %v", s.name, err)
		default:
		}
	}
	for _, h := range held {
		if got := h.got(); !sameSet(got, titles) {
			t.Errorf("%s (open throughout): got the alerts %q, want each of %q once", h.name, got, titles)
		}
	}
	var listed []string
	json.Unmarshal(c.Eval(`[...document.querySelectorAll('#feed-list li[data-event="alert.published"]')].map((li) => li.textContent)`), &listed)
	for _, title := range titles {
		n := 0
		for _, l := range listed {
			if strings.Contains(l, title) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the console lists %q %d times, want once (it lists %q)", title, n, listed)
		}
	}
	c.WaitJS("the banner to go", `document.getElementById('net').hidden && document.getElementById('feed-state').dataset.state === 'open'`, 5*time.Second)

	// The console's banner: "Menyambung ulang" whenever its feed was not
	// live, from the outage until it was back; never signed out.
	type mark struct {
		At   int64  `json:"at"`
		Net  string `json:"net"`
		Feed string `json:"feed"`
	}
	var seen []mark
	json.Unmarshal(c.Eval(`window.seen`), &seen)
	sawBanner := false
	for _, m := range seen {
		at := time.UnixMilli(m.At)
		if at.After(down) && at.Before(up) && strings.Contains(m.Net, "Menyambung ulang") {
			sawBanner = true
		}
		if m.Feed != "open" && !strings.Contains(m.Net, "Menyambung ulang") {
			t.Errorf("at %v from the outage's start the console's feed was %q with the banner %q, want \"Menyambung ulang\"",
				at.Sub(down).Round(time.Millisecond), m.Feed, m.Net)
		}
	}
	if !sawBanner {
		t.Errorf("the console never showed \"Menyambung ulang\" during the outage (%d changes seen)", len(seen))
	}
	if last := seen[len(seen)-1]; last.Feed != "open" || last.Net != "" {
		t.Errorf("at the end the console's feed is %q with the banner %q, want open and no banner", last.Feed, last.Net)
	}

	// What operators see: 1013 counted, never 4401; the outage logged at
	// warn, once per 5 s at most.
	for i, e := range apps {
		m := e.App.Hub.Metrics()
		closed := m.Closed()
		if n := closed[4401] - closesBefore[i][4401]; n != 0 {
			t.Errorf("instance %d closed %d connections with 4401 during the drill, want none", i, n)
		}
		warned := logLines(e.Logs.String(), "cannot check now")
		if len(warned) == 0 || len(warned) > int(up.Sub(down)/(5*time.Second))+2 {
			t.Errorf("instance %d logged %d warnings that the feed could not check tokens, want 1 to one per 5 s of the outage", i, len(warned))
		}
		t.Logf("instance %d: closes %v, unavailable %d, %d warnings logged", i, closed, m.Unavailable.Load(), len(warned))
	}
}

func hostOf(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// jsList is ss as a JavaScript array literal.
func jsList(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// sameSet reports whether got holds each of want once, and nothing else.
func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// publishAlert publishes an alert to region 31 through the API of base,
// trying again (same Idempotency-Key) while it is answered 503.
func publishAlert(t testing.TB, hc *http.Client, base, token, title string) {
	t.Helper()
	code := "31"
	req := api.CreateAlertRequest{Title: title, Body: "Jangan disebarkan; cek sumber resmi.", Severity: "critical", RegionCode: &code}
	key := auth.NewID()
	var last answer
	if _, ok := waitFor(15*time.Second, func() bool {
		last = do(hc, "POST", base+"/v1/alerts", req, append(bearer(token), "Idempotency-Key", key)...)
		if last.unavailable() {
			time.Sleep(200 * time.Millisecond)
		}
		return last.Status == http.StatusCreated
	}); !ok {
		t.Fatalf("publish %q: %v", title, last)
	}
}

// helloClose opens a feed connection straight to base, says hello with
// token and returns how the server closed it (0 when it did not).
func helloClose(t testing.TB, base, token string, i int) (int, string) {
	t.Helper()
	ws, _, err := localDialer(i).Dial(feedURL(base), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", base, err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(api.ClientFrame{Type: "hello", Token: token}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if err != nil {
			t.Errorf("hello to %s: %v", base, err)
			return 0, ""
		}
		t.Errorf("hello to %s while PostgreSQL is down: got %s, want a close", base, b)
	}
}

// ---- an SDK feed that keeps the alerts it gets ----

type alertFeed struct {
	name string
	feed *client.Feed
	done chan error

	mu     sync.Mutex
	titles []string
	states []client.FeedState
}

// startAlertFeed runs the SDK's Feed against base (through a proxy) and
// waits for its first welcome.
func startAlertFeed(t testing.TB, ctx context.Context, name, base string, tokens api.Tokens) *alertFeed {
	t.Helper()
	s := &alertFeed{name: name, done: make(chan error, 1)}
	connected := make(chan struct{}, 1)
	// A backoff of at most 4 s (an app's choice; 30 s by default) keeps the
	// drill short: the delay of a 1013 (5 s) is waited out whatever it is.
	opts := client.FeedOptions{AutoAck: true, MaxBackoff: 4 * time.Second}
	opts.OnState = func(st client.FeedState) {
		s.mu.Lock()
		s.states = append(s.states, st)
		s.mu.Unlock()
		if st == client.FeedConnected {
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	}
	s.feed = client.New(base, client.WithTokens(tokens)).Feed(opts)
	go func() { s.done <- s.feed.Run(ctx) }()
	go func() {
		for ev := range s.feed.Events() {
			if ev.Type != client.FeedTypeEvent || ev.Event != "alert.published" {
				continue
			}
			var al api.Alert
			json.Unmarshal(ev.Data, &al)
			s.mu.Lock()
			s.titles = append(s.titles, al.Title)
			s.mu.Unlock()
		}
	}()
	select {
	case <-connected:
	case err := <-s.done:
		t.Fatalf("%s: %v", name, err)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: not connected within 20 s", name)
	}
	return s
}

func (s *alertFeed) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.titles)
}

func (s *alertFeed) has(titles []string) bool {
	got := s.got()
	for _, w := range titles {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func (s *alertFeed) stateLog() []client.FeedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.states)
}

// ---- a raw connection that stays open ----

type heldConn struct {
	name string
	ws   *websocket.Conn
	wmu  sync.Mutex

	mu     sync.Mutex
	titles []string
	pongs  int
	err    error // why reading ended
}

// openHeld connects straight to base, says hello and reads on in the
// background (which also answers the server's pings).
func openHeld(t testing.TB, name, base, token string) *heldConn {
	t.Helper()
	ws, _, err := localDialer(0).Dial(feedURL(base), nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(func() { ws.Close() })
	h := &heldConn{name: name, ws: ws}
	h.send(t, api.ClientFrame{Type: "hello", Token: token})
	var w api.Welcome
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.ReadJSON(&w); err != nil || w.Type != "welcome" {
		t.Fatalf("%s: no welcome: %v", name, err)
	}
	ws.SetReadDeadline(time.Time{})
	go h.read()
	return h
}

func (h *heldConn) read() {
	for {
		_, b, err := h.ws.ReadMessage()
		if err != nil {
			h.mu.Lock()
			h.err = err
			h.mu.Unlock()
			return
		}
		var f struct {
			Type  string    `json:"type"`
			Event string    `json:"event"`
			Data  api.Alert `json:"data"`
		}
		json.Unmarshal(b, &f)
		h.mu.Lock()
		switch {
		case f.Type == "pong":
			h.pongs++
		case f.Type == "event" && f.Event == "alert.published":
			h.titles = append(h.titles, f.Data.Title)
		}
		h.mu.Unlock()
	}
}

func (h *heldConn) send(t testing.TB, f api.ClientFrame) {
	t.Helper()
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := h.ws.WriteJSON(f); err != nil {
		t.Errorf("%s: send %s: %v", h.name, f.Type, err)
	}
}

func (h *heldConn) pongCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pongs
}

// waitPong waits for more than before pongs, the connection still open.
func (h *heldConn) waitPong(before int, limit time.Duration) bool {
	_, ok := waitFor(limit, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.pongs > before && h.err == nil
	})
	return ok
}

func (h *heldConn) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.titles)
}

func (h *heldConn) has(titles []string) bool {
	got := h.got()
	for _, w := range titles {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func (h *heldConn) endErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}
