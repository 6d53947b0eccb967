package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// With JARIMU_ALLOWED_ORIGINS naming another site only, the console's own
// pages still get their live feed: an alert sent meanwhile arrives without
// a reload, and no refusal is logged.
func TestBrowserFeedWithOtherSitesAllowed(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) { o.AllowedOrigins = []string{"https://dashboard.kopel.or.id"} })
	f := newFixture(t, e)
	vol := e.User(t, "volunteer", "rina", "3171")
	officer := e.User(t, "officer", "petugas", "31")
	b := newBrowser(t, e.URL, 360, 740)
	b.signIn(vol.User.Email) // waits for the feed to be open
	f.post(t, officer, "/v1/alerts", map[string]any{"title": "Hoaks surat suara tercoblos", "body": "Video lama, bukan Pemilu 2029.",
		"severity": "warning", "region_code": "31"}, nil)
	b.waitText("#toasts", "Hoaks surat suara tercoblos", 10*time.Second)
	if strings.Contains(e.Logs.String(), "origin refused") {
		t.Fatalf("the console's own origin was refused:\n%s", e.Logs.String())
	}
}

// navRows measures the menu: how many rows its entries take (by their
// boxes' tops), and whether the last entry can be scrolled into view
// inside the viewport (it is left scrolled there).
func (b *browser) navRows(screen string) {
	b.T.Helper()
	var m struct {
		Tops     []float64
		Links    int
		NavH     float64
		LinkH    float64
		Reach    bool
		Hint     bool
		PageWide bool
	}
	json.Unmarshal(b.Eval(`(() => {
		const nav = document.getElementById('nav');
		const links = [...nav.querySelectorAll('a')];
		const tops = [...new Set(links.map((a) => Math.round(a.getBoundingClientRect().top)))];
		nav.scrollLeft = 0; nav.dispatchEvent(new Event('scroll'));
		const hint = nav.scrollWidth <= nav.clientWidth || nav.classList.contains('more-right');
		const last = links[links.length - 1];
		nav.scrollLeft = nav.scrollWidth;
		const r = last.getBoundingClientRect();
		const reach = r.left >= 0 && r.right <= window.innerWidth + 0.5;
		return {hint, tops, links: links.length, navH: nav.getBoundingClientRect().height, linkH: links[0].getBoundingClientRect().height,
			reach, pageWide: document.documentElement.scrollWidth > window.innerWidth};
	})()`), &m)
	if m.Links < 4 {
		b.T.Fatalf("%s: %d menu entries, want the full menu", screen, m.Links)
	}
	if len(m.Tops) != 1 {
		b.T.Errorf("%s: the %d menu entries take %d rows (tops %v), want 1", screen, m.Links, len(m.Tops), m.Tops)
	}
	if m.NavH > 1.6*m.LinkH {
		b.T.Errorf("%s: the menu is %.0f px high for entries of %.0f px, want one row", screen, m.NavH, m.LinkH)
	}
	if !m.Hint {
		b.T.Errorf("%s: entries are out of view and the menu's edge does not show it", screen)
	}
	if !m.Reach {
		b.T.Errorf("%s: the last menu entry cannot be scrolled into view", screen)
	}
	if m.PageWide {
		b.T.Errorf("%s: the menu makes the page wider than the viewport", screen)
	}
}

// noDuplicateHeadings fails when two headings of the screen say the same.
func (b *browser) noDuplicateHeadings(screen string) {
	b.T.Helper()
	var texts []string
	json.Unmarshal(b.Eval(`[...document.querySelectorAll('main h1, main h2')].filter((e) => e.offsetParent).map((e) => e.textContent.trim())`), &texts)
	seen := map[string]bool{}
	for _, s := range texts {
		if seen[s] {
			b.T.Errorf("%s: the heading %q shows twice (headings %q)", screen, s, texts)
		}
		seen[s] = true
	}
}

// At 412 px (and 360 px) the menu of each kind of user is one row, its
// last entry reachable by scrolling it; the current entry is in view.
func TestBrowserMenuIsOneRow(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	coord := e.User(t, "volunteer", "koordinator", "31")
	f.org(t, "Perludem Jakarta", coord)
	officer := e.User(t, "officer", "petugas", "31")
	for _, width := range []int{412, 360} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			b := newBrowser(t, e.URL, width, 800)
			b.open("#/")
			b.navRows("public")
			b.signIn(coord.User.Email)
			b.goTo("#/me")
			if !b.EvalBool(`(() => { const a = document.querySelector('#nav a[aria-current="page"]').getBoundingClientRect();
				return a.left >= 0 && a.right <= window.innerWidth + 0.5; })()`) {
				t.Error("the current entry (Akun, near the end) is not scrolled into view")
			}
			b.navRows("coordinator")
			if width == 412 {
				b.shot("menu-412")
			}
			o := newBrowser(t, e.URL, width, 800)
			o.signIn(officer.User.Email)
			o.navRows("officer")
		})
	}
}

// An unknown address shows a "not found" screen with a way home, in both
// languages, never the home page; "Laporan saya" is one heading only.
func TestBrowserUnknownRouteAndHeadings(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	vol := e.User(t, "volunteer", "rina", "3171")
	b := newBrowser(t, e.URL, 360, 740)
	b.open("#/nope")
	if got := b.Text("main h1"); got != "Halaman tidak ditemukan" {
		t.Fatalf("#/nope: heading %q, want Halaman tidak ditemukan", got)
	}
	if !strings.Contains(b.Text("#not-found"), "#/nope") {
		t.Errorf("the not-found screen does not name the address: %q", b.Text("#not-found"))
	}
	b.checkA11y("not found")
	b.shot("not-found")
	b.clickText("#not-found", "Kembali ke beranda")
	b.WaitJS("home", `location.hash === '#/' && !document.getElementById('not-found')`, 10*time.Second)
	b.click("#lang")
	b.goTo("#/also/not/here")
	b.waitText("main h1", "Page not found", 10*time.Second)
	b.click("#lang")
	b.waitText("main h1", "Halaman tidak ditemukan", 10*time.Second)

	b.signIn(vol.User.Email)
	for _, hash := range []string{"#/reports", "#/tasks", "#/report", "#/feed", "#/alerts", "#/orgs", "#/me", "#/notifications"} {
		b.goTo(hash)
		b.WaitJS("the screen "+hash+" to load", `!document.querySelector('main .loading')`, 10*time.Second)
		b.noDuplicateHeadings(hash)
	}
}
