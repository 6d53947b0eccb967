package web_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// A volunteer signs up in the browser, joins an org with an invite code and
// claims a task; a second volunteer's open page sees the slot count drop
// (and rise again on release) without a reload.
func TestBrowserVolunteerClaimsLive(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	coord := e.User(t, "volunteer", "koordinator", "31")
	o := f.org(t, "Perludem Jakarta", coord)
	code := f.invite(t, coord, o.ID)
	tk := f.task(t, coord, o.ID, "Pantau #pemilujujur di TikTok", 3)
	other := e.User(t, "volunteer", "rina", "3171")
	f.join(t, other, o.ID, code)

	// The second volunteer's page is open on the task list.
	watcher := newBrowser(t, e.URL, 360, 740)
	watcher.signIn(other.User.Email)
	watcher.goTo("#/tasks")
	slots := `#available-tasks [data-slots-for="` + tk.ID + `"]`
	watcher.waitText(slots, "3 dari 3", 10*time.Second)

	// The new volunteer signs up and joins with the invite code.
	b := newBrowser(t, e.URL, 360, 740)
	b.open("#/signup")
	b.checkA11y("signup")
	b.fill("#signup-name", "Budi Santoso")
	email := "budi-" + strings.ToLower(tk.ID[30:]) + "@example.org"
	b.fill("#signup-email", email)
	b.fill("#signup-password", "awasi-pemilu-jujur-adil")
	b.pickRegion("#signup-form", "Jakarta Pusat", "3171")
	b.click("#signup-consent")
	b.shot("signup")
	b.click("#signup-form button[type=submit]")
	b.WaitJS("the registry after sign-up", "location.hash === '#/orgs' && !!document.querySelector('[data-org]')", 15*time.Second)
	card := `[data-org="` + o.ID + `"]`
	b.click(card + " summary")
	b.fill(card+" input[name=invite_code]", code)
	b.checkA11y("registry")
	b.click(card + " button[type=submit]")
	b.waitText(card, "anggota aktif", 10*time.Second)
	b.shot("registry-joined")

	// It claims the task; the watcher's count drops within 2 s.
	b.goTo("#/tasks")
	b.waitText(`#available-tasks [data-slots-for="`+tk.ID+`"]`, "3 dari 3", 10*time.Second)
	start := time.Now()
	b.click(`#available-tasks [data-claim="` + tk.ID + `"]`)
	watcher.waitText(slots, "2 dari 3", 2*time.Second)
	t.Logf("the other page showed the claim %v after the click", time.Since(start))
	b.waitText("#my-tasks", "Pantau #pemilujujur", 10*time.Second)
	b.WaitJS("the lease countdown", `/\d:\d\d:\d\d/.test(document.querySelector('#my-tasks .lease')?.textContent || '')`, 5*time.Second)
	b.checkA11y("tasks")
	b.noHorizontalScroll("tasks")
	b.shot("tasks")

	// Extend, then release: the slot comes back on the other page.
	b.clickText("#my-tasks", "Perpanjang")
	b.WaitJS("extend answered", `!document.querySelector('#my-tasks [data-act-error]')`, 5*time.Second)
	b.clickText("#my-tasks", "Lepas")
	watcher.waitText(slots, "3 dari 3", 5*time.Second)
	b.waitText("#my-tasks", "belum memegang", 5*time.Second)

	// Claim again and complete it.
	b.click(`#available-tasks [data-claim="` + tk.ID + `"]`)
	b.waitText("#my-tasks", "Pantau #pemilujujur", 10*time.Second)
	watcher.waitText(slots, "2 dari 3", 5*time.Second)
	b.clickText("#my-tasks", "Selesaikan")
	b.Eval(`document.querySelector('#my-tasks form button[type=submit]').click()`)
	b.waitText("#my-tasks", "Selesai", 5*time.Second)

	// Tokens: the access token only in memory, never in storage or the
	// URL; a reload signs in again from this tab's refresh token.
	if !b.EvalBool(`Object.keys(sessionStorage).sort().join() === 'jarimu.me,jarimu.rt' &&
		![...Object.values(sessionStorage), ...Object.values(localStorage), location.href].some((v) => v.includes('eyJ'))`) {
		t.Errorf("storage holds more than the refresh token and /me: %s", b.Eval(`JSON.stringify({s: {...sessionStorage}, l: {...localStorage}})`))
	}
	b.Do("reload", chromedp.Reload())
	b.WaitJS("signed in after the reload", "!document.getElementById('logout').hidden && document.getElementById('net').dataset.state === 'open'", 10*time.Second)
	b.click("#logout")
	b.WaitJS("signed out", `document.getElementById('logout').hidden && !sessionStorage.getItem('jarimu.rt') && location.hash === '#/'`, 5*time.Second)

	// The device token from the signup outlives the logout, and the next
	// sign-in from this browser sends it: the server replaces it on the
	// same row instead of trusting one more device.
	var device string
	json.Unmarshal(b.Eval(`localStorage.getItem('jarimu.device') || ''`), &device)
	if len(device) != 43 {
		t.Fatalf("device token after logout: got %q, want the signup's kept in localStorage", device)
	}
	b.open("#/login")
	b.fill("#login-email", email)
	b.fill("#login-password", "awasi-pemilu-jujur-adil")
	b.click("#login-form button[type=submit]")
	b.WaitJS("signed in again", "!document.getElementById('logout').hidden", 15*time.Second)
	if b.EvalBool(`localStorage.getItem('jarimu.device') === ` + strconv.Quote(device)) {
		t.Error("the device token was not replaced by the login's")
	}
	n, err := e.App.DB.NewSelect().Table("device_tokens").Join("JOIN users AS u ON u.id = device_tokens.user_id").
		Where("u.email = ?", email).Count(context.Background())
	if err != nil || n != 1 {
		t.Errorf("device tokens of the volunteer after signup and login: got %d (%v), want 1 (the signup's, rotated)", n, err)
	}
}
