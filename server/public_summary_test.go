package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// claimsByID reads the ClaimReview feed, keyed by the report id its url
// ends with.
func claimsByID(t *testing.T, e *apptest.Env) (map[string]claimReview, string) {
	t.Helper()
	r := call(t, e, "", "GET", "/v1/open/claimreviews.json", nil)
	must(t, "claimreviews", r, http.StatusOK, "")
	var got []claimReview
	r.Decode(t, &got)
	out := map[string]claimReview{}
	for _, c := range got {
		_, id, _ := strings.Cut(c.URL, "claim=")
		out[id] = c
	}
	return out, string(r.Body)
}

// twoFindings makes a national officer and a volunteer of 31 who files two
// reports there.
func twoFindings(t *testing.T, e *apptest.Env) (off, vol api.AuthResponse, a, b api.Report) {
	t.Helper()
	off = e.User(t, "officer", "pusat", "")
	vol = e.User(t, "volunteer", "relawan", "31")
	a = submitReport(t, e, tok(vol), reportBody("", "31", ""))
	b = submitReport(t, e, tok(vol), reportBody("", "31", ""))
	return off, vol, a, b
}

// An officer verifying a finding may give the public summary Bawaslu
// publishes: the ClaimReview feed then shows it, trimmed, in place of the
// reporter's summary, which the report keeps. Without one, the reporter's
// summary is published as before. The report shows the public summary to
// those who see it, and the audit trail records it with the decision.
func TestPublicSummaryPublished(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		off, vol, named, plain := twoFindings(t, e)
		const public = "Klaim bahwa TPS 12 di Jakarta dipindah tanpa pengumuman resmi KPU tidak benar."

		r := call(t, e, tok(off), "POST", reportPath(named.ID, "/verification"),
			map[string]any{"decision": "verified", "note": "Dicek dengan KPU.", "public_summary": "  " + public + "\n\t"})
		must(t, "verify with a public summary", r, http.StatusOK, "")
		var got api.Report
		r.Decode(t, &got)
		if got.PublicSummary == nil || *got.PublicSummary != public || got.Summary != named.Summary {
			t.Errorf("verified: public_summary %q, summary %q; want %q and the reporter's %q", deref(got.PublicSummary), got.Summary, public, named.Summary)
		}
		r = call(t, e, tok(off), "POST", reportPath(plain.ID, "/verification"), map[string]any{"decision": "verified"})
		must(t, "verify without one", r, http.StatusOK, "")
		var without api.Report
		if r.Decode(t, &without); without.PublicSummary != nil || strings.Contains(string(r.Body), "public_summary") {
			t.Errorf("verified without a public summary: %s", r.Body)
		}

		claims, body := claimsByID(t, e)
		if c, ok := claims[named.ID]; !ok || c.ClaimReviewed != public {
			t.Errorf("review of the report with a public summary: %+v (found %v), want claimReviewed %q", c, ok, public)
		}
		if c, ok := claims[plain.ID]; !ok || c.ClaimReviewed != plain.Summary {
			t.Errorf("review of the report without: %+v (found %v), want the reporter's summary %q", c, ok, plain.Summary)
		}
		if strings.Contains(body, named.Summary) {
			t.Errorf("the feed still holds the reporter's summary %q", named.Summary)
		}

		for who, token := range map[string]string{"officer": tok(off), "reporter": tok(vol)} {
			rep := getReport(t, e, token, named.ID)
			if rep.PublicSummary == nil || *rep.PublicSummary != public || rep.Summary != named.Summary {
				t.Errorf("the report as its %s reads it: public_summary %q, summary %q", who, deref(rep.PublicSummary), rep.Summary)
			}
		}

		var page api.Page[api.AuditEntry]
		call(t, e, tok(off), "GET", "/v1/audit?target_type=report&target_id="+named.ID, nil).Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Action != "report.verified" {
			t.Fatalf("audit of the verification: %+v, want one report.verified", page.Items)
		}
		var before, after map[string]any
		if err := json.Unmarshal(page.Items[0].Before, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(page.Items[0].After, &after); err != nil {
			t.Fatal(err)
		}
		if v, ok := before["public_summary"]; !ok || v != nil {
			t.Errorf("audit before: public_summary %v (present %v), want null", v, ok)
		}
		if after["public_summary"] != public {
			t.Errorf("audit after: public_summary %v, want %q", after["public_summary"], public)
		}
	})
}

// A public summary that is blank, too short or too long, holds text that
// reorders itself, comes with a decision other than verified, or is sent
// malformed is refused (400 or 422 naming the field), and nothing changes.
// A verified report's public summary is final: 409 report-decided.
func TestPublicSummaryRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		off, _, rep, other := twoFindings(t, e)
		const fine = "Klaim tentang pemindahan TPS tidak benar."
		path := reportPath(rep.ID, "/verification")
		for _, c := range []struct {
			what   string
			body   any
			status int
		}{
			{"empty", map[string]any{"decision": "verified", "public_summary": ""}, http.StatusUnprocessableEntity},
			{"blank", map[string]any{"decision": "verified", "public_summary": " \n\t "}, http.StatusUnprocessableEntity},
			{"too short", map[string]any{"decision": "verified", "public_summary": "  pendek  "}, http.StatusUnprocessableEntity},
			{"too long", map[string]any{"decision": "verified", "public_summary": strings.Repeat("a", api.SummaryMax+1)}, http.StatusUnprocessableEntity},
			{"bidi override", map[string]any{"decision": "verified", "public_summary": "Klaim \u202enetnok\u202c soal TPS."}, http.StatusUnprocessableEntity},
			{"with a rejection", map[string]any{"decision": "rejected", "note": "Bukan pelanggaran.", "public_summary": fine}, http.StatusUnprocessableEntity},
			{"with a duplicate", map[string]any{"decision": "duplicate", "duplicate_of": other.ID, "public_summary": fine}, http.StatusUnprocessableEntity},
			{"not a string", `{"decision": "verified", "public_summary": 42}`, http.StatusBadRequest},
			{"twice", `{"decision": "verified", "public_summary": "` + fine + `", "public_summary": "Teks lain yang juga cukup panjang."}`, http.StatusBadRequest},
			{"other case", `{"decision": "verified", "Public_Summary": "` + fine + `"}`, http.StatusBadRequest},
		} {
			before := fingerprint(t, e, rep.ID)
			r := call(t, e, tok(off), "POST", path, c.body)
			if check(t, c.what, r, c.status, "") && c.status == http.StatusUnprocessableEntity && !fieldErr(t, r, "public_summary") {
				t.Errorf("%s: the problem does not name public_summary: %s", c.what, r.Body)
			}
			if got := fingerprint(t, e, rep.ID); got != before {
				t.Errorf("%s: refused, yet the report changed:\n before %s\n after  %s", c.what, before, got)
			}
		}

		// As long as a report's summary may be: accepted.
		long := strings.Repeat("a", api.SummaryMax)
		r := call(t, e, tok(off), "POST", path, map[string]any{"decision": "verified", "public_summary": long})
		must(t, "the longest public summary", r, http.StatusOK, "")
		// Decided: no second public summary.
		before := fingerprint(t, e, rep.ID)
		r = call(t, e, tok(off), "POST", path, map[string]any{"decision": "verified", "public_summary": fine})
		check(t, "a new public summary for a verified report", r, http.StatusConflict, "report-decided")
		if got := fingerprint(t, e, rep.ID); got != before {
			t.Errorf("refused, yet the report changed:\n before %s\n after  %s", before, got)
		}
		if claims, _ := claimsByID(t, e); claims[rep.ID].ClaimReviewed != long {
			t.Errorf("claimReviewed %.40q..., want the first public summary", claims[rep.ID].ClaimReviewed)
		}
	})
}
