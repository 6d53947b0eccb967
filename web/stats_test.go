package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// statsReports files n reports of org (in 3171) by who over the last days,
// in turn of category and platform, and moves each to its day; every
// third is verified by officer and its takedown requested, every sixth
// taken down.
func statsReports(t *testing.T, f *fixture, who, officer api.AuthResponse, orgID string, n int) {
	t.Helper()
	categories := []string{"disinformation", "hate_speech", "money_politics", "disinformation", "black_campaign"}
	platforms := []string{"facebook", "x", "tiktok", "instagram"}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := range n {
		var r api.Report
		f.post(t, who, "/v1/reports", map[string]any{"url": fmt.Sprintf("https://example.com/unggahan/%d", i), "platform": platforms[i%len(platforms)],
			"category": categories[i%len(categories)], "summary": fmt.Sprintf("Unggahan %d menyebut surat suara sudah dicoblos.", i),
			"observed_at": time.Now().Add(-time.Hour).UTC(), "region_code": "3171", "org_id": orgID}, &r)
		if i%3 == 0 {
			f.post(t, officer, "/v1/reports/"+r.ID+"/verification", map[string]any{"decision": "verified", "note": "Sesuai bukti."}, nil)
			f.post(t, officer, "/v1/reports/"+r.ID+"/takedown", map[string]any{"status": "requested"}, nil)
			if i%6 == 0 {
				f.post(t, officer, "/v1/reports/"+r.ID+"/takedown", map[string]any{"status": "taken_down"}, nil)
			}
		}
		filed := today.AddDate(0, 0, -(i % 12)).Add(9 * time.Hour)
		ctx := context.Background()
		if _, err := f.e.App.DB.NewUpdate().Table("reports").Set("created_at = ?", filed).Where("id = ?", r.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.App.DB.NewUpdate().Table("takedowns").Set("at = ?", filed.Add(time.Duration(2+i)*time.Hour)).
			Where("report_id = ? AND status <> 'requested'", r.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.App.DB.NewUpdate().Table("takedowns").Set("at = ?", filed.Add(time.Hour)).
			Where("report_id = ? AND status = 'requested'", r.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// An officer of DKI Jakarta and a coordinator read the Statistik view on
// a 360 px phone: the charts are SVG with a title and description, their
// numbers match the API's, the period picker changes what is counted, and
// a volunteer is told the view is not theirs.
func TestBrowserStatistics(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	officer := e.User(t, "officer", "petugas-dki", "31")
	coord := e.User(t, "volunteer", "koordinator", "3171")
	member := e.User(t, "volunteer", "relawan", "3171")
	o := f.org(t, "Pemantau Jakarta", coord)
	f.join(t, member, o.ID, f.invite(t, coord, o.ID))
	statsReports(t, f, member, officer, o.ID, 24)
	var a api.Alert
	f.post(t, officer, "/v1/alerts", map[string]any{"title": "Hoaks surat suara tercoblos", "body": "Informasi ini tidak benar.", "severity": "warning", "region_code": "31"}, &a)

	b := newBrowser(t, e.URL, 360, 740)
	b.signIn(officer.User.Email)
	b.waitText("#nav", "Statistik", 5*time.Second)
	b.goTo("#/stats")
	b.waitText("#stats-provinces", "Daerah Khusus Ibukota Jakarta", 10*time.Second)
	var charts []struct{ Title, Desc string }
	json.Unmarshal(b.Eval(`[...document.querySelectorAll('main svg.chart')].map((s) => ({Title: s.querySelector('title').textContent, Desc: s.querySelector('desc').textContent}))`), &charts)
	if len(charts) != 4 {
		t.Fatalf("officer: got %d charts, want 4 (findings, funnel, takedowns, alerts): %+v", len(charts), charts)
	}
	for _, c := range charts {
		if c.Title == "" || c.Desc == "" {
			t.Errorf("a chart without a title or description: %+v", c)
		}
	}
	var funnel api.FunnelStats
	e.Do(t, "GET", "/v1/stats/funnel", nil, bearer(officer)...).Decode(t, &funnel)
	if funnel.Filed != 24 || funnel.Verified != 8 {
		t.Fatalf("funnel: got %+v, want 24 filed, 8 verified", funnel)
	}
	if want := fmt.Sprintf("Masuk: %d, Terkirim: %d", funnel.Filed, funnel.Submitted); !strings.Contains(charts[1].Desc, want) {
		t.Errorf("the funnel's description %q does not say %q", charts[1].Desc, want)
	}
	// The findings chart has a column per day of the default 30.
	if !strings.Contains(charts[0].Desc, "30 kelompok") {
		t.Errorf("findings description: %q", charts[0].Desc)
	}
	b.waitText("#stats-takedown-times", "jam", time.Second)
	b.checkA11y("statistics")
	b.noHorizontalScroll("statistics")
	b.shot("officer-stats")

	// The last 7 days count fewer findings; the address keeps the period.
	b.clickText("#stats-form", "7 hari")
	b.WaitJS("the 7-day period", `location.hash.includes('from=') && document.querySelector('#stats-scope') !== null && !!document.querySelector('#stats-provinces')`, 10*time.Second)
	var week api.ProvinceStats
	from := time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly)
	e.Do(t, "GET", "/v1/stats/provinces?from="+from, nil, bearer(officer)...).Decode(t, &week)
	if len(week.Items) != 1 || week.Items[0].Reports >= 24 {
		t.Fatalf("the last 7 days: got %+v", week.Items)
	}
	b.waitText("#stats-provinces td", fmt.Sprint(week.Items[0].Reports), 5*time.Second)
	// A period the server refuses is explained, not drawn.
	b.goTo("#/stats?from=2026-13-01")
	b.waitText("main .notice.error", "", 5*time.Second)

	// The coordinator sees their org's charts, without alert reach.
	c := newBrowser(t, e.URL, 360, 740)
	c.signIn(coord.User.Email)
	c.waitText("#nav", "Statistik", 5*time.Second)
	c.goTo("#/stats")
	c.waitText("#stats-scope", "Pemantau Jakarta", 10*time.Second)
	c.waitText("#stats-provinces", "Daerah Khusus Ibukota Jakarta", 10*time.Second)
	if n := string(c.Eval(`document.querySelectorAll('main svg.chart').length`)); n != "3" {
		t.Errorf("coordinator: got %s charts, want 3", n)
	}
	c.checkA11y("coordinator statistics")
	c.noHorizontalScroll("coordinator statistics")
	c.shot("coordinator-stats")
	// In English, the same charts with English names.
	c.click("#lang")
	c.waitText("main h1", "Statistics", 5*time.Second)
	c.waitText("main h2", "Verification funnel", 5*time.Second)
	c.waitText("main svg.chart desc", "Filed: ", 5*time.Second)
	c.noHorizontalScroll("coordinator statistics in English")

	// A volunteer who coordinates nothing is told the view is not theirs.
	v := newBrowser(t, e.URL, 360, 740)
	v.signIn(member.User.Email)
	v.goTo("#/stats")
	v.waitText("main .notice", "petugas Bawaslu dan koordinator", 5*time.Second)
}
