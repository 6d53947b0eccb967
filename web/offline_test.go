package web_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// a 1×1 PNG, as evidence.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// A report written with the network cut stays on the device (even across a
// reload), is shown as waiting, and is delivered exactly once when the
// network returns, although the answer to the first attempt is lost on
// the way back. The feed catches up with what happened meanwhile.
func TestBrowserOfflineReportDeliveredOnce(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	coord := e.User(t, "volunteer", "koordinator", "31")
	o := f.org(t, "KOPEL Indonesia", coord)
	vol := e.User(t, "volunteer", "dewi", "3171")
	f.join(t, vol, o.ID, f.invite(t, coord, o.ID))
	officer := e.User(t, "officer", "petugas-dki", "31")

	b := newBrowser(t, e.URL, 360, 740)
	b.signIn(vol.User.Email)
	b.goTo("#/report")
	b.WaitJS("the service worker to control the page", "!!navigator.serviceWorker.controller", 10*time.Second)
	b.checkA11y("report form")

	b.offline(true)
	b.WaitJS("the offline banner", "document.getElementById('net').dataset.state === 'offline' && !document.getElementById('net').hidden", 5*time.Second)
	b.fill("#report-url", "https://www.facebook.com/share/v/hoaks-tps-31")
	b.setValue("#report-category", "money_politics")
	b.fill("#report-summary", "Unggahan ini menawarkan uang Rp100.000 bagi pemilih yang memotret surat suaranya.")
	// The region picker cannot search offline: it says so, and the report
	// keeps the volunteer's own region.
	b.fill("#report-form input[name=region-q]", "Tebet")
	b.waitText("#report-form .region-results", "perlu koneksi", 5*time.Second)
	png, _ := base64.StdEncoding.DecodeString(tinyPNG)
	file := filepath.Join(t.TempDir(), "bukti.png")
	os.WriteFile(file, png, 0o644)
	b.Do("attach evidence", chromedp.SetUploadFiles(chromedp.CSS("#report-files"), []string{file}))
	b.shot("report-offline")
	b.click("#report-submit")
	b.WaitJS("the waiting report", `location.hash === '#/reports' && document.querySelectorAll('#outbox-list [data-outbox][data-state="waiting"]').length === 1`, 10*time.Second)
	b.waitText("#outbox-list", "Rp100.000", time.Second)

	// It stays on the device across a reload without network (the app
	// shell comes from the service worker).
	b.Do("reload offline", chromedp.Reload())
	b.WaitJS("the waiting report after the reload", `document.querySelectorAll('#outbox-list [data-outbox]').length === 1`, 10*time.Second)
	b.shot("report-waiting")
	if n := e.Count(t, "reports"); n != 0 {
		t.Fatalf("got %d reports on the server while offline, want 0", n)
	}

	// Meanwhile an officer broadcasts: the feed catches up on return.
	f.post(t, officer, "/v1/alerts", map[string]any{"title": "Waspada politik uang di Jakarta", "body": "Laporkan setiap tawaran uang.",
		"severity": "warning", "region_code": "31"}, nil)

	// The first answer is lost on its way back: the server has made the
	// report, the page sees a network error and retries with the same key.
	var posts atomic.Int32
	paused := chromedp.Events(b.Ctx, fetch.RequestPaused)
	ctx, cancel := context.WithCancel(b.Ctx)
	defer cancel()
	go func() {
		for ev, err := range paused {
			if err != nil || ctx.Err() != nil {
				return
			}
			if ev.Request.Method == "POST" && posts.Add(1) == 1 {
				chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
				continue
			}
			chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	if _, err := chromedp.Call(b.Ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/v1/reports", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		t.Fatal(err)
	}

	b.offline(false)
	b.WaitJS("the report to leave the outbox", `document.querySelectorAll('#outbox-list [data-outbox]').length === 0`, 20*time.Second)
	b.waitText("#my-reports", "Rp100.000", 5*time.Second)
	b.waitText("#toasts", "Waspada politik uang", 5*time.Second)
	if got := posts.Load(); got < 2 {
		t.Errorf("the report was posted %d times, want a retry after the lost answer", got)
	}
	if n := e.Count(t, "reports"); n != 1 {
		t.Errorf("got %d reports on the server, want exactly 1", n)
	}
	var page struct {
		Items []struct {
			Summary    string `json:"summary"`
			RegionCode string `json:"region_code"`
			Evidence   []any  `json:"evidence"`
		} `json:"items"`
	}
	e.Do(t, "GET", "/v1/reports", nil, bearer(vol)...).Decode(t, &page)
	if len(page.Items) != 1 || len(page.Items[0].Evidence) != 1 || page.Items[0].RegionCode != "3171" {
		t.Errorf("got %+v, want one report of region 3171 with one evidence file", page.Items)
	}
	// The evidence shows (fetched with the token, drawn from a blob: URL).
	b.clickText("#my-reports", "Lihat bukti")
	b.WaitJS("the evidence image", `document.querySelector('#my-reports img.proof')?.naturalWidth === 1`, 5*time.Second)
	b.shot("my-reports")
}

// A report the server refuses (422) stays on the device as failed, with
// the reason and a Discard button; a second report arriving meanwhile does
// not redraw the first's card, and Discard removes only the failed one.
func TestBrowserRefusedReportDiscarded(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	vol := e.User(t, "volunteer", "sinta", "3171")
	b := newBrowser(t, e.URL, 360, 740)
	b.signIn(vol.User.Email)
	b.goTo("#/reports")
	// Through the console's own outbox, as the form enqueues: a body the
	// server refuses (no URL), then nothing else.
	b.Eval(`(async () => {
		const m = await import('/app/js/outbox.js');
		await m.enqueue({ platform: 'facebook', category: 'disinformation', summary: 'Laporan tanpa tautan yang ditolak server.', observed_at: new Date().toISOString() }, []);
	})(); 0`)
	card := `#outbox-list [data-outbox][data-state="failed"]`
	b.WaitJS("the refused report", `!!document.querySelector('`+card+`')`, 15*time.Second)
	if txt := b.Text(card); !strings.Contains(txt, "Laporan tanpa tautan") || !strings.Contains(txt, "url") {
		t.Fatalf("the failed card: %q, want the summary and the reason naming url", txt)
	}
	b.Eval(`window.__failedCard = document.querySelector('` + card + `'); 0`)
	// A second report, sent at once: the outbox changes (queued, sending,
	// sent) while the failed card stays the same element.
	b.Eval(`(async () => {
		const m = await import('/app/js/outbox.js');
		await m.enqueue({ url: 'https://x.com/akun/status/1', platform: 'x', category: 'disinformation', summary: 'Unggahan kedua yang diterima server.', observed_at: new Date().toISOString() }, []);
	})(); 0`)
	b.waitText("#my-reports", "Unggahan kedua", 15*time.Second)
	if !b.EvalBool(`window.__failedCard === document.querySelector('` + card + `') && window.__failedCard.isConnected`) {
		t.Fatal("the failed report's card was drawn anew while another report was sent")
	}
	b.clickText(card, "Buang")
	b.WaitJS("the outbox empty", `document.querySelectorAll('#outbox-list [data-outbox]').length === 0 && document.getElementById('outbox-list').closest('section').hidden`, 10*time.Second)
}
