package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
)

// refreshGate stands in front of the app and, while down is set, answers
// every refresh as the server does while its database is down: 503
// "unavailable" with Retry-After.
type refreshGate struct {
	next     http.Handler
	down     atomic.Bool
	answered atomic.Int32 // refreshes answered 503
}

func (g *refreshGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.down.Load() && r.Method == "POST" && r.URL.Path == "/v1/auth/refresh" {
		g.answered.Add(1)
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(api.Problem{Type: api.ProblemTypePrefix + "unavailable", Title: "Service Unavailable",
			Status: http.StatusServiceUnavailable, Detail: "the database is not answering; try again shortly"})
		return
	}
	g.next.ServeHTTP(w, r)
}

// The access token of an open page runs out while every refresh is
// answered 503 (the database is down): the page keeps its session, says
// "Menyambung ulang" the whole time and keeps trying; once refreshes work
// again it is live with everything published meanwhile. When the server
// then refuses the session itself (a refresh answered 401), the user is
// signed out and told the session ended.
func TestBrowserFeedHoldsWhileRefreshFails(t *testing.T) {
	a, err := app.New(context.Background(), app.Options{DataDir: t.TempDir(), TokenIssuer: "jarimu", TokenAudience: "jarimu-api",
		AccessTokenTTL: 6 * time.Second, RefreshTokenTTL: 24 * time.Hour, HashParams: &apptest.FastHash, MaxActiveClaims: 3,
		ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	a.Start(context.Background())
	t.Cleanup(a.Close)
	gate := &refreshGate{next: a.Server}
	srv := httptest.NewServer(gate)
	t.Cleanup(srv.Close)
	vol := mkUser(t, a, "volunteer", "nyoman", "3171")
	officer := mkUser(t, a, "officer", "petugas-bali", "31")

	b := newBrowser(t, srv.URL, 360, 740)
	b.signIn(vol.User.Email)
	b.goTo("#/feed")
	b.WaitJS("the live state", `document.getElementById('feed-state').dataset.state === 'open'`, 5*time.Second)

	// Refreshes fail from now on; the 6 s token runs out (close 4401).
	gate.down.Store(true)
	b.WaitJS("the reconnecting banner", `(() => { const n = document.getElementById('net');
		return !n.hidden && n.dataset.state === 'reconnecting' && n.textContent.includes('Menyambung ulang'); })()`, 15*time.Second)
	publishNow(t, a, officer, "Terbit saat token tidak bisa diperbarui")
	// For a while: still signed in, still saying it reconnects, still trying.
	tries := gate.answered.Load()
	for range 8 {
		time.Sleep(500 * time.Millisecond)
		if !b.EvalBool(`(() => { const n = document.getElementById('net');
			return !n.hidden && n.textContent.includes('Menyambung ulang') && !document.getElementById('logout').hidden &&
				document.getElementById('feed-state').dataset.state === 'reconnecting'; })()`) {
			t.Fatalf("while refreshes fail, the page gave up: banner %q (hidden %v), feed %q, signed in %v",
				b.Text("#net"), b.EvalBool(`document.getElementById('net').hidden`), b.Eval(`document.getElementById('feed-state').dataset.state`),
				b.EvalBool(`!document.getElementById('logout').hidden`))
		}
	}
	if n := gate.answered.Load(); n <= tries {
		t.Errorf("no refresh was tried in 4 s of the outage (%d answered 503 before, %d after)", tries, n)
	}
	t.Logf("%d refreshes answered 503", gate.answered.Load())

	// Refreshes work again: the page is live, with what it missed.
	gate.down.Store(false)
	took := b.WaitJS("the feed to come back", `document.getElementById('net').hidden && document.getElementById('feed-state').dataset.state === 'open'`, 20*time.Second)
	t.Logf("live again %v after refreshes worked", took)
	b.waitText("#feed-list", "Terbit saat token tidak bisa diperbarui", 3*time.Second)
	publishNow(t, a, officer, "Terbit setelah pulih")
	b.waitText("#feed-list", "Terbit setelah pulih", 3*time.Second)

	// The session is revoked elsewhere: the next refresh is refused (401).
	var rt string
	json.Unmarshal(b.Eval(`sessionStorage.getItem('jarimu.rt')`), &rt)
	body, _ := json.Marshal(api.RefreshRequest{RefreshToken: rt})
	resp, err := http.Post(srv.URL+"/v1/auth/logout", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	b.WaitJS("the session-ended notice", `location.hash.startsWith('#/login') && !!document.getElementById('session-ended')`, 15*time.Second)
	if got := b.Text("#session-ended"); got != "Sesi Anda berakhir, silakan masuk lagi." {
		t.Errorf("notice: got %q", got)
	}
	if !b.EvalBool(`document.getElementById('logout').hidden && document.getElementById('net').hidden`) {
		t.Errorf("signed out, the page still shows the logout button or the banner %q", b.Text("#net"))
	}
	b.checkA11y("login after the session ended")
	// Signing in again goes back to the feed, live.
	b.fill("#login-email", vol.User.Email)
	b.fill("#login-password", apptest.Password)
	b.click("#login-form button[type=submit]")
	b.WaitJS("back on the feed, live", `location.hash === '#/feed' && document.getElementById('feed-state')?.dataset.state === 'open'`, 15*time.Second)
}

// publishNow publishes an alert as officer, signed in afresh (the test's
// tokens last 6 s).
func publishNow(t *testing.T, a *app.App, officer api.AuthResponse, title string) {
	t.Helper()
	r, err := a.Auth.Login(context.Background(), api.LoginRequest{Email: officer.User.Email, Password: apptest.Password}, "test")
	if err != nil {
		t.Fatal(err)
	}
	publish(t, a, r, title)
}
