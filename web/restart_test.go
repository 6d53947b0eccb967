package web_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
)

// instance is the real app served on a fixed address, so that it can be
// stopped and started again where the browser expects it.
type instance struct {
	app *app.App
	srv *http.Server
}

func startInstance(t *testing.T, dir, addr string) *instance {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{DataDir: dir, TokenIssuer: "jarimu", TokenAudience: "jarimu-api",
		AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: 24 * time.Hour, HashParams: &apptest.FastHash, MaxActiveClaims: 3,
		ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	a.Start(context.Background())
	return &instance{app: a}
}

// serve starts answering HTTP on addr (the port may just have been freed).
func (in *instance) serve(t *testing.T, addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	in.srv = &http.Server{Handler: in.app.Server, ReadHeaderTimeout: 10 * time.Second}
	go in.srv.Serve(ln)
}

func (in *instance) stop() {
	if in.srv != nil {
		in.srv.Close()
	}
	in.app.Close() // ends the feed's connections with 1001
}

func mkUser(t *testing.T, a *app.App, role, name, region string) api.AuthResponse {
	t.Helper()
	req := api.CreateUserRequest{Email: name + "@example.org", Name: name, Role: role, Password: apptest.Password}
	if region != "" {
		req.RegionCode = &region
	}
	u, err := a.Auth.CreateUser(context.Background(), nil, req)
	if err != nil {
		t.Fatal(err)
	}
	// Its owner consents to the privacy notice, as at a first sign-in.
	if _, err := a.Auth.Consent(context.Background(), auth.Principal{UserID: u.ID, Role: u.Role}, api.ConsentRequest{Version: a.Notice.Version}); err != nil {
		t.Fatal(err)
	}
	r, err := a.Auth.Login(context.Background(), api.LoginRequest{Email: req.Email, Password: apptest.Password}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func publish(t *testing.T, a *app.App, officer api.AuthResponse, title string) {
	t.Helper()
	p, err := a.Auth.Authenticate(context.Background(), officer.Tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	code := "31"
	if _, err := a.Alerts.Create(context.Background(), p, api.CreateAlertRequest{Title: title, Body: "Isi peringatan.", Severity: "info", RegionCode: &code}); err != nil {
		t.Fatal(err)
	}
}

// The server restarts under an open page: the page says it is reconnecting,
// comes back on its own, receives what was published while it was away
// (resume) and then live events again.
func TestBrowserFeedReconnectsAfterRestart(t *testing.T) {
	dir := t.TempDir()
	addr := apptest.UnusedAddr(t)
	first := startInstance(t, dir, addr)
	t.Cleanup(first.stop)
	first.serve(t, addr)
	vol := mkUser(t, first.app, "volunteer", "wayan", "3171")
	officer := mkUser(t, first.app, "officer", "petugas", "31")

	b := newBrowser(t, "http://"+addr, 360, 740)
	b.signIn(vol.User.Email)
	b.goTo("#/feed")
	b.WaitJS("the live state", `document.getElementById('feed-state').dataset.state === 'open'`, 5*time.Second)

	first.stop()
	b.WaitJS("the reconnecting banner", `(() => { const n = document.getElementById('net');
		return !n.hidden && n.dataset.state === 'reconnecting' && n.textContent.includes('Menyambung ulang'); })()`, 5*time.Second)
	b.shot("feed-reconnecting")

	second := startInstance(t, dir, addr)
	defer second.stop()
	publish(t, second.app, officer, "Terbit saat konsol terputus")
	second.serve(t, addr)

	took := b.WaitJS("the feed to come back", `document.getElementById('net').hidden && document.getElementById('feed-state').dataset.state === 'open'`, 20*time.Second)
	t.Logf("reconnected %v after the server was back", took)
	b.waitText("#feed-list", "Terbit saat konsol terputus", 3*time.Second)

	publish(t, second.app, officer, "Terbit setelah tersambung lagi")
	b.waitText("#feed-list", "Terbit setelah tersambung lagi", 2*time.Second)
	if n := b.Eval(`[...document.querySelectorAll('#feed-list li')].map((li) => li.textContent)`); !b.EvalBool(`[...document.querySelectorAll('#feed-list li')].length === 2`) {
		t.Errorf("the feed lists %s, want the two alerts", n)
	}
	b.shot("feed")
}
