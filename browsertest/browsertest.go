// Package browsertest starts headless Chromium for tests that drive the web
// console (the web package's browser tests, the drills): Debian's chromium
// with a fresh profile, the flags this machine's closed network needs, and
// a watch on the page's console that fails the test on an uncaught
// exception or a Content-Security-Policy or Trusted Types violation.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds Chromium (or another Chrome). Without one the test is skipped
// on a developer's machine and fails in CI (CI=true), where .ci/run
// installs it; with -short browser tests are skipped.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// Start starts Chromium with one tab whose window and viewport are width
// by height (a phone is 360 wide), stopped at cleanup, and returns the
// tab's context.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(t)),
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
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("lang", "id-ID"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	watchConsole(t, ctx)
	return ctx
}

// watchConsole fails t at cleanup for each uncaught exception and each
// CSP or Trusted Types violation the page logged.
func watchConsole(t testing.TB, ctx context.Context) {
	var mu sync.Mutex
	var problems []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			text := m.String()
			if m.IsException() || strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Trusted Type") {
				mu.Lock()
				problems = append(problems, text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	})
}

// Page is one tab of a started Chromium on the server at Base, with the
// calls every browser test makes; each fails T on error.
type Page struct {
	T    testing.TB
	Ctx  context.Context
	Base string
}

// New starts Chromium (see Start) on the server at base.
func New(t testing.TB, base string, width, height int) *Page {
	t.Helper()
	return &Page{T: t, Ctx: Start(t, width, height), Base: base}
}

// Do runs actions within 20 s; on error it fails with the page's text.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.T.Fatalf("%s: %v\npage: %s", what, err, p.Text("body"))
	}
}

// Eval runs JavaScript within 20 s and returns its JSON result.
func (p *Page) Eval(js string) json.RawMessage {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		p.T.Fatalf("eval %s: %v", js, err)
	}
	return raw
}

// EvalBool runs JavaScript whose result is a boolean.
func (p *Page) EvalBool(js string) bool {
	var v bool
	json.Unmarshal(p.Eval(js), &v)
	return v
}

// Text is the element sel's innerText ("" when there is none); it never
// fails the test, so failure messages can show it.
func (p *Page) Text(sel string) string {
	ctx, cancel := context.WithTimeout(p.Ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ''`, sel)))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// WaitJS polls a JavaScript condition until it holds or limit passes; it
// returns how long it took.
func (p *Page) WaitJS(what, cond string, limit time.Duration) time.Duration {
	p.T.Helper()
	start := time.Now()
	for {
		if p.EvalBool(fmt.Sprintf("(() => { try { return !!(%s); } catch { return false; } })()", cond)) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			p.T.Fatalf("waited %v for %s\npage: %s", limit, what, p.Text("body"))
		}
		time.Sleep(25 * time.Millisecond)
	}
}
