package drills_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
)

// console is the web console in a headless Chromium with a fresh profile,
// driven as web's browser tests drive it (web/browser_test.go), reduced to
// what the drills need.
type console struct {
	t    testing.TB
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP violations
}

// chromiumPath finds Chromium; without one the drill is skipped, except in
// CI, where it must run (CI installs chromium).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium (apt-get install -y chromium)")
	return ""
}

// newConsole starts Chromium with a phone-sized window on base.
func newConsole(t testing.TB, base string) *console {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("lang", "id-ID"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(360, 740),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	c := &console{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			text := m.String()
			if m.IsException() || strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Trusted Type") {
				c.mu.Lock()
				c.problems = append(c.problems, text)
				c.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return c
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
