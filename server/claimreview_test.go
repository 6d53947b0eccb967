package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
)

// schemaOrg lists, per schema.org type, the properties of it the feed may
// use: each is defined on the type or inherited (ClaimReview < Review <
// CreativeWork < Thing; Claim < CreativeWork; Rating < Intangible < Thing;
// AdministrativeArea < Place < Thing), as schema.org's pages list them.
var schemaOrg = map[string][]string{
	"ClaimReview":        {"claimReviewed", "itemReviewed", "reviewRating", "reviewBody", "author", "datePublished", "dateModified", "inLanguage", "publisher", "url", "name"},
	"Claim":              {"appearance", "firstAppearance", "claimInterpreter", "author", "datePublished", "spatialCoverage", "text", "url", "name"},
	"Rating":             {"ratingValue", "bestRating", "worstRating", "ratingExplanation", "reviewAspect", "author", "alternateName", "name", "description", "url"},
	"Organization":       {"name", "url", "alternateName", "logo", "sameAs"},
	"CreativeWork":       {"url", "name", "headline", "datePublished", "author"},
	"AdministrativeArea": {"identifier", "name", "alternateName", "url"},
}

// checkSchemaOrg walks a JSON-LD node: every object names its @type, a
// type of the list, and uses only that type's properties.
func checkSchemaOrg(t *testing.T, where string, v any, top bool) {
	t.Helper()
	switch n := v.(type) {
	case []any:
		for _, x := range n {
			checkSchemaOrg(t, where, x, top)
		}
	case map[string]any:
		typ, _ := n["@type"].(string)
		props, ok := schemaOrg[typ]
		if !ok {
			t.Errorf("%s: an object of @type %q: %v", where, typ, n)
			return
		}
		for k, x := range n {
			switch {
			case k == "@type":
			case k == "@context" && top:
				if x != "https://schema.org" {
					t.Errorf("%s: @context %v", where, x)
				}
			case !slices.Contains(props, k):
				t.Errorf("%s: %s has no property %q", where, typ, k)
			default:
				checkSchemaOrg(t, where+"."+k, x, false)
			}
		}
	}
}

type claimReview struct {
	Context       string `json:"@context"`
	Type          string `json:"@type"`
	URL           string `json:"url"`
	ClaimReviewed string `json:"claimReviewed"`
	DatePublished string `json:"datePublished"`
	Author        struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	} `json:"author"`
	ReviewRating struct {
		RatingValue   int    `json:"ratingValue"`
		BestRating    int    `json:"bestRating"`
		WorstRating   int    `json:"worstRating"`
		AlternateName string `json:"alternateName"`
	} `json:"reviewRating"`
	ItemReviewed struct {
		Type       string `json:"@type"`
		Appearance []struct {
			URL string `json:"url"`
		} `json:"appearance"`
		FirstAppearance struct {
			URL string `json:"url"`
		} `json:"firstAppearance"`
		SpatialCoverage *struct {
			Identifier string `json:"identifier"`
			Name       string `json:"name"`
		} `json:"spatialCoverage"`
	} `json:"itemReviewed"`
}

// The verified disinformation findings, and only they, come out as
// ClaimReviews with schema.org's property names, Bawaslu as the author,
// the claim's normalised address and the verification date; nothing of the
// reporter or of any account.
func TestClaimReviews(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		reps, people := seedTransparency(t, e)
		r := call(t, e, "", "GET", "/v1/open/claimreviews.json", nil)
		must(t, "claimreviews", r, http.StatusOK, "")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/ld+json") {
			t.Errorf("Content-Type %q, want application/ld+json", ct)
		}
		var raw []any
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatal(err)
		}
		checkSchemaOrg(t, "claimreviews", raw, true)

		// The disinformation findings verified: 0, 1, 3 and 5 of the
		// scenario, each verified at 2026-03-01 i:00 UTC.
		want := []int{0, 1, 3, 5}
		var got []claimReview
		if err := json.Unmarshal(r.Body, &got); err != nil || len(got) != len(want) {
			t.Fatalf("%v: %d reviews, want %d", err, len(got), len(want))
		}
		for j, i := range want {
			rep, c := reps[i], got[j]
			if c.Context != "https://schema.org" || c.Type != "ClaimReview" || c.Author.Type != "Organization" || !strings.Contains(c.Author.Name, "Bawaslu") {
				t.Errorf("review %d: %+v", j, c)
			}
			if c.ClaimReviewed != rep.Summary {
				t.Errorf("review %d: claimReviewed %q, want %q", j, c.ClaimReviewed, rep.Summary)
			}
			if want := time.Date(2026, 3, 1, i, 0, 0, 0, time.UTC).Format(time.RFC3339); c.DatePublished != want {
				t.Errorf("review %d: datePublished %s, want %s", j, c.DatePublished, want)
			}
			if c.URL != e.URL+"/#/transparency?claim="+rep.ID {
				t.Errorf("review %d: url %s", j, c.URL)
			}
			rt := c.ReviewRating
			if rt.RatingValue != 1 || rt.WorstRating != 1 || rt.BestRating != 5 || rt.AlternateName != "Salah" {
				t.Errorf("review %d: rating %+v", j, rt)
			}
			it := c.ItemReviewed
			if it.Type != "Claim" || len(it.Appearance) != 1 || it.Appearance[0].URL != rep.NormalizedURL || it.FirstAppearance.URL != rep.NormalizedURL ||
				strings.Contains(it.FirstAppearance.URL, "utm_source") {
				t.Errorf("review %d: itemReviewed %+v, want the claim at %s", j, it, rep.NormalizedURL)
			}
			switch region := findings[i].region; {
			case region == "" && it.SpatialCoverage != nil:
				t.Errorf("review %d: national, yet spatialCoverage %+v", j, it.SpatialCoverage)
			case region != "" && (it.SpatialCoverage == nil || it.SpatialCoverage.Identifier != region[:2] || it.SpatialCoverage.Name == ""):
				t.Errorf("review %d: spatialCoverage %+v, want province %s", j, it.SpatialCoverage, region[:2])
			}
		}

		low := strings.ToLower(string(r.Body))
		for _, p := range people {
			for _, needle := range []string{p.User.Email, p.User.Name, p.User.ID, strings.SplitN(p.User.Email, "@", 2)[0]} {
				if strings.Contains(low, strings.ToLower(needle)) {
					t.Errorf("claimreviews hold %q (of %s)", needle, p.User.Role)
				}
			}
		}
		for _, word := range []string{"reporter", "note", "Terverifikasi.", "Bukan pelanggaran."} {
			if strings.Contains(string(r.Body), word) {
				t.Errorf("claimreviews hold %q", word)
			}
		}
		if reps[0].ReporterID == "" || strings.Contains(string(r.Body), reps[0].ReporterID) {
			t.Errorf("claimreviews hold the reporter's id %q", reps[0].ReporterID)
		}
	})
}

// A verification through the API dates its review: datePublished is the
// time of the decision, not of the report's filing nor of a later
// takedown step.
func TestClaimReviewDatedByVerification(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	off := e.User(t, "officer", "pusat", "")
	vol := e.User(t, "volunteer", "relawan", "31")
	rep := submitReport(t, e, tok(vol), reportBody("", "31", ""))
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().UTC().Truncate(time.Second)
	must(t, "verify", call(t, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
	after := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	must(t, "takedown", call(t, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": "requested"}), http.StatusOK, "")
	var got []claimReview
	getJSON(t, e, "/v1/open/claimreviews.json", &got)
	if len(got) != 1 {
		t.Fatalf("%d reviews, want 1", len(got))
	}
	d, err := time.Parse(time.RFC3339, got[0].DatePublished)
	if err != nil || d.Before(before) || d.After(after) {
		t.Errorf("datePublished %s (%v), want between %s and %s", got[0].DatePublished, err, before, after)
	}
}
