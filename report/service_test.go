package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/report"
)

var seq int

func request(regionCode, category string) api.CreateReportRequest {
	seq++
	req := api.CreateReportRequest{URL: fmt.Sprintf("https://www.facebook.com/groups/pemilu/posts/%d/?mibextid=abc", seq), Platform: "facebook",
		Category: category, Summary: "Unggahan hoaks tentang pemungutan suara ulang.", ObservedAt: time.Now().Add(-time.Hour)}
	if regionCode != "" {
		req.RegionCode = &regionCode
	}
	return req
}

func create(t *testing.T, e *apptest.Env, by api.AuthResponse, regionCode, category string) api.Report {
	t.Helper()
	r, err := e.App.Reports.Create(context.Background(), apptest.Principal(by), request(regionCode, category))
	if err != nil {
		t.Fatalf("create report: %v", err)
	}
	return r
}

func exec(t *testing.T, e *apptest.Env, q string, args ...any) {
	t.Helper()
	if _, err := e.App.DB.NewRaw(q, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Open statistics group by category, province and UTC day on both
// databases, counting verified and taken-down reports.
func TestStats(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		vol := e.User(t, "volunteer", "relawan", "3171")
		if got, err := e.App.Reports.Stats(ctx, "category"); err != nil || got == nil || len(got) != 0 {
			t.Errorf("stats of nothing: %v %v, want an empty list", got, err)
		}
		late := create(t, e, vol, "3171", "disinformation")
		early := create(t, e, vol, "3273", "money_politics")
		national := create(t, e, vol, "", "disinformation")
		exec(t, e, "UPDATE reports SET created_at = ? WHERE id = ?", time.Date(2029, 2, 13, 23, 59, 59, 999000000, time.UTC), late.ID)
		exec(t, e, "UPDATE reports SET created_at = ? WHERE id = ?", time.Date(2029, 2, 14, 0, 0, 0, 0, time.UTC), early.ID)
		exec(t, e, "UPDATE reports SET created_at = ? WHERE id = ?", time.Date(2029, 2, 14, 16, 30, 0, 0, time.UTC), national.ID)
		exec(t, e, "UPDATE reports SET status = 'verified', takedown_status = 'taken_down' WHERE id = ?", late.ID)
		exec(t, e, "UPDATE reports SET status = 'verified', takedown_status = 'requested' WHERE id = ?", national.ID)
		for group, want := range map[string][]report.Stat{
			"category": {{Key: "disinformation", Reports: 2, Verified: 2, TakenDown: 1, Takedowns: 2}, {Key: "money_politics", Reports: 1}},
			"region": {{Key: "31", Name: "Daerah Khusus Ibukota Jakarta", Reports: 1, Verified: 1, TakenDown: 1, Takedowns: 1},
				{Key: "32", Name: "Jawa Barat", Reports: 1}, {Key: "national", Reports: 1, Verified: 1, Takedowns: 1}},
			"day": {{Key: "2029-02-13", Reports: 1, Verified: 1, TakenDown: 1, Takedowns: 1}, {Key: "2029-02-14", Reports: 2, Verified: 1, Takedowns: 1}},
		} {
			got, err := e.App.Reports.Stats(ctx, group)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("stats by %s: %+v %v, want %+v", group, got, err, want)
			}
		}
		if _, err := e.App.Reports.Stats(ctx, "reporter_id"); err == nil {
			t.Errorf("stats by reporter: no error")
		}
	})
}

// Lists hold what the caller may see: their own reports and, for officers,
// those of their region and below (national officers and admins: all).
func TestListVisibility(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		vol := e.User(t, "volunteer", "relawan", "3171")
		other := e.User(t, "volunteer", "lain", "32")
		off31 := e.User(t, "officer", "dki", "31")
		off3171 := e.User(t, "officer", "jakpus", "3171")
		offNat := e.User(t, "officer", "pusat", "")
		admin := e.User(t, "admin", "root", "")
		r31 := create(t, e, vol, "31", "disinformation")
		r3171 := create(t, e, vol, "3171", "sara")
		r32 := create(t, e, other, "32", "disinformation")
		rNat := create(t, e, other, "", "hate_speech")
		list := func(who api.AuthResponse, f report.Filter) []string {
			t.Helper()
			f.Limit = 50
			rs, err := e.App.Reports.List(ctx, apptest.Principal(who), f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			slices.Sort(ids)
			return ids
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		for _, c := range []struct {
			name string
			who  api.AuthResponse
			f    report.Filter
			want []string
		}{
			{"reporter", vol, report.Filter{}, sorted(r31.ID, r3171.ID)},
			{"other reporter", other, report.Filter{}, sorted(r32.ID, rNat.ID)},
			{"officer of 31", off31, report.Filter{}, sorted(r31.ID, r3171.ID)},
			{"officer of 3171", off3171, report.Filter{}, sorted(r3171.ID)},
			{"national officer", offNat, report.Filter{}, sorted(r31.ID, r3171.ID, r32.ID, rNat.ID)},
			{"admin", admin, report.Filter{}, sorted(r31.ID, r3171.ID, r32.ID, rNat.ID)},
			{"national officer, region 31", offNat, report.Filter{Region: "31"}, sorted(r31.ID, r3171.ID)},
			{"national officer, disinformation", offNat, report.Filter{Category: "disinformation"}, sorted(r31.ID, r32.ID)},
			{"officer of 31, region 32", off31, report.Filter{Region: "32"}, nil},
			{"officer of 31, verified", off31, report.Filter{Status: api.ReportVerified}, nil},
		} {
			if got := list(c.who, c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
		// GET agrees with the lists.
		for _, c := range []struct {
			who  api.AuthResponse
			id   string
			sees bool
		}{{off3171, r31.ID, false}, {off31, rNat.ID, false}, {other, r31.ID, false}, {offNat, rNat.ID, true}, {off31, r3171.ID, true}} {
			_, err := e.App.Reports.Get(ctx, apptest.Principal(c.who), c.id)
			if c.sees && err != nil || !c.sees && !problem.Is(err, "not-found") {
				t.Errorf("%s GETs %s: %v, want sees=%v", c.who.User.Name, c.id, err, c.sees)
			}
		}
	})
}

// Create refuses what no database can fix, before writing anything.
func TestCreateRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		vol := e.User(t, "volunteer", "relawan", "3171")
		bad := func(mod func(*api.CreateReportRequest)) api.CreateReportRequest {
			r := request("3171", "sara")
			mod(&r)
			return r
		}
		for name, req := range map[string]api.CreateReportRequest{
			"ftp url":       bad(func(r *api.CreateReportRequest) { r.URL = "ftp://example.com/x" }),
			"credentials":   bad(func(r *api.CreateReportRequest) { r.URL = "https://user:pw@example.com/x" }),
			"bad region":    bad(func(r *api.CreateReportRequest) { s := "99"; r.RegionCode = &s }),
			"future":        bad(func(r *api.CreateReportRequest) { r.ObservedAt = time.Now().Add(time.Hour) }),
			"two years ago": bad(func(r *api.CreateReportRequest) { r.ObservedAt = time.Now().AddDate(-2, 0, 0) }),
			"no such org":   bad(func(r *api.CreateReportRequest) { s := auth.NewID(); r.OrgID = &s }),
			"no such claim": bad(func(r *api.CreateReportRequest) { s := auth.NewID(); r.ClaimID = &s }),
		} {
			if _, err := e.App.Reports.Create(ctx, apptest.Principal(vol), req); problem.KindOf(err) != problem.Invalid {
				t.Errorf("%s: got %v, want a 422", name, err)
			}
		}
		n, err := e.App.DB.NewSelect().Table("reports").Count(ctx)
		if err != nil || n != 0 {
			t.Errorf("refused creates left %d reports (%v)", n, err)
		}
	})
}

// Alerts cite only verified reports the officer covers.
func TestCheckVerified(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		vol := e.User(t, "volunteer", "relawan", "3171")
		off31 := e.User(t, "officer", "dki", "31")
		off32 := e.User(t, "officer", "jabar", "32")
		r := create(t, e, vol, "3171", "sara")
		check := func(who api.AuthResponse, ids ...string) error {
			return e.App.Reports.CheckVerified(ctx, e.App.DB, apptest.Principal(who), ids)
		}
		if err := check(off31); err != nil {
			t.Errorf("no reports: %v", err)
		}
		if err := check(off31, r.ID); !problem.Is(err, "validation") {
			t.Errorf("a submitted report: %v", err)
		}
		if _, err := e.App.Reports.Verify(ctx, apptest.Principal(off31), r.ID, api.VerificationRequest{Decision: api.ReportVerified}); err != nil {
			t.Fatal(err)
		}
		if err := check(off31, r.ID); err != nil {
			t.Errorf("a verified report: %v", err)
		}
		if err := check(off32, r.ID); !problem.Is(err, "validation") {
			t.Errorf("another province's report: %v", err)
		}
		if err := check(off31, r.ID, auth.NewID()); !problem.Is(err, "validation") {
			t.Errorf("a missing report: %v", err)
		}
	})
}

// Each workflow step is audited with the report's state before and after,
// takedown history included: the before of a step is the after of the one
// before it.
func TestAuditSnapshots(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		vol := e.User(t, "volunteer", "relawan", "3171")
		off := e.User(t, "officer", "dki", "31")
		r := create(t, e, vol, "3171", "sara")
		steps := []func() error{
			func() error {
				_, err := e.App.Reports.Verify(ctx, apptest.Principal(off), r.ID, api.VerificationRequest{Decision: api.ReportVerified, Note: "benar"})
				return err
			},
			func() error {
				_, err := e.App.Reports.Takedown(ctx, apptest.Principal(off), r.ID, api.TakedownRequest{Status: api.TakedownRequested, PlatformRef: "X-1"})
				return err
			},
			func() error {
				_, err := e.App.Reports.Takedown(ctx, apptest.Principal(off), r.ID, api.TakedownRequest{Status: api.TakedownDone})
				return err
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		var rows []struct {
			Action string `bun:"action"`
			Before string `bun:"before"`
			After  string `bun:"after"`
		}
		if err := e.App.DB.NewSelect().Table("audit_log").Column("action", "before", "after").
			Where("target_type = 'report' AND target_id = ?", r.ID).OrderExpr("id ASC").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		wantActions := []string{"report.verified", "report.takedown.requested", "report.takedown.taken_down"}
		if len(rows) != len(wantActions) {
			t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(wantActions), rows)
		}
		type snap struct {
			Status   string         `json:"status"`
			Takedown []api.Takedown `json:"takedown"`
		}
		var prev *snap
		for i, row := range rows {
			var before, after snap
			if err := json.Unmarshal([]byte(row.Before), &before); err != nil {
				t.Fatalf("before %q: %v", row.Before, err)
			}
			if err := json.Unmarshal([]byte(row.After), &after); err != nil {
				t.Fatalf("after %q: %v", row.After, err)
			}
			if row.Action != wantActions[i] || len(after.Takedown) != i {
				t.Errorf("audit %d: %s with %d takedown steps after, want %s with %d", i, row.Action, len(after.Takedown), wantActions[i], i)
			}
			if prev != nil && (before.Status != prev.Status || len(before.Takedown) != len(prev.Takedown)) {
				t.Errorf("audit %d (%s): before %+v, want the previous after %+v", i, row.Action, before, *prev)
			}
			prev = &after
		}
	})
}
