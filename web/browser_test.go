package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/browsertest"
)

// browser is one headless Chromium with a fresh profile, one tab.
type browser struct{ *browsertest.Page }

// newBrowser starts Chromium; width and height are the window's (a phone
// is 360 wide).
func newBrowser(t *testing.T, base string, width, height int) *browser {
	t.Helper()
	return &browser{browsertest.New(t, base, width, height)}
}

func (b *browser) open(hash string) {
	b.T.Helper()
	b.Do("open "+hash, chromedp.Navigate(b.Base+"/"+hash), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// go changes the route inside the app (no reload).
func (b *browser) goTo(hash string) {
	b.T.Helper()
	b.Eval(fmt.Sprintf("location.hash = %q", hash))
	b.WaitJS("the route "+hash, fmt.Sprintf("location.hash === %q && !!document.querySelector('main h1')", hash), 10*time.Second)
}

// click clicks the element sel as a mouse does. A list the feed redraws
// can replace the element between the query and the click ("Could not
// find node with given id", before any mouse event is sent): the click then
// goes to the element now there, as a person's would.
func (b *browser) click(sel string) {
	b.T.Helper()
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
		cancel()
		if err == nil {
			return
		}
		if try == 5 || !strings.Contains(err.Error(), "Could not find node") {
			b.T.Fatalf("click %s: %v\npage: %s", sel, err, b.Text("body"))
		}
	}
}

func (b *browser) fill(sel, value string) {
	b.T.Helper()
	b.Do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	b.Eval(fmt.Sprintf(`document.querySelector(%q).value = ''`, sel))
	b.Do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// pickRegion searches the region picker of form for query and chooses the
// region code from the list it shows.
func (b *browser) pickRegion(form, query, code string) {
	b.T.Helper()
	b.fill(form+" input[name=region-q]", query)
	btn := fmt.Sprintf(`%s .region-results button[data-code="%s"]`, form, code)
	b.WaitJS("region "+code+" in the list", fmt.Sprintf(`!!document.querySelector(%q)`, btn), 5*time.Second)
	b.click(btn)
}

// setValue sets a field (select, date) and fires change.
func (b *browser) setValue(sel, value string) {
	b.T.Helper()
	b.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, value))
}

// waitText waits until the element sel's text contains want.
func (b *browser) waitText(sel, want string, limit time.Duration) time.Duration {
	b.T.Helper()
	return b.WaitJS(fmt.Sprintf("%s to show %q", sel, want),
		fmt.Sprintf("[...document.querySelectorAll(%q)].some((e) => e.textContent.includes(%q))", sel, want), limit)
}

// clickText clicks the button or link inside scope whose text is text.
func (b *browser) clickText(scope, text string) {
	b.T.Helper()
	b.WaitJS("a control "+text, fmt.Sprintf(`[...document.querySelectorAll(%q)].some((e) => e.textContent.trim() === %q && e.offsetParent)`, scope+" button, "+scope+" a, "+scope+" summary", text), 10*time.Second)
	b.Eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].find((e) => e.textContent.trim() === %q && e.offsetParent).click()`, scope+" button, "+scope+" a, "+scope+" summary", text))
}

// shot saves a screenshot to docs/screenshots/<name>.png when
// JARIMU_SCREENSHOTS is set (to that folder); it always takes one, so the
// path is exercised.
func (b *browser) shot(name string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	b.Eval(`document.getElementById('toasts').replaceChildren()`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Fatalf("screenshot %s: %v", name, err)
	}
	if dir := os.Getenv("JARIMU_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
}

// offline cuts (or restores) the tab's network, as DevTools' "Offline"
// does: requests fail and navigator.onLine follows.
func (b *browser) offline(off bool) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		b.T.Fatalf("network conditions: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: off, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		b.T.Fatalf("network state: %v", err)
	}
}

// signIn signs in through the form.
func (b *browser) signIn(email string) {
	b.T.Helper()
	b.open("#/login")
	b.fill("#login-email", email)
	b.fill("#login-password", apptest.Password)
	b.click("#login-form button[type=submit]")
	b.WaitJS("signed in", "!document.getElementById('logout').hidden", 15*time.Second)
	b.WaitJS("the feed to connect", "document.getElementById('net').dataset.state === 'open'", 15*time.Second)
}

// checkA11y fails on form controls without a label and buttons or links
// without text on the current screen.
func (b *browser) checkA11y(screen string) {
	b.T.Helper()
	var bad []string
	json.Unmarshal(b.Eval(`(() => {
		const out = [];
		for (const e of document.querySelectorAll('input, select, textarea')) {
			if (e.type === 'hidden') continue;
			if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')) out.push(e.outerHTML.slice(0, 120));
		}
		for (const e of document.querySelectorAll('button, a')) {
			if (!e.textContent.trim() && !e.getAttribute('aria-label') && !e.querySelector('img[alt]:not([alt=""])')) out.push(e.outerHTML.slice(0, 120));
		}
		return out;
	})()`), &bad)
	for _, x := range bad {
		b.T.Errorf("%s: no accessible name: %s", screen, x)
	}
}

// noHorizontalScroll fails when the page is wider than the viewport.
func (b *browser) noHorizontalScroll(screen string) {
	b.T.Helper()
	var dims [2]int
	json.Unmarshal(b.Eval(`[document.documentElement.scrollWidth, window.innerWidth]`), &dims)
	if dims[0] > dims[1] {
		b.T.Errorf("%s: the page is %d px wide in a %d px viewport", screen, dims[0], dims[1])
	}
}

// --- fixtures made through the API ---------------------------------------

type fixture struct {
	e     *apptest.Env
	admin api.AuthResponse
}

func newFixture(t *testing.T, e *apptest.Env) *fixture {
	return &fixture{e: e, admin: e.User(t, "admin", "admin", "")}
}

func bearer(a api.AuthResponse) []string { return apptest.Bearer(a.Tokens.AccessToken) }

// post sends a JSON POST and decodes a 2xx answer into out.
func (f *fixture) post(t *testing.T, who api.AuthResponse, path string, body, out any) {
	t.Helper()
	r := f.e.Do(t, "POST", path, body, bearer(who)...)
	if r.Status/100 != 2 {
		t.Fatalf("POST %s: %d %s", path, r.Status, bytes.TrimSpace(r.Body))
	}
	if out != nil {
		r.Decode(t, out)
	}
}

// org registers an accredited org whose first coordinator is coord.
func (f *fixture) org(t *testing.T, name string, coord api.AuthResponse) api.Org {
	t.Helper()
	var o api.Org
	f.post(t, f.admin, "/v1/orgs", map[string]any{"name": name, "accreditation_number": "SK-" + name + "-" + coord.User.ID[24:],
		"accredited_until": time.Now().AddDate(1, 0, 0).UTC(), "coordinator_email": coord.User.Email}, &o)
	return o
}

func (f *fixture) invite(t *testing.T, coord api.AuthResponse, orgID string) string {
	t.Helper()
	var inv api.Invite
	f.post(t, coord, "/v1/orgs/"+orgID+"/invites", map[string]any{"max_uses": 20, "expires_at": time.Now().Add(24 * time.Hour).UTC()}, &inv)
	return inv.Code
}

func (f *fixture) join(t *testing.T, who api.AuthResponse, orgID, code string) {
	t.Helper()
	body := map[string]any{}
	if code != "" {
		body["invite_code"] = code
	}
	f.post(t, who, "/v1/orgs/"+orgID+"/memberships", body, nil)
}

func (f *fixture) task(t *testing.T, coord api.AuthResponse, orgID, title string, slots int) api.Task {
	t.Helper()
	var tk api.Task
	f.post(t, coord, "/v1/tasks", map[string]any{"org_id": orgID, "title": title, "kind": "social_media", "platform": "tiktok",
		"target": "#pemilujujur", "slots": slots, "description": "Pantau tagar ini dan laporkan konten yang melanggar."}, &tk)
	return tk
}

func (f *fixture) report(t *testing.T, who api.AuthResponse, orgID, url, summary string) api.Report {
	t.Helper()
	var r api.Report
	body := map[string]any{"url": url, "platform": "facebook", "category": "disinformation", "summary": summary,
		"observed_at": time.Now().Add(-time.Hour).UTC(), "region_code": "3171"}
	if orgID != "" {
		body["org_id"] = orgID
	}
	f.post(t, who, "/v1/reports", body, &r)
	return r
}
