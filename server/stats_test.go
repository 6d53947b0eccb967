package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// statsSeed is one report of the statistics tests: who files it, where,
// what, the day it was filed (days before today), the workflow it walks
// and, for takedowns, the hours from filing to request and from request to
// its end.
type statsSeed struct {
	org             string // "A", "B" or "" (national, by the unaffiliated volunteer)
	category        string
	platform        string
	daysAgo         int
	path            []string
	requestH, doneH int
}

// statsSeeds are the reports the counts below were made from by hand.
var statsSeeds = []statsSeed{
	{org: "A", category: "disinformation", platform: "x", daysAgo: 2},
	{org: "A", category: "disinformation", platform: "x", daysAgo: 2, path: []string{"review endorse"}},
	{org: "A", category: "hate_speech", platform: "facebook", daysAgo: 1, requestH: 1, doneH: 5,
		path: []string{"review endorse", "verification verified", "takedown requested", "takedown taken_down"}},
	{org: "A", category: "disinformation", platform: "x", daysAgo: 1, requestH: 2, doneH: 10,
		path: []string{"verification verified", "takedown requested", "takedown taken_down"}},
	{org: "A", category: "disinformation", platform: "x", daysAgo: 1, requestH: 1, doneH: 30,
		path: []string{"verification verified", "takedown requested", "takedown taken_down"}},
	{org: "A", category: "disinformation", platform: "x", daysAgo: 0, requestH: 0,
		path: []string{"verification verified", "takedown requested"}},
	{org: "A", category: "sara", platform: "x", daysAgo: 0, path: []string{"review reject"}},
	{org: "A", category: "disinformation", platform: "x", daysAgo: 0, path: []string{"verification duplicate"}},
	{org: "A", category: "disinformation", platform: "tiktok", daysAgo: 40, path: []string{"verification verified"}},
	{org: "B", category: "money_politics", platform: "facebook", daysAgo: 1, requestH: 3, doneH: 4,
		path: []string{"verification verified", "takedown requested", "takedown refused"}},
	{org: "B", category: "disinformation", platform: "x", daysAgo: 1},
	{org: "", category: "other", platform: "web", daysAgo: 0},
}

// statsWorld is the report world with the seeds filed and dated, and a
// member of org B (Kota Bandung, 3273).
type statsWorld struct {
	*reportWorld
	today   time.Time
	reportB api.AuthResponse
}

func newStatsWorld(t *testing.T, e *apptest.Env) *statsWorld {
	t.Helper()
	w := &statsWorld{reportWorld: newReportWorld(t, e, ""), today: time.Now().UTC().Truncate(24 * time.Hour)}
	var err error
	if w.reportB, err = newMember(e, w.orgB.ID, invite(t, e, tok(w.coordB), w.orgB, 5).Code, "3273"); err != nil {
		t.Fatal(err)
	}
	// The world's first report (org A, 3171, disinformation on x) is filed
	// today and stays submitted: it is counted with the seeds.
	w.setTime(t, "reports", "created_at", "id = ?", w.original.ID, w.today.Add(6*time.Hour))
	for i, s := range statsSeeds {
		w.file(t, i, s)
	}
	return w
}

// file submits seed s, walks its path and dates it: filed at 08:00 of its
// day (plus i minutes, to keep them apart), its takedown requested and
// ended the seed's hours later.
func (w *statsWorld) file(t *testing.T, i int, s statsSeed) {
	t.Helper()
	reporter, officer, coord, orgID, code := w.reporter, w.off31, w.coordA, w.orgA.ID, "3171"
	switch s.org {
	case "B":
		reporter, officer, coord, orgID, code = w.reportB, w.off32, w.coordB, w.orgB.ID, "3273"
	case "":
		reporter, officer, orgID, code = w.vol, w.offNat, "", ""
	}
	body := reportBody(orgID, code, "")
	body["category"], body["platform"] = s.category, s.platform
	rep := submitReport(t, w.e, tok(reporter), body)
	for _, name := range s.path {
		a := actionNamed(name)
		token := tok(officer)
		if a.kind == "review" {
			token = tok(coord)
		}
		must(t, "seed: "+name, a.do(t, w.e, token, rep.ID, w.original.ID), http.StatusOK, "")
	}
	filed := w.today.AddDate(0, 0, -s.daysAgo).Add(8*time.Hour + time.Duration(i)*time.Minute)
	w.setTime(t, "reports", "created_at", "id = ?", rep.ID, filed)
	requested := filed.Add(time.Duration(s.requestH) * time.Hour)
	w.setTime(t, "takedowns", "at", "report_id = ? AND status = 'requested'", rep.ID, requested)
	w.setTime(t, "takedowns", "at", "report_id = ? AND status <> 'requested'", rep.ID, requested.Add(time.Duration(s.doneH)*time.Hour))
}

// setTime moves a time column of the rows where says, as if they had been
// written then.
func (w *statsWorld) setTime(t *testing.T, table, column, where, id string, at time.Time) {
	t.Helper()
	_, err := w.e.App.DB.NewUpdate().Table(table).Set("? = ?", bun.Ident(column), at).Where(where, id).Exec(context.Background())
	if err != nil {
		t.Fatalf("date %s.%s: %v", table, column, err)
	}
}

func (w *statsWorld) day(daysAgo int) string {
	return w.today.AddDate(0, 0, -daysAgo).Format(time.DateOnly)
}

// getStats reads an aggregate as token and decodes it into out, failing
// unless it is 200.
func getStats(t *testing.T, e *apptest.Env, token, path string, q url.Values, out any) {
	t.Helper()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := call(t, e, token, "GET", path, nil)
	must(t, path, r, http.StatusOK, "")
	r.Decode(t, out)
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	x, _ := json.Marshal(want)
	var gv, xv any
	json.Unmarshal(g, &gv)
	json.Unmarshal(x, &xv)
	if !reflect.DeepEqual(gv, xv) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, x)
	}
}

func hours(h float64) *float64 { return &h }

func fd(day, category string, n int) api.FindingDay {
	return api.FindingDay{Day: day, Category: category, Reports: n}
}

func ps(code, name string, reports, verified int) api.ProvinceStat {
	return api.ProvinceStat{ProvinceCode: code, ProvinceName: name, Reports: reports, Verified: verified}
}

func TestStatsCounts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newStatsWorld(t, e)
		ptr := func(s string) *string { return &s }
		period := func(region, org *string) api.StatsScope {
			return api.StatsScope{From: w.day(29), To: w.day(0), RegionCode: region, OrgID: org}
		}

		t.Run("findings", func(t *testing.T) {
			var got api.FindingsStats
			getStats(t, e, tok(w.admin), "/v1/stats/findings", nil, &got)
			sameJSON(t, "admin", got, api.FindingsStats{Scope: period(nil, nil), Items: []api.FindingDay{
				fd(w.day(2), "disinformation", 2),
				fd(w.day(1), "disinformation", 3), fd(w.day(1), "hate_speech", 1), fd(w.day(1), "money_politics", 1),
				fd(w.day(0), "disinformation", 3), fd(w.day(0), "other", 1), fd(w.day(0), "sara", 1),
			}})
			getStats(t, e, tok(w.off32), "/v1/stats/findings", nil, &got)
			sameJSON(t, "officer of 32", got, api.FindingsStats{Scope: period(ptr("32"), nil), Items: []api.FindingDay{
				fd(w.day(1), "disinformation", 1), fd(w.day(1), "money_politics", 1),
			}})
			q := url.Values{"from": {w.day(45)}, "to": {w.day(30)}}
			getStats(t, e, tok(w.off31), "/v1/stats/findings", q, &got)
			sameJSON(t, "officer of 31, an earlier period", got, api.FindingsStats{
				Scope: api.StatsScope{From: w.day(45), To: w.day(30), RegionCode: ptr("31")},
				Items: []api.FindingDay{fd(w.day(40), "disinformation", 1)}})
		})

		t.Run("funnel", func(t *testing.T) {
			var got api.FunnelStats
			getStats(t, e, tok(w.offNat), "/v1/stats/funnel", nil, &got)
			sameJSON(t, "national officer", got, api.FunnelStats{Scope: period(nil, nil),
				Filed: 12, Submitted: 4, Endorsed: 1, Verified: 5, Rejected: 1, Duplicate: 1})
			getStats(t, e, tok(w.off31), "/v1/stats/funnel", nil, &got)
			sameJSON(t, "officer of 31", got, api.FunnelStats{Scope: period(ptr("31"), nil),
				Filed: 9, Submitted: 2, Endorsed: 1, Verified: 4, Rejected: 1, Duplicate: 1})
			getStats(t, e, tok(w.coordB), "/v1/stats/funnel", url.Values{"org_id": {w.orgB.ID}}, &got)
			sameJSON(t, "coordinator of B", got, api.FunnelStats{Scope: period(nil, &w.orgB.ID),
				Filed: 2, Submitted: 1, Verified: 1})
			getStats(t, e, tok(w.off31), "/v1/stats/funnel", url.Values{"org_id": {w.orgB.ID}}, &got)
			sameJSON(t, "officer of 31 narrowed to org B (of 32)", got, api.FunnelStats{Scope: period(ptr("31"), &w.orgB.ID)})
		})

		t.Run("takedowns", func(t *testing.T) {
			var got api.TakedownStats
			getStats(t, e, tok(w.admin), "/v1/stats/takedowns", nil, &got)
			sameJSON(t, "admin", got, api.TakedownStats{Scope: period(nil, nil), Items: []api.PlatformTakedown{
				{Platform: "facebook", Requested: 2, TakenDown: 1, Refused: 1, MedianHours: hours(5), P90Hours: hours(5)},
				{Platform: "x", Requested: 3, TakenDown: 2, Pending: 1, MedianHours: hours(10), P90Hours: hours(30)},
			}})
			getStats(t, e, tok(w.off32), "/v1/stats/takedowns", nil, &got)
			sameJSON(t, "officer of 32", got, api.TakedownStats{Scope: period(ptr("32"), nil), Items: []api.PlatformTakedown{
				{Platform: "facebook", Requested: 1, Refused: 1},
			}})
			q := url.Values{"from": {w.day(0)}, "to": {w.day(0)}}
			getStats(t, e, tok(w.coordA), "/v1/stats/takedowns", url.Values{"org_id": {w.orgA.ID}, "from": q["from"], "to": q["to"]}, &got)
			sameJSON(t, "coordinator of A, today", got, api.TakedownStats{Scope: api.StatsScope{From: w.day(0), To: w.day(0), OrgID: &w.orgA.ID},
				Items: []api.PlatformTakedown{{Platform: "x", Requested: 1, Pending: 1}}})
		})

		t.Run("provinces", func(t *testing.T) {
			var got api.ProvinceStats
			getStats(t, e, tok(w.admin), "/v1/stats/provinces", nil, &got)
			sameJSON(t, "admin", got, api.ProvinceStats{Scope: period(nil, nil), Items: []api.ProvinceStat{
				ps("31", "Daerah Khusus Ibukota Jakarta", 9, 4), ps("32", "Jawa Barat", 2, 1), ps("national", "", 1, 0),
			}})
			getStats(t, e, tok(w.off31), "/v1/stats/provinces", nil, &got)
			sameJSON(t, "officer of 31", got, api.ProvinceStats{Scope: period(ptr("31"), nil), Items: []api.ProvinceStat{
				ps("31", "Daerah Khusus Ibukota Jakarta", 9, 4),
			}})
		})
	})
}

// seedReach writes what the feed's ack flushes and the push sender would
// have written for alert id: feed acknowledgements in two flushes, push
// deliveries (sent ones and a failed one) and displayed pushes.
func seedReach(t *testing.T, e *apptest.Env, id string, acks, sent, failed, displayed int) {
	t.Helper()
	ctx := context.Background()
	var job string
	if err := e.App.DB.NewSelect().Table("push_jobs").Column("id").Where("ref_id = ? AND kind = 'alert'", id).Scan(ctx, &job); err != nil {
		t.Fatalf("push job of %s: %v", id, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := e.App.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("INSERT INTO alert_ack_counts (alert_id, batch, bucket_ms, acks) VALUES (?, 'flush-1', 100, ?), (?, 'flush-2', 700, ?)", id, acks-acks/2, id, acks/2)
	for i := range sent + failed {
		state, status := "sent", 201
		if i >= sent {
			state, status = "failed", 400
		}
		exec("INSERT INTO push_deliveries (job_id, subscription_id, state, status, attempts, at) VALUES (?, ?, ?, ?, 1, ?)", job, fmt.Sprintf("sub-%d", i), state, status, time.Now().UTC())
	}
	for i := range displayed {
		exec("INSERT INTO push_acks (job_id, subscription_id, at) VALUES (?, ?, ?)", job, fmt.Sprintf("sub-%d", i), time.Now().UTC())
	}
}

func TestStatsAlerts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		a31 := createAlert(t, e, tok(w.off31), alertBody("31"))
		a3171 := createAlert(t, e, tok(w.off31), alertBody("3171"))
		a32 := createAlert(t, e, tok(w.off32), alertBody("32"))
		aNat := createAlert(t, e, tok(w.offNat), alertBody(""))
		seedReach(t, e, a31.ID, 5, 4, 1, 2)
		seedReach(t, e, aNat.ID, 1, 0, 0, 0)
		seedReach(t, e, a3171.ID, 3, 0, 0, 0)
		// a3171 was summed up already: its summary, not its counts, is read.
		if _, err := e.App.DB.ExecContext(context.Background(), "INSERT INTO alert_reach (alert_id, delivered, summarised_at) VALUES (?, 7, ?)", a3171.ID, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		must(t, "retract", call(t, e, tok(w.off31), "POST", "/v1/alerts/"+a3171.ID+"/retraction", map[string]any{"reason": "Keliru wilayah."}), http.StatusOK, "")
		// meant and delivered are the alert's own reach: more acks than
		// volunteers meant (a volunteer on two instances counts on each)
		// count as everyone meant, not more.
		stat := func(a api.Alert, retracted bool, pushed, acks, displayed int) api.AlertStat {
			t.Helper()
			reach := reachOf(t, e, tok(w.admin), a.ID)
			if want := min(acks, reach.Meant); reach.Delivered != want {
				t.Fatalf("reach of %s: got %d delivered, want %d", a.ID, reach.Delivered, want)
			}
			return api.AlertStat{AlertID: a.ID, Title: a.Title, Severity: a.Severity, RegionCode: a.RegionCode, PublishedAt: a.PublishedAt,
				Retracted: retracted, Meant: reach.Meant, Pushed: pushed, Delivered: reach.Delivered, Displayed: displayed}
		}
		if n := reachOf(t, e, tok(w.admin), a31.ID).Meant; n >= 5 {
			t.Fatalf("%d volunteers meant in 31: the 5 acks below must be more", n)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		from := time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly)
		r31 := "31"
		var got api.AlertStats
		getStats(t, e, tok(w.off31), "/v1/stats/alerts", nil, &got)
		sameJSON(t, "officer of 31", got, api.AlertStats{Scope: api.StatsScope{From: from, To: today, RegionCode: &r31},
			Items: []api.AlertStat{stat(a31, false, 4, 5, 2), stat(a3171, true, 0, 7, 0)}})
		getStats(t, e, tok(w.admin), "/v1/stats/alerts", nil, &got)
		sameJSON(t, "admin", got, api.AlertStats{Scope: api.StatsScope{From: from, To: today},
			Items: []api.AlertStat{stat(a31, false, 4, 5, 2), stat(a3171, true, 0, 7, 0), stat(a32, false, 0, 0, 0), stat(aNat, false, 0, 1, 0)}})
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		getStats(t, e, tok(w.offNat), "/v1/stats/alerts", url.Values{"from": {yesterday}, "to": {yesterday}}, &got)
		if len(got.Items) != 0 {
			t.Errorf("alerts of yesterday: got %d, want none", len(got.Items))
		}
		// A coordinator sees no alert reach, not even with their org.
		must(t, "coordinator", call(t, e, tok(w.coordA), "GET", "/v1/stats/alerts?org_id="+w.orgA.ID, nil), http.StatusForbidden, "forbidden")
	})
}

// The alert reach is paged as every list is (oldest first): no answer is
// cut short without saying so, and a bad page is a 400.
func TestStatsAlertsPages(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		var want []string
		for range 5 {
			want = append(want, createAlert(t, e, tok(w.off31), alertBody("3171")).ID)
		}
		createAlert(t, e, tok(w.off32), alertBody("32")) // not the officer of 31's
		if got := alertPages(t, e, tok(w.off31), url.Values{"limit": {"2"}}, 3); !reflect.DeepEqual(got, want) {
			t.Errorf("pages of 2: got %v, want %v (every alert, oldest first)", got, want)
		}
		// More alerts than one answer used to hold (the latest 500, with
		// nothing in it to say so): the pages of the default 50 hold them
		// all, each once. Seven at a time share their publication time, so
		// pages end inside such runs and go on by id.
		var first api.AlertStats
		getStats(t, e, tok(w.off31), "/v1/stats/alerts", nil, &first)
		for i := range 500 {
			_, err := e.App.DB.ExecContext(context.Background(), `INSERT INTO alerts (id, title, body, severity, region_code, issued_by, stream, published_at)
				SELECT ?, title, body, severity, region_code, issued_by, stream, ? FROM alerts WHERE id = ?`,
				uuid.Must(uuid.NewV7()).String(), first.Items[0].PublishedAt.Add(-time.Duration(i/7+1)*time.Microsecond), want[0])
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		ids := alertPages(t, e, tok(w.off31), url.Values{}, 11)
		for _, id := range ids {
			seen[id] = true
		}
		if len(ids) != 505 || len(seen) != 505 {
			t.Errorf("505 alerts in pages of the default 50: got %d, %d different ones", len(ids), len(seen))
		}
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for q, typ := range map[string]string{
			"limit=0": "bad-query", "limit=201": "bad-query", "limit=x": "bad-query",
			"cursor=" + enc("x"): "bad-cursor", "cursor=%21": "bad-cursor",
			"cursor=" + enc(time.Now().UTC().Format(time.RFC3339Nano)+"|x"): "bad-cursor",
		} {
			check(t, q, call(t, e, tok(w.off31), "GET", "/v1/stats/alerts?"+q, nil), http.StatusBadRequest, typ)
		}
		// The other aggregates are not lists: paging them is an unknown parameter.
		check(t, "findings with limit", call(t, e, tok(w.off31), "GET", "/v1/stats/findings?limit=2", nil), http.StatusBadRequest, "bad-query")
	})
}

// alertPages reads the alert reach as token page after page (q: the
// query of each) and returns the alerts' ids in order, failing after maxPages
// pages.
func alertPages(t *testing.T, e *apptest.Env, token string, q url.Values, maxPages int) []string {
	t.Helper()
	var ids []string
	for page := 0; ; page++ {
		if page == maxPages {
			t.Fatalf("more than %d pages (%d alerts so far)", maxPages, len(ids))
		}
		var st api.AlertStats
		getStats(t, e, token, "/v1/stats/alerts", q, &st)
		for _, it := range st.Items {
			ids = append(ids, it.AlertID)
		}
		if st.NextCursor == "" {
			return ids
		}
		q.Set("cursor", st.NextCursor)
	}
}

func TestStatsRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		paths := []string{"/v1/stats/findings", "/v1/stats/funnel", "/v1/stats/takedowns", "/v1/stats/alerts", "/v1/stats/provinces"}
		today := time.Now().UTC()
		day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }
		bad := map[string]string{
			"not a date":       "from=2026-13-01",
			"short date":       "from=2026-1-5",
			"a time":           "to=" + today.Format(time.RFC3339),
			"from after to":    "from=" + day(-1) + "&to=" + day(-2),
			"to after today":   "to=" + day(1),
			"367 days":         "from=" + day(-366) + "&to=" + day(0),
			"before 2000":      "from=1999-12-31&to=2000-01-30",
			"unknown param":    "region=31",
			"org_id not an id": "org_id=jaringan",
		}
		for _, path := range paths {
			must(t, "anonymous "+path, call(t, e, "", "GET", path, nil), http.StatusUnauthorized, "")
			must(t, "volunteer "+path, call(t, e, tok(w.vol), "GET", path, nil), http.StatusForbidden, "forbidden")
			must(t, "member of A "+path, call(t, e, tok(w.member), "GET", path+"?org_id="+w.orgA.ID, nil), http.StatusForbidden, "forbidden")
			must(t, "coordinator of A for B "+path, call(t, e, tok(w.coordA), "GET", path+"?org_id="+w.orgB.ID, nil), http.StatusForbidden, "forbidden")
			must(t, "coordinator of A without org "+path, call(t, e, tok(w.coordA), "GET", path, nil), http.StatusForbidden, "forbidden")
			for what, q := range bad {
				check(t, what+" "+path, call(t, e, tok(w.off31), "GET", path+"?"+q, nil), http.StatusBadRequest, "bad-query")
			}
			// The longest period and the earliest start are accepted.
			must(t, "366 days "+path, call(t, e, tok(w.off31), "GET", path+"?from="+day(-365)+"&to="+day(0), nil), http.StatusOK, "")
			must(t, "from 2000 "+path, call(t, e, tok(w.admin), "GET", path+"?from=2000-01-01&to=2000-12-31", nil), http.StatusOK, "")
		}
		// An officer of 32 narrowed to org A (of 31) counts nothing of it.
		var f api.FunnelStats
		submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		getStats(t, e, tok(w.off32), "/v1/stats/funnel", url.Values{"org_id": {w.orgA.ID}}, &f)
		if f.Filed != 0 {
			t.Errorf("officer of 32, org A: got %d filed, want 0", f.Filed)
		}
		getStats(t, e, tok(w.coordA), "/v1/stats/funnel", url.Values{"org_id": {w.orgA.ID}}, &f)
		if f.Filed != 2 || f.Submitted != 2 {
			t.Errorf("coordinator of A: got %+v, want 2 filed and submitted", f)
		}
	})
}
