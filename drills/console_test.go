package drills_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/browsertest"
)

// console is the web console in a headless Chromium with a fresh profile,
// driven as web's browser tests drive it (web/browser_test.go), reduced to
// what the drills need.
type console struct {
	t    testing.TB
	ctx  context.Context
	base string
}

// newConsole starts Chromium with a phone-sized window on base.
func newConsole(t testing.TB, base string) *console {
	t.Helper()
	return &console{t: t, ctx: browsertest.Start(t, 360, 740), base: base}
}

// do runs actions within 20 s, failing the test on error.
func (c *console) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("console: %s: %v", what, err)
	}
}

// eval runs JavaScript and returns its JSON result.
func (c *console) eval(js string) json.RawMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		c.t.Fatalf("console: eval %s: %v", js, err)
	}
	return raw
}

func (c *console) evalBool(js string) bool {
	var v bool
	json.Unmarshal(c.eval(js), &v)
	return v
}

// text is the text of the element sel ("" when there is none).
func (c *console) text(sel string) string {
	var s string
	json.Unmarshal(c.eval(fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ''`, sel)), &s)
	return s
}

// waitJS polls a JavaScript condition until it holds or limit passes; it
// returns how long it took.
func (c *console) waitJS(what, cond string, limit time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	for {
		if c.evalBool(fmt.Sprintf("(() => { try { return !!(%s); } catch { return false; } })()", cond)) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			c.t.Fatalf("console: waited %v for %s\npage: %s", limit, what, c.text("body"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signIn signs in through the form and waits for the live feed.
func (c *console) signIn(email string) {
	c.t.Helper()
	c.do("open the login page", chromedp.Navigate(c.base+"/#/login"), chromedp.WaitVisible(chromedp.CSS("#login-email")))
	c.do("fill the form", chromedp.SendKeys(chromedp.CSS("#login-email"), email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), apptest.Password),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]"), chromedp.NodeVisible))
	c.waitJS("signed in", "!document.getElementById('logout').hidden", 15*time.Second)
	c.waitJS("the feed to connect", "document.getElementById('net').dataset.state === 'open'", 15*time.Second)
}
