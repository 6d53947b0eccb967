package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// The public transparency page draws its charts as SVG from the open data,
// with what was recorded: three takedown requests (one taken down, one
// refused, one pending), three verified findings and an alert; it fits a
// 360 px phone, asks no other site for anything, lists the fact checks,
// links the downloads, and switches to English.
func TestBrowserTransparencyPage(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	off := e.User(t, "officer", "pusat", "")
	vol := e.User(t, "volunteer", "relawan", "31")
	var reps []api.Report
	for i, steps := range [][]string{{"requested", "taken_down"}, {"requested", "refused"}, {"requested"}} {
		rep := f.report(t, vol, "", fmt.Sprintf("https://www.facebook.com/akun/posts/%d", 100+i), fmt.Sprintf("Klaim palsu #%d: TPS dipindah tanpa pengumuman resmi.", i))
		f.post(t, off, "/v1/reports/"+rep.ID+"/verification", map[string]any{"decision": "verified"}, nil)
		for _, s := range steps {
			f.post(t, off, "/v1/reports/"+rep.ID+"/takedown", map[string]any{"status": s}, nil)
		}
		reps = append(reps, rep)
	}
	f.post(t, off, "/v1/alerts", map[string]any{"title": "Hoaks pemindahan TPS", "body": "Tidak benar.", "severity": "critical", "region_code": "31"}, nil)

	b := newBrowser(t, e.URL, 360, 740)
	b.open("")
	b.WaitJS("the home page", "!!document.querySelector('a[href=\"#/transparency\"]')", 10*time.Second)
	b.click(`main a[href="#/transparency"]`)
	b.waitText("main h1", "Laporan Transparansi", 5*time.Second)
	b.WaitJS("the charts", "document.querySelectorAll('main svg.chart').length === 5", 10*time.Second)

	// The charts hold the numbers recorded, in their bars, their totals,
	// their descriptions and their tables: one month row of 1 + 1 + 1
	// takedown requests, one platform row the same, 3 verified findings in
	// one category and one province, one critical alert.
	var charts []struct {
		Label string   `json:"label"`
		Desc  string   `json:"desc"`
		Nums  []string `json:"nums"`
		Table string   `json:"table"`
		Bars  []string `json:"bars"`
	}
	json.Unmarshal(b.Eval(`[...document.querySelectorAll('main svg.chart')].map((s) => ({
		label: s.querySelector('title').textContent,
		desc: s.querySelector('desc').textContent,
		nums: [...s.querySelectorAll('.total')].map((x) => x.textContent),
		table: s.closest('figure').querySelector('table').textContent,
		bars: [...s.querySelectorAll('rect title')].map((x) => x.textContent)}))`), &charts)
	want := []struct {
		label string
		nums  []string
		bars  []string
	}{
		{"Permintaan takedown per bulan", []string{"3"}, []string{"Diturunkan: 1", "Ditolak platform: 1", "Masih menunggu: 1"}},
		{"Permintaan takedown per platform", []string{"3"}, []string{"Facebook · Diturunkan: 1", "Facebook · Ditolak platform: 1", "Facebook · Masih menunggu: 1"}},
		{"Temuan terverifikasi per kategori", []string{"3"}, []string{"Disinformasi / hoaks · Terverifikasi: 3"}},
		{"Temuan terverifikasi per provinsi", []string{"3"}, []string{"Daerah Khusus Ibukota Jakarta · Terverifikasi: 3"}},
		{"Peringatan per bulan dan tingkat", []string{"1"}, []string{"Kritis: 1"}},
	}
	if len(charts) != len(want) {
		t.Fatalf("%d charts, want %d: %+v", len(charts), len(want), charts)
	}
	for i, w := range want {
		c := charts[i]
		if c.Label != w.label || strings.Join(c.Nums, ",") != strings.Join(w.nums, ",") || len(c.Bars) != len(w.bars) ||
			!strings.Contains(c.Desc, ": "+w.nums[0]) || !strings.Contains(c.Table, w.nums[0]) {
			t.Errorf("chart %d: %+v, want %+v", i, c, w)
			continue
		}
		for j, bar := range w.bars {
			if !strings.HasSuffix(c.Bars[j], bar) {
				t.Errorf("chart %q bar %d: %q, want it to end %q", c.Label, j, c.Bars[j], bar)
			}
			// The description names each series of a row with its count.
			part := bar
			if k := strings.LastIndex(bar, " · "); k >= 0 {
				part = bar[k+len(" · "):]
			}
			if len(w.bars) > 1 && !strings.Contains(c.Desc, part) {
				t.Errorf("chart %q: its description %q does not say %q", c.Label, c.Desc, bar)
			}
		}
	}
	if got := b.Eval(`document.querySelector('#tr-takedowns tbody tr').textContent`); !strings.Contains(string(got), "Facebook") {
		t.Errorf("takedown table's first row: %s", got)
	}
	if n := b.Eval(`document.querySelectorAll('main .cards li').length`); string(n) != "3" {
		t.Errorf("%s fact checks listed, want 3", n)
	}
	for _, href := range []string{"/v1/open/takedowns.csv", "/v1/open/verified.json", "/v1/open/alerts-issued.csv", "/v1/open/claimreviews.json", "/v1/open"} {
		if !b.EvalBool(fmt.Sprintf(`!!document.querySelector('main a[href=%q]')`, href)) {
			t.Errorf("no download link to %s", href)
		}
	}
	if !b.EvalBool(`performance.getEntriesByType('resource').every((r) => new URL(r.name).origin === location.origin)`) {
		t.Errorf("the page asked another site: %s", b.Eval(`performance.getEntriesByType('resource').map((r) => r.name)`))
	}
	b.checkA11y("transparency")
	b.noHorizontalScroll("transparency")
	b.Eval(`window.scrollTo(0, 0)`)
	b.shot("public-transparency")

	// A ClaimReview's url opens the page with its finding first and marked.
	b.open("#/transparency?claim=" + reps[2].ID)
	b.WaitJS("the marked finding", fmt.Sprintf("!!document.querySelector('#claim-%s.shown')", reps[2].ID), 10*time.Second)
	if !b.EvalBool(fmt.Sprintf(`document.querySelector('main .cards li').id === 'claim-%s'`, reps[2].ID)) {
		t.Error("the finding of the address is not listed first")
	}

	b.click("#lang")
	b.waitText("main h1", "Transparency Report", 5*time.Second)
	b.WaitJS("the charts in English", "document.querySelector('main svg.chart title').textContent === 'Takedown requests per month'", 10*time.Second)
	b.noHorizontalScroll("transparency in English")
	b.click("#lang")
}
