package web_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// firstLoadBudget is the limit for the first page, transferred.
const firstLoadBudget = 200 << 10

// rawAssetBudget bounds every text asset together before compression: not
// a limit users feel (they get them gzipped, within firstLoadBudget), but a
// ceiling that keeps the console's growth in view. Raised from 200 KiB
// when the statistics and transparency views came (issue 19).
const rawAssetBudget = 256 << 10

// The first visit of a fresh browser transfers well under 200 KB; the
// public screens fit a 360 px phone, have labelled controls, switch to
// English and back, and start with a working skip link.
func TestBrowserFirstLoadAndPhone(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	coord := e.User(t, "volunteer", "koordinator", "")
	f.org(t, "Komite Independen Pemantau Pemilu", coord)

	b := newBrowser(t, e.URL, 360, 740)
	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	sizes := map[network.RequestID]float64{}
	ctx, cancel := context.WithCancel(b.Ctx)
	defer cancel()
	sent := chromedp.Events(ctx, network.RequestWillBeSent)
	done := chromedp.Events(ctx, network.LoadingFinished)
	go func() {
		for ev, err := range sent {
			if err != nil {
				return
			}
			mu.Lock()
			urls[ev.RequestID] = ev.Request.URL
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range done {
			if err != nil {
				return
			}
			mu.Lock()
			sizes[ev.RequestID] = ev.EncodedDataLength
			mu.Unlock()
		}
	}()
	b.open("")
	b.WaitJS("the alerts to load", "!!document.querySelector('#alert-list li')", 10*time.Second)
	time.Sleep(500 * time.Millisecond) // the last responses finish
	mu.Lock()
	var assets, apiBytes float64
	var lines []string
	for id, n := range sizes {
		u := strings.TrimPrefix(urls[id], e.URL)
		if strings.HasPrefix(u, "/v1/") {
			apiBytes += n
		} else {
			assets += n
		}
		lines = append(lines, u)
	}
	mu.Unlock()
	sort.Strings(lines)
	t.Logf("first load: %.0f bytes of app (index, scripts, styles, strings, icons, manifest) and %.0f bytes of API in %d requests: %v",
		assets, apiBytes, len(lines), lines)
	if assets+apiBytes > firstLoadBudget {
		t.Errorf("the first load transferred %.0f bytes, want under %d", assets+apiBytes, firstLoadBudget)
	}
	if assets == 0 {
		t.Error("no transfer was measured")
	}

	// Installable: Chromium finds nothing missing in the manifest and the
	// service worker.
	b.WaitJS("the service worker", "!!navigator.serviceWorker.controller", 10*time.Second)
	inst, err := chromedp.Call(b.Ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ie := range inst.InstallabilityErrors {
		t.Errorf("not installable: %s", ie.ErrorID)
	}

	// Keyboard: the first Tab reaches the skip link, which moves focus to
	// the content.
	b.Do("tab", chromedp.KeyEvent(kb.Tab))
	if !b.EvalBool(`document.activeElement.id === 'skip'`) {
		t.Errorf("the first Tab focused %s, want the skip link", b.Eval(`document.activeElement.outerHTML.slice(0, 80)`))
	}

	for _, screen := range []string{"", "#/orgs", "#/alerts", "#/login", "#/signup"} {
		b.open(screen)
		b.WaitJS("the screen to settle", "!document.querySelector('.loading')", 5*time.Second)
		b.checkA11y("screen " + screen)
		b.noHorizontalScroll("screen " + screen)
	}
	b.open("#/orgs")
	b.waitText("#org-list", "Komite Independen", 5*time.Second)
	b.shot("public-registry")
	b.open("")
	b.shot("public-home")

	// English and back: every string comes from the language files.
	b.click("#lang")
	b.waitText("main h1", "Watch the election together", 5*time.Second)
	if !b.EvalBool(`document.documentElement.lang === 'en' && document.getElementById('lang').textContent === 'ID'`) {
		t.Error("the page did not switch to English")
	}
	b.shot("public-home-en")
	b.click("#lang")
	b.waitText("main h1", "Awasi pemilu bersama", 5*time.Second)
}
