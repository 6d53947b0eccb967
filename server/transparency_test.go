package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
)

// finding is one report of the transparency scenario: what it is, and the
// takedown steps it goes through, each at a known time.
type finding struct {
	platform, category, region string
	verify                     bool
	steps                      []step
}

type step struct {
	status string
	at     string // RFC 3339
}

// The scenario, with the counts below made by hand from it.
var findings = []finding{
	{"x", "disinformation", "3171", true, []step{{"requested", "2026-03-02T10:00:00Z"}, {"taken_down", "2026-03-05T10:00:00Z"}}}, // 3 days
	{"x", "disinformation", "31", true, []step{{"requested", "2026-03-10T00:00:00Z"}, {"taken_down", "2026-03-11T12:00:00Z"}}},   // 1.5 days
	{"x", "hate_speech", "3201", true, []step{{"requested", "2026-03-20T00:00:00Z"}, {"refused", "2026-03-25T00:00:00Z"}}},
	{"tiktok", "disinformation", "32", true, []step{{"requested", "2026-03-15T08:00:00Z"}}},
	{"x", "money_politics", "3171", true, []step{{"requested", "2026-03-31T23:30:00Z"}, {"taken_down", "2026-04-07T23:30:00Z"}}}, // March (UTC), 7 days
	{"tiktok", "disinformation", "", true, nil},
	{"x", "disinformation", "3171", false, nil}, // submitted only: counted nowhere
}

type takedownRow struct {
	Month      string   `json:"month"`
	Platform   string   `json:"platform"`
	Requested  int      `json:"requested"`
	TakenDown  int      `json:"taken_down"`
	Refused    int      `json:"refused"`
	Pending    int      `json:"pending"`
	MedianDays *float64 `json:"median_days_to_takedown"`
}

type verifiedRow struct {
	Category     string `json:"category"`
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	Verified     int    `json:"verified"`
}

type issuedRow struct {
	Month     string `json:"month"`
	Severity  string `json:"severity"`
	Issued    int    `json:"issued"`
	Retracted int    `json:"retracted"`
}

func days(d float64) *float64 { return &d }

// seedTransparency files, verifies and takes down the findings (moving each
// takedown step and verification to its known time) and issues three
// alerts at known times; it returns the reports and the people involved.
func seedTransparency(t *testing.T, e *apptest.Env) ([]api.Report, []api.AuthResponse) {
	t.Helper()
	ctx := context.Background()
	off := marked(t, e, api.RoleOfficer, "")
	vols := map[string]api.AuthResponse{"31": marked(t, e, api.RoleVolunteer, "31"), "32": marked(t, e, api.RoleVolunteer, "32"), "": marked(t, e, api.RoleVolunteer, "")}
	people := []api.AuthResponse{off, vols["31"], vols["32"], vols[""]}
	var reps []api.Report
	for i, f := range findings {
		body := reportBody("", f.region, fmt.Sprintf("https://%s.com/akun/%d?utm_source=wa", f.platform, i))
		body["platform"], body["category"] = f.platform, f.category
		v := vols[""]
		if f.region != "" {
			v = vols[f.region[:2]]
		}
		rep := submitReport(t, e, tok(v), body)
		reps = append(reps, rep)
		if !f.verify {
			continue
		}
		must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified", "note": "Terverifikasi."}), http.StatusOK, "")
		verifiedAt := time.Date(2026, 3, 1, i, 0, 0, 0, time.UTC)
		if _, err := e.App.DB.NewUpdate().Table("reports").Set("verified_at = ?", verifiedAt).Where("id = ?", rep.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, s := range f.steps {
			must(t, "takedown "+s.status, call(t, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": s.status}), http.StatusOK, "")
			at, _ := time.Parse(time.RFC3339, s.at)
			if _, err := e.App.DB.NewUpdate().Table("takedowns").Set("at = ?", at).Where("report_id = ? AND status = ?", rep.ID, s.status).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A report rejected by the officer counts nowhere either.
	rej := submitReport(t, e, tok(vols["31"]), reportBody("", "31", ""))
	must(t, "reject", call(t, e, tok(off), "POST", reportPath(rej.ID, "/verification"), map[string]any{"decision": "rejected", "note": "Bukan pelanggaran."}), http.StatusOK, "")

	for _, a := range []struct {
		severity, at string
		retract      bool
	}{{"critical", "2026-03-05T01:00:00Z", false}, {"warning", "2026-03-20T01:00:00Z", true}, {"warning", "2026-04-02T01:00:00Z", false}} {
		b := alertBody("31")
		b["severity"] = a.severity
		al := createAlert(t, e, tok(off), b)
		if a.retract {
			must(t, "retract", call(t, e, tok(off), "POST", "/v1/alerts/"+al.ID+"/retraction", map[string]any{"reason": "Salah sasaran."}), http.StatusOK, "")
		}
		at, _ := time.Parse(time.RFC3339, a.at)
		if _, err := e.App.DB.NewUpdate().Table("alerts").Set("published_at = ?", at).Where("id = ?", al.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return reps, people
}

// The transparency datasets count what was seeded, as counted by hand; CSV
// and JSON agree; the combined document holds the same rows.
func TestTransparencyCounts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedTransparency(t, e)

		wantTakedowns := []takedownRow{
			{"2026-03", "tiktok", 1, 0, 0, 1, nil},
			{"2026-03", "x", 4, 3, 1, 0, days(3)}, // 3, 1.5, 7 days: the median is 3
		}
		wantVerified := []verifiedRow{
			{"disinformation", "", "", 1},
			{"disinformation", "31", "Daerah Khusus Ibukota Jakarta", 2},
			{"disinformation", "32", "Jawa Barat", 1},
			{"hate_speech", "32", "Jawa Barat", 1},
			{"money_politics", "31", "Daerah Khusus Ibukota Jakarta", 1},
		}
		wantIssued := []issuedRow{{"2026-03", "critical", 1, 0}, {"2026-03", "warning", 1, 1}, {"2026-04", "warning", 1, 0}}

		var gotT []takedownRow
		var gotV []verifiedRow
		var gotI []issuedRow
		getJSON(t, e, "/v1/open/takedowns.json", &gotT)
		getJSON(t, e, "/v1/open/verified.json", &gotV)
		getJSON(t, e, "/v1/open/alerts-issued.json", &gotI)
		if !reflect.DeepEqual(gotT, wantTakedowns) {
			t.Errorf("takedowns: got %s, want %s", show(gotT), show(wantTakedowns))
		}
		if !reflect.DeepEqual(gotV, wantVerified) {
			t.Errorf("verified: got %s, want %s", show(gotV), show(wantVerified))
		}
		if !reflect.DeepEqual(gotI, wantIssued) {
			t.Errorf("alerts issued: got %s, want %s", show(gotI), show(wantIssued))
		}

		csvWant := map[string][][]string{
			"/v1/open/takedowns.csv": {{"month", "platform", "requested", "taken_down", "refused", "pending", "median_days_to_takedown"},
				{"2026-03", "tiktok", "1", "0", "0", "1", ""}, {"2026-03", "x", "4", "3", "1", "0", "3.0"}},
			"/v1/open/verified.csv": {{"category", "province_code", "province_name", "verified"},
				{"disinformation", "", "", "1"}, {"disinformation", "31", "Daerah Khusus Ibukota Jakarta", "2"}, {"disinformation", "32", "Jawa Barat", "1"},
				{"hate_speech", "32", "Jawa Barat", "1"}, {"money_politics", "31", "Daerah Khusus Ibukota Jakarta", "1"}},
			"/v1/open/alerts-issued.csv": {{"month", "severity", "issued", "retracted"},
				{"2026-03", "critical", "1", "0"}, {"2026-03", "warning", "1", "1"}, {"2026-04", "warning", "1", "0"}},
		}
		for path, want := range csvWant {
			r := call(t, e, "", "GET", path, nil)
			must(t, path, r, http.StatusOK, "")
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), ".csv") {
				t.Errorf("%s: Content-Type %q, Content-Disposition %q", path, ct, r.Header.Get("Content-Disposition"))
			}
			if got := parseCSV(t, path, r.Body); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %v, want %v", path, got, want)
			}
		}

		var doc struct {
			Licence      string        `json:"licence"`
			Takedowns    []takedownRow `json:"takedowns"`
			Verified     []verifiedRow `json:"verified"`
			AlertsIssued []issuedRow   `json:"alerts_issued"`
		}
		getJSON(t, e, "/v1/open/transparency.json", &doc)
		if !strings.Contains(doc.Licence, "CC BY 4.0") || !reflect.DeepEqual(doc.Takedowns, wantTakedowns) ||
			!reflect.DeepEqual(doc.Verified, wantVerified) || !reflect.DeepEqual(doc.AlertsIssued, wantIssued) {
			t.Errorf("transparency.json: got %s", show(doc))
		}
	})
}

// The median of an even count is the mean of the middle two, to a tenth;
// a request taken down in the next month counts in the month requested.
func TestTransparencyMedianOfTwo(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	off := e.User(t, "officer", "pusat", "")
	vol := e.User(t, "volunteer", "relawan", "31")
	ctx := context.Background()
	for i, d := range []time.Duration{36 * time.Hour, 60 * time.Hour} { // 1.5 and 2.5 days
		rep := submitReport(t, e, tok(vol), reportBody("", "31", ""))
		must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
		for _, st := range []string{"requested", "taken_down"} {
			must(t, st, call(t, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": st}), http.StatusOK, "")
		}
		req := time.Date(2026, 5, 31, 20+i, 0, 0, 0, time.UTC)
		for status, at := range map[string]time.Time{"requested": req, "taken_down": req.Add(d)} {
			if _, err := e.App.DB.NewUpdate().Table("takedowns").Set("at = ?", at).Where("report_id = ? AND status = ?", rep.ID, status).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []takedownRow
	getJSON(t, e, "/v1/open/takedowns.json", &got)
	want := []takedownRow{{"2026-05", "x", 2, 2, 0, 0, days(2)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s, want %s", show(got), show(want))
	}
}

// With nothing recorded, every dataset is a header or an empty array.
func TestTransparencyEmpty(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	for _, p := range []string{"/v1/open/takedowns.json", "/v1/open/verified.json", "/v1/open/alerts-issued.json", "/v1/open/claimreviews.json"} {
		r := call(t, e, "", "GET", p, nil)
		must(t, p, r, http.StatusOK, "")
		var rows []any
		if err := json.Unmarshal(r.Body, &rows); err != nil || rows == nil || len(rows) != 0 {
			t.Errorf("%s: %v %q, want an empty array", p, err, r.Body)
		}
	}
	for _, p := range []string{"/v1/open/takedowns.csv", "/v1/open/verified.csv", "/v1/open/alerts-issued.csv"} {
		r := call(t, e, "", "GET", p, nil)
		must(t, p, r, http.StatusOK, "")
		if recs := parseCSV(t, p, r.Body); len(recs) != 1 {
			t.Errorf("%s: %d records, want the header only", p, len(recs))
		}
	}
}

// Each transparency dataset answers 304 to its own ETag, and a change of
// the underlying records changes the ETag.
func TestTransparencyConditional(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	off := e.User(t, "officer", "pusat", "")
	vol := e.User(t, "volunteer", "relawan", "31")
	rep := submitReport(t, e, tok(vol), reportBody("", "31", ""))
	must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
	paths := []string{"/v1/open/takedowns.csv", "/v1/open/takedowns.json", "/v1/open/transparency.json", "/v1/open/claimreviews.json"}
	tags := map[string]string{}
	for _, p := range paths {
		r := e.Do(t, "GET", p, nil)
		tag := r.Header.Get("ETag")
		if r.Status != http.StatusOK || tag == "" || r.Header.Get("Last-Modified") == "" {
			t.Fatalf("%s: %d, ETag %q, Last-Modified %q", p, r.Status, tag, r.Header.Get("Last-Modified"))
		}
		tags[p] = tag
		if r := e.Do(t, "GET", p, nil, "If-None-Match", tag); r.Status != http.StatusNotModified || len(r.Body) != 0 {
			t.Errorf("%s with its ETag: %d %q, want 304 without a body", p, r.Status, r.Body)
		}
		// The date alone does not decide: a count can change without it.
		if r := e.Do(t, "GET", p, nil, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); r.Status != http.StatusOK {
			t.Errorf("%s with a date only: %d, want 200", p, r.Status)
		}
	}
	must(t, "takedown", call(t, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": "requested"}), http.StatusOK, "")
	for _, p := range paths[:3] {
		if r := e.Do(t, "GET", p, nil, "If-None-Match", tags[p]); r.Status != http.StatusOK || r.Header.Get("ETag") == tags[p] {
			t.Errorf("%s after a takedown request: %d, ETag %s (was %s); want 200 and a new ETag", p, r.Status, r.Header.Get("ETag"), tags[p])
		}
	}
}

// With JARIMU_OPEN_CACHE an instance serves the transparency datasets it
// built again until the time runs out, the same bytes and ETag, however
// the records change meanwhile (the datasets read whole tables).
func TestTransparencyCached(t *testing.T) {
	e := apptest.Start(t, "sqlite", func(o *app.Options) { o.OpenCache = time.Hour })
	off := e.User(t, "officer", "pusat", "")
	vol := e.User(t, "volunteer", "relawan", "31")
	rep := submitReport(t, e, tok(vol), reportBody("", "31", ""))
	must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
	paths := []string{"/v1/open/takedowns.json", "/v1/open/verified.csv", "/v1/open/alerts-issued.json", "/v1/open/transparency.json", "/v1/open/claimreviews.json"}
	before := map[string]apptest.Response{}
	for _, p := range paths {
		before[p] = call(t, e, "", "GET", p, nil)
		must(t, p, before[p], http.StatusOK, "")
	}
	must(t, "takedown", call(t, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": "requested"}), http.StatusOK, "")
	rep2 := submitReport(t, e, tok(vol), reportBody("", "31", ""))
	must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep2.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
	createAlert(t, e, tok(off), alertBody("31"))
	for _, p := range paths {
		r := call(t, e, "", "GET", p, nil)
		if r.Status != http.StatusOK || string(r.Body) != string(before[p].Body) || r.Header.Get("ETag") != before[p].Header.Get("ETag") {
			t.Errorf("%s within the cache's time: %d, ETag %s (was %s), body changed: %v", p, r.Status, r.Header.Get("ETag"), before[p].Header.Get("ETag"), string(r.Body) != string(before[p].Body))
		}
	}
	// Without the cache (every other test here) the changes show at once
	// (TestTransparencyConditional).
}

// No cell of the transparency CSVs begins like a formula: every cell is a
// month, a fixed word, a code, a province name or a number (and would be
// neutralised by the one CSV writer if it were not).
func TestTransparencyCSVCells(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	seedTransparency(t, e)
	for _, p := range []string{"/v1/open/takedowns.csv", "/v1/open/verified.csv", "/v1/open/alerts-issued.csv"} {
		r := call(t, e, "", "GET", p, nil)
		must(t, p, r, http.StatusOK, "")
		recs := parseCSV(t, p, r.Body)
		if len(recs) < 2 {
			t.Errorf("%s: %d records", p, len(recs))
		}
		for _, rec := range recs {
			for _, c := range rec {
				if c != "" && strings.ContainsRune("=+-@\t\r'", rune(c[0])) {
					t.Errorf("%s: cell %q", p, c)
				}
			}
		}
	}
}

func getJSON(t *testing.T, e *apptest.Env, path string, v any) {
	t.Helper()
	r := call(t, e, "", "GET", path, nil)
	must(t, path, r, http.StatusOK, "")
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
