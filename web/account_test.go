package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/mailtest"
)

// The account screen: a volunteer edits their profile (the console follows
// the new language), changes their password (another session ends), ends a
// trusted device, downloads their data, and erases the account after the
// warning.
func TestBrowserAccountScreen(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	v := e.User(t, "volunteer", "sari", "3171")
	ctx := context.Background()
	other, err := e.App.Auth.Login(ctx, api.LoginRequest{Email: v.User.Email, Password: apptest.Password}, "lain")
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, e.URL, 390, 844)
	b.signIn(v.User.Email)
	b.goTo("#/me")
	b.WaitJS("the account screen", "!!document.querySelector('#me-form') && !!document.querySelector('#sessions li')", 10*time.Second)
	b.checkA11y("account")
	b.noHorizontalScroll("account")
	b.shot("account")

	// The region picker finds regions by part of their name.
	b.fill("#me-name", "Sari Wulandari")
	b.waitText("#me-form", "Dipilih: Kota Administrasi Jakarta Pusat", 5*time.Second)
	b.fill("#me-form input[name=region-q]", "xyzzy")
	b.waitText("#me-form .region-results", "Tidak ada wilayah", 5*time.Second)
	b.fill("#me-form input[name=region-q]", "Jakarta Sel")
	b.waitText("#me-form .region-results", "Kebayoran Baru, Kota Administrasi Jakarta Selatan", 5*time.Second)
	b.shot("region-picker")
	b.pickRegion("#me-form", "Jakarta Sel", "3174")
	b.waitText("#me-form", "Dipilih: Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta", 2*time.Second)
	if got := b.Eval(`document.querySelector('#me-form select[name=province]').value`); string(got) != `"31"` {
		t.Errorf("province after choosing 3174: got %s, want 31", got)
	}
	b.click("#me-form button[type=submit]")
	b.WaitJS("saved", "document.querySelector('main dl')?.textContent.includes('Sari Wulandari')", 10*time.Second)
	u, err := e.App.Auth.UserByID(ctx, v.User.ID)
	if err != nil || u.Name != "Sari Wulandari" || u.Region() != "3174" {
		t.Fatalf("after the profile form: %+v, %v", u, err)
	}
	b.waitText("main dl", "Kota Administrasi Jakarta Selatan", 5*time.Second)

	// Password: the two new ones must match; then the other session ends.
	b.fill("#pw-current", apptest.Password)
	b.fill("#pw-new", "sandi-baru-sari-2029")
	b.fill("#pw-again", "sandi-lain-sari-2029")
	b.click("#password-form button[type=submit]")
	b.waitText("#password-form", "tidak sama", 5*time.Second)
	b.fill("#pw-again", "sandi-baru-sari-2029")
	b.click("#password-form button[type=submit]")
	b.WaitJS("the new session", "document.querySelectorAll('#sessions li').length === 1", 10*time.Second)
	if _, err := e.App.Auth.Refresh(ctx, other.Tokens.RefreshToken); err == nil {
		t.Fatal("the other session survived the password change")
	}
	b.shot("account-password-changed")

	// A trusted device ends with one click.
	devices := b.Eval(`document.querySelectorAll('#devices li').length`)
	if string(devices) != "1" {
		t.Fatalf("devices after the change: %s", devices)
	}
	b.click("#devices li button")
	b.WaitJS("the device forgotten", "document.querySelectorAll('#devices li').length === 0", 10*time.Second)

	// The export downloads (the page fetches it with the session).
	b.Eval(`window.__exported = null`)
	b.WaitJS("the export button", "!!document.getElementById('export-json')", 5*time.Second)
	b.Eval(`(async () => {
		const m = await import('/app/js/api.js');
		const r = await fetch('/v1/me/export', { headers: { Authorization: 'Bearer ' + await m.token() } });
		window.__exported = (await r.json()).profile.name;
	})()`)
	b.WaitJS("the export", "window.__exported === 'Sari Wulandari'", 10*time.Second)
	b.click("#export-json")
	b.WaitJS("the download click answered", "!document.querySelector('#export-json')?.disabled", 10*time.Second)

	// Erasure: the warning is there, the box must be ticked, the password
	// re-entered.
	if w := b.Text("#erase-form .notice"); !strings.Contains(w, "Tidak dapat dibatalkan") {
		t.Fatalf("the warning: %q", w)
	}
	b.Eval(`document.getElementById('erase-form').scrollIntoView()`)
	b.shot("account-erase")
	b.fill("#erase-password", "bukan-sandinya-2029")
	b.click("#erase-sure")
	b.click("#erase-form button[type=submit]")
	b.waitText("#erase-form", "Kata sandi tidak sesuai", 10*time.Second)
	b.fill("#erase-password", "sandi-baru-sari-2029")
	b.click("#erase-form button[type=submit]")
	b.WaitJS("signed out", "document.getElementById('logout').hidden && location.hash === '#/'", 10*time.Second)
	u, err = e.App.Auth.UserByID(ctx, v.User.ID)
	if err != nil || u.API().Status != api.UserErased {
		t.Fatalf("after the erasure: %+v, %v", u, err)
	}
}

// The forgotten password flow in the browser, with the mail read from a
// real SMTP server: the login page links to it, the link in the mail opens
// the reset screen (and leaves the address bar without the token), the new
// password signs in.
func TestBrowserForgotPassword(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite, apptest.WithMail(t, ""))
	email := "lupa." + auth.NewID()[24:] + "@example.org"
	if _, err := e.App.Auth.Signup(context.Background(), api.SignupRequest{Email: email, Password: apptest.Password, Name: "Lupa",
		PrivacyVersion: e.App.Notice.Version}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.URL, 390, 844)
	b.open("#/login")
	b.click("#forgot-link")
	b.WaitJS("the forgot screen", "!!document.getElementById('forgot-form')", 5*time.Second)
	b.fill("#forgot-email", email)
	b.shot("forgot-password")
	b.click("#forgot-form button[type=submit]")
	b.waitText("main", "Periksa kotak masuk", 10*time.Second)

	m := mailtest.Await(t, email, 1, 15*time.Second)
	link, err := mailtest.Link(m.Text, apptest.PublicURL+"/")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	// The mail's link points at the public address; open it on the test
	// server.
	b.openURL(e.URL + "/?" + u.RawQuery + "#" + u.Fragment)
	b.WaitJS("the reset screen", "!!document.getElementById('reset-form')", 10*time.Second)
	if b.EvalBool(`location.search.includes('token')`) {
		t.Fatal("the token stays in the address bar")
	}
	b.fill("#reset-password", "sandi-baru-lupa-2029")
	b.fill("#reset-again", "sandi-baru-lupa-2029")
	b.shot("reset-password")
	b.click("#reset-form button[type=submit]")
	b.WaitJS("done", "!!document.getElementById('reset-login')", 10*time.Second)
	b.click("#reset-login")
	b.fill("#login-email", email)
	b.fill("#login-password", "sandi-baru-lupa-2029")
	b.click("#login-form button[type=submit]")
	b.WaitJS("signed in", "!document.getElementById('logout').hidden", 15*time.Second)
}

// openURL loads a full URL (a link from a mail) in the tab.
func (b *browser) openURL(u string) {
	b.T.Helper()
	b.Do("open "+u, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// A staff account an admin made signs in for the first time: the console
// shows the privacy notice first, and the live feed already works meanwhile
// (an alert arrives); consenting goes on to the screen asked for.
func TestBrowserConsentAtFirstSignIn(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	ctx := context.Background()
	if _, err := e.App.Auth.CreateUser(ctx, nil, api.CreateUserRequest{Email: "petugas.baru@bawaslu.example", Name: "Petugas Baru",
		Role: api.RoleOfficer, Password: apptest.Password}); err != nil {
		t.Fatal(err)
	}
	other := e.User(t, api.RoleOfficer, "lain", "")
	b := newBrowser(t, e.URL, 390, 844)
	b.open("#/login")
	b.fill("#login-email", "petugas.baru@bawaslu.example")
	b.fill("#login-password", apptest.Password)
	b.click("#login-form button[type=submit]")
	b.WaitJS("the consent screen", "location.hash.startsWith('#/consent') && !!document.getElementById('consent-accept')", 15*time.Second)
	b.WaitJS("the feed to connect", "document.getElementById('net').dataset.state === 'open'", 15*time.Second)
	b.checkA11y("consent")
	b.shot("consent")
	p, err := e.App.Auth.Authenticate(ctx, other.Tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Alerts.Create(ctx, p, api.CreateAlertRequest{Title: "Hoaks TPS dipindah", Body: "Tidak benar.", Severity: "warning"}); err != nil {
		t.Fatal(err)
	}
	b.waitText("#toasts", "Hoaks TPS dipindah", 10*time.Second)
	b.click("#consent-accept")
	b.WaitJS("past the notice", "!location.hash.startsWith('#/consent')", 10*time.Second)
	u, found, err := e.App.Auth.UserByEmail(ctx, "petugas.baru@bawaslu.example")
	if err != nil || !found || u.PrivacyVersion == nil || *u.PrivacyVersion != e.App.Notice.Version {
		t.Fatalf("after consent: %+v, %v", u, err)
	}
}
