package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/region"
)

// searchRegions calls GET /v1/regions?q= and fails the test unless it is 200.
func searchRegions(t testing.TB, e *apptest.Env, query string) []api.Region {
	t.Helper()
	r := call(t, e, "", "GET", "/v1/regions?"+query, nil)
	must(t, "GET /v1/regions?"+query, r, http.StatusOK, "")
	if got := r.Header.Get("Cache-Control"); !strings.Contains(got, "public") {
		t.Errorf("GET /v1/regions?%s: got Cache-Control %q, want public", query, got)
	}
	var out api.Regions
	r.Decode(t, &out)
	return out.Items
}

func codes(rs []api.Region) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	return out
}

// The region picker's endpoint finds by partial name, case and accents
// aside, and by code; one region reads by code; bad queries are 400s.
func TestRegionLookup(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	got := searchRegions(t, e, "q="+url.QueryEscape("Jakarta Sel"))
	if len(got) == 0 || got[0].Code != "3174" || got[0].Name != "Kota Administrasi Jakarta Selatan" ||
		got[0].Level != region.LevelRegency || got[0].ParentCode == nil || *got[0].ParentCode != "31" ||
		got[0].Label != "Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta" {
		t.Fatalf("q=Jakarta Sel: got %+v, want 3174 Kota Administrasi Jakarta Selatan first", got)
	}
	for _, d := range []string{"317401", "317407", "317410"} {
		if !slices.Contains(codes(got), d) {
			t.Errorf("q=Jakarta Sel: got %v, want the districts of 3174 too (%s)", codes(got), d)
		}
	}
	if got := searchRegions(t, e, "q=kabupaten"); len(got) != 20 {
		t.Errorf("q=kabupaten: got %d regions, want the default limit 20", len(got))
	}
	if got := searchRegions(t, e, "q="+url.QueryEscape("jákarta SEL")+"&limit=1"); !slices.Equal(codes(got), []string{"3174"}) {
		t.Errorf("q=jákarta SEL&limit=1: got %v, want [3174]", codes(got))
	}
	if got := searchRegions(t, e, "q=tebet"); len(got) == 0 || got[0].Code != "317401" || got[0].Level != region.LevelDistrict {
		t.Errorf("q=tebet: got %+v, want 317401 first", got)
	}
	if got := searchRegions(t, e, "q=3174&limit=50"); len(got) != 11 || got[0].Code != "3174" {
		t.Errorf("q=3174: got %v, want 3174 and its 10 districts", codes(got))
	}
	if got := searchRegions(t, e, "q=zzzzz"); len(got) != 0 {
		t.Errorf("q=zzzzz: got %v, want none", codes(got))
	}

	r := call(t, e, "", "GET", "/v1/regions/3174", nil)
	must(t, "GET /v1/regions/3174", r, http.StatusOK, "")
	var one api.Region
	r.Decode(t, &one)
	if one.Code != "3174" || one.Name != "Kota Administrasi Jakarta Selatan" {
		t.Errorf("GET /v1/regions/3174: got %+v", one)
	}
	r = call(t, e, "", "GET", "/v1/regions/31", nil)
	must(t, "GET /v1/regions/31", r, http.StatusOK, "")
	r.Decode(t, &one)
	if one.ParentCode != nil || one.Level != region.LevelProvince {
		t.Errorf("GET /v1/regions/31: got %+v, want a province without parent", one)
	}

	// The Go client reads the same.
	c := client.New(e.URL)
	if got, err := c.Regions(t.Context(), "Jakarta Sel", 3); err != nil || len(got) != 3 || got[0].Code != "3174" {
		t.Errorf("client Regions(Jakarta Sel, 3): got %+v, %v, want 3 with 3174 first", got, err)
	}
	if got, err := c.Region(t.Context(), "317401"); err != nil || got.Name != "Tebet" || got.ParentCode == nil || *got.ParentCode != "3174" {
		t.Errorf("client Region(317401): got %+v, %v, want Tebet under 3174", got, err)
	}
	if _, err := c.Region(t.Context(), "3169"); !client.IsProblem(err, "not-found") {
		t.Errorf("client Region(3169): got %v, want not-found", err)
	}

	for _, c := range []string{"3169", "99", "3174011001", "31.74", "abc"} {
		check(t, "GET /v1/regions/"+c, call(t, e, "", "GET", "/v1/regions/"+c, nil), http.StatusNotFound, "not-found")
	}
	for _, q := range []string{"", "q=", "q=%20%20", "q=" + strings.Repeat("a", 101), "q=jakarta&limit=0", "q=jakarta&limit=51", "q=jakarta&limit=x"} {
		check(t, "GET /v1/regions?"+q, call(t, e, "", "GET", "/v1/regions?"+q, nil), http.StatusBadRequest, "bad-query")
	}
}

// A well-formed code of no region is refused with 422 naming region_code
// wherever a region code is taken, and changes nothing; a query filter
// refuses it with 400. Objects carry the name of their region.
func TestRegionCodesExist(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "admin", "")
		officer := e.User(t, api.RoleOfficer, "officer", "")
		vol := e.User(t, api.RoleVolunteer, "relawan", "3174")
		if vol.User.RegionName == nil || *vol.User.RegionName != "Kota Administrasi Jakarta Selatan" {
			t.Errorf("user of 3174: got region_name %v", vol.User.RegionName)
		}
		for _, code := range []string{"3169", "317499", "3169011001", "317499" + "1001"} {
			before := state(t, e) + stateCounts(t, e)
			for _, c := range []struct {
				what, token, method, path string
				body                      map[string]any
			}{
				{"signup", "", "POST", "/v1/auth/signup", map[string]any{"email": "baru-" + code + "@example.org", "password": apptest.Password,
					"name": "Baru", "region_code": code, "privacy_version": e.App.Notice.Version}},
				{"profile", tok(vol), "PATCH", "/v1/me", map[string]any{"region_code": code}},
				{"admin create", tok(admin), "POST", "/v1/admin/users", map[string]any{"email": "staf-" + code + "@bawaslu.go.id", "name": "Staf",
					"role": "officer", "password": apptest.Password, "region_code": code}},
				{"admin patch", tok(admin), "PATCH", "/v1/admin/users/" + officer.User.ID, map[string]any{"region_code": code}},
				{"org", tok(officer), "POST", "/v1/orgs", orgBody(code, "")},
				{"task", tok(officer), "POST", "/v1/tasks", taskBody("", 2, "region_code", code)},
				{"report", tok(vol), "POST", "/v1/reports", reportBody("", code, "")},
				{"alert", tok(officer), "POST", "/v1/alerts", alertBody(code)},
			} {
				r := call(t, e, c.token, c.method, c.path, c.body)
				if !check(t, c.what+" "+code, r, http.StatusUnprocessableEntity, "validation") {
					continue
				}
				if !fieldErr(t, r, "region_code") {
					t.Errorf("%s %s: got errors %+v, want one on region_code", c.what, code, r.Problem(t).Errors)
				}
			}
			if after := state(t, e) + stateCounts(t, e); after != before {
				t.Errorf("code %s: refused calls changed something:\n%s\n%s", code, before, after)
			}
		}
		for _, path := range []string{"/v1/orgs?region=3169", "/v1/reports?region=317499"} {
			check(t, path, call(t, e, tok(officer), "GET", path, nil), http.StatusBadRequest, "bad-query")
		}

		// Names: a real district in each object that has a region.
		r := call(t, e, tok(officer), "POST", "/v1/orgs", orgBody("317401", ""))
		must(t, "org 317401", r, http.StatusCreated, "")
		var o api.Org
		r.Decode(t, &o)
		r = call(t, e, tok(officer), "POST", "/v1/tasks", taskBody("", 2, "region_code", "3174"))
		must(t, "task 3174", r, http.StatusCreated, "")
		var tk api.Task
		r.Decode(t, &tk)
		rep := submitReport(t, e, tok(vol), reportBody("", "317407", ""))
		a := createAlert(t, e, tok(officer), alertBody("31"))
		for _, c := range []struct {
			what, want string
			got        *string
		}{
			{"org", "Tebet", o.RegionName}, {"task", "Kota Administrasi Jakarta Selatan", tk.RegionName},
			{"report", "Kebayoran Baru", rep.RegionName}, {"alert", "Daerah Khusus Ibukota Jakarta", a.RegionName},
		} {
			if c.got == nil || *c.got != c.want {
				t.Errorf("%s: got region_name %v, want %q", c.what, c.got, c.want)
			}
		}
		na := createAlert(t, e, tok(officer), alertBody(""))
		if na.RegionName != nil {
			t.Errorf("national alert: got region_name %q, want null", *na.RegionName)
		}
		type named struct {
			RegionCode string `json:"region_code"`
			RegionName string `json:"region_name"`
		}
		var open []named
		r = call(t, e, "", "GET", "/v1/open/orgs.json", nil)
		r.Decode(t, &open)
		if !slices.Contains(open, named{"317401", "Tebet"}) {
			t.Errorf("open orgs: got %+v, want 317401 Tebet", open)
		}
	})
}

// stateCounts counts the rows the refused calls above might have added.
func stateCounts(t testing.TB, e *apptest.Env) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "tasks", "reports", "alerts"} {
		b.WriteString(" " + table + ":" + strconv.Itoa(e.Count(t, table)))
	}
	var rcs []string
	if err := e.App.DB.NewRaw("SELECT id || ':' || COALESCE(region_code, '') FROM users ORDER BY 1").Scan(t.Context(), &rcs); err != nil {
		t.Fatal(err)
	}
	return b.String() + strings.Join(rcs, ",")
}
