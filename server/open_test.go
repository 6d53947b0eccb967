package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/region"
)

// marked makes an account whose name, email and id are unmistakable in any
// output: role volunteer signs up, other roles are made as by an admin.
func marked(t testing.TB, e *apptest.Env, role, regionCode string) api.AuthResponse {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	name := "Sutarmin Qoyyimah " + tag
	email := "rahasia.q" + tag + "@surel-pribadi.example"
	var rc *string
	if regionCode != "" {
		rc = &regionCode
	}
	ctx := context.Background()
	if role == api.RoleVolunteer {
		u, err := e.App.Auth.Signup(ctx, api.SignupRequest{Email: email, Password: apptest.Password, Name: name, RegionCode: rc, PrivacyVersion: notice.Version})
		if err != nil {
			t.Fatalf("signup: %v", err)
		}
		return u
	}
	staff, err := e.App.Auth.CreateUser(ctx, nil, api.CreateUserRequest{Email: email, Name: name, Role: role, Password: apptest.Password, RegionCode: rc})
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	if _, err := e.App.Auth.Consent(ctx, auth.Principal{UserID: staff.ID, Role: role}, api.ConsentRequest{Version: notice.Version}); err != nil {
		t.Fatalf("consent: %v", err)
	}
	u, err := e.App.Auth.Login(ctx, api.LoginRequest{Email: email, Password: apptest.Password}, "open-test")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return u
}

// dataset is one public answer.
type dataset struct {
	path string
	r    apptest.Response
}

func fetchOpen(t testing.TB, e *apptest.Env, paths ...string) []dataset {
	t.Helper()
	var out []dataset
	for _, p := range paths {
		r := call(t, e, "", "GET", p, nil)
		must(t, "GET "+p, r, http.StatusOK, "")
		out = append(out, dataset{p, r})
	}
	return out
}

var openPaths = []string{"/v1/open", "/v1/open/alerts.csv", "/v1/open/alerts.json", "/v1/open/orgs.csv", "/v1/open/orgs.json",
	"/v1/open/stats.json", "/v1/open/stats.json?group_by=category", "/v1/open/stats.json?group_by=region", "/v1/open/stats.json?group_by=day",
	"/v1/open/takedowns.csv", "/v1/open/takedowns.json", "/v1/open/verified.csv", "/v1/open/verified.json",
	"/v1/open/alerts-issued.csv", "/v1/open/alerts-issued.json", "/v1/open/transparency.json", "/v1/open/claimreviews.json"}

// parseCSV checks RFC 4180 framing (CRLF line ends) and returns the records.
func parseCSV(t testing.TB, what string, body []byte) [][]string {
	t.Helper()
	if n, crlf := bytes.Count(body, []byte("\n")), bytes.Count(body, []byte("\r\n")); n == 0 || n != crlf {
		t.Errorf("%s: %d line feeds, %d of them after a carriage return; want CRLF only", what, n, crlf)
	}
	rd := csv.NewReader(bytes.NewReader(body))
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v", what, err)
	}
	return recs
}

type openAlertRow struct {
	ID               string     `json:"id"`
	Title            string     `json:"title"`
	RegionCode       string     `json:"region_code"`
	RegionName       string     `json:"region_name"`
	Links            []string   `json:"links"`
	Retracted        bool       `json:"retracted"`
	RetractedAt      *time.Time `json:"retracted_at"`
	RetractionReason string     `json:"retraction_reason"`
}

type openStat struct {
	Key       string `json:"key"`
	Reports   int    `json:"reports"`
	Verified  int    `json:"verified"`
	TakenDown int    `json:"taken_down"`
	Takedowns int    `json:"takedown_requests"`
}

// Open data holds no personal data: after the whole path, with every kind
// of account involved, no byte of any dataset names any of them.
func TestOpenDataHasNoPersonalData(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := marked(t, e, api.RoleAdmin, "")
		offNat := marked(t, e, api.RoleOfficer, "")
		off31 := marked(t, e, api.RoleOfficer, "31")
		off32 := marked(t, e, api.RoleOfficer, "32")
		coord := marked(t, e, api.RoleVolunteer, "31")
		reporter := marked(t, e, api.RoleVolunteer, "3171")
		member := marked(t, e, api.RoleVolunteer, "3171")
		vol32 := marked(t, e, api.RoleVolunteer, "32")
		people := []api.AuthResponse{admin, offNat, off31, off32, coord, reporter, member, vol32}

		o := createOrg(t, e, tok(admin), "31", coord.User.Email)
		code := invite(t, e, tok(coord), o, 10).Code
		for _, v := range []api.AuthResponse{reporter, member} {
			must(t, "join", join(t, e, tok(v), o, code), http.StatusCreated, "")
		}
		oB := createOrg(t, e, tok(offNat), "32", "")

		// The whole path, twice over, with notes and a takedown.
		task := createTask(t, e, tok(coord), taskBody(o.ID, 3))
		c := claimTask(t, e, tok(reporter), task.ID)
		body := reportBody("", "3171", "")
		body["claim_id"] = c.ID
		rep := submitReport(t, e, tok(reporter), body)
		must(t, "endorse", call(t, e, tok(coord), "POST", reportPath(rep.ID, "/review"), map[string]any{"decision": "endorse", "note": "Sudah dicek."}), http.StatusOK, "")
		must(t, "verify", call(t, e, tok(off31), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified", "note": "Terverifikasi."}), http.StatusOK, "")
		for _, s := range []string{"requested", "taken_down"} {
			must(t, "takedown "+s, call(t, e, tok(off31), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": s, "platform_ref": "X-2029-1"}), http.StatusOK, "")
		}
		rep2 := submitReport(t, e, tok(member), reportBody(o.ID, "3171", ""))
		must(t, "reject", call(t, e, tok(coord), "POST", reportPath(rep2.ID, "/review"), map[string]any{"decision": "reject", "note": "Tidak relevan."}), http.StatusOK, "")
		submitReport(t, e, tok(vol32), map[string]any{"url": "https://www.tiktok.com/@akun/video/1", "platform": "tiktok", "category": "money_politics",
			"summary": "Video pembagian amplop menjelang hari pemungutan.", "region_code": "32", "observed_at": time.Now().Add(-2 * time.Hour).UTC()})
		feed := openFeed(t, e, tok(reporter), nil)
		a31 := createAlert(t, e, tok(off31), alertBody("31", rep.ID))
		aNat := createAlert(t, e, tok(offNat), alertBody(""))
		a32 := createAlert(t, e, tok(off32), alertBody("32"))
		must(t, "retract", call(t, e, tok(off32), "POST", "/v1/alerts/"+a32.ID+"/retraction", map[string]any{"reason": "Salah sasaran wilayah."}), http.StatusOK, "")
		f, _ := feed.await("alert.published", "id", a31.ID)
		feed.ack(f.Stream, f.Seq)
		feed.barrier()
		must(t, "suspend B", call(t, e, tok(offNat), "POST", orgPath(oB, "/accreditation"), accreditation("suspend", "Laporan akhir belum diserahkan.", nil)), http.StatusOK, "")

		sets := fetchOpen(t, e, openPaths...)
		sets = append(sets, fetchOpen(t, e, "/v1/alerts", "/v1/alerts/"+a31.ID, "/v1/orgs", "/v1/orgs/"+o.ID)...)
		for _, d := range sets {
			low := strings.ToLower(string(d.r.Body))
			for _, p := range people {
				for _, needle := range []string{p.User.Email, p.User.Name, p.User.ID, strings.SplitN(p.User.Email, "@", 2)[0], p.User.Name[len(p.User.Name)-10:]} {
					if strings.Contains(low, strings.ToLower(needle)) {
						t.Errorf("%s holds %q (of %s %s)", d.path, needle, p.User.Role, p.User.Name)
					}
				}
			}
		}

		byPath := map[string][]byte{}
		for _, d := range sets {
			byPath[d.path] = d.r.Body
			if strings.HasPrefix(d.path, "/v1/open/") && strings.HasSuffix(strings.SplitN(d.path, "?", 2)[0], ".json") {
				ct := d.r.Header.Get("Content-Type")
				if !json.Valid(d.r.Body) || !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/ld+json") {
					t.Errorf("%s: not JSON (%s)", d.path, d.r.Header.Get("Content-Type"))
				}
			}
		}
		var index struct {
			Licence  string `json:"licence"`
			Datasets []struct {
				Name    string   `json:"name"`
				Formats []string `json:"formats"`
				Fields  []struct {
					Name string `json:"name"`
				} `json:"fields"`
			} `json:"datasets"`
		}
		if err := json.Unmarshal(byPath["/v1/open"], &index); err != nil || !strings.Contains(index.Licence, "CC BY 4.0") || len(index.Datasets) != 8 {
			t.Errorf("/v1/open: %v %+v", err, index)
		}
		fieldsOf := map[string][]string{}
		for _, ds := range index.Datasets {
			for _, f := range ds.Fields {
				fieldsOf[ds.Name] = append(fieldsOf[ds.Name], f.Name)
			}
		}

		// Alerts: CSV and JSON agree, all three, the retraction flagged.
		recs := parseCSV(t, "alerts.csv", byPath["/v1/open/alerts.csv"])
		if len(recs) != 4 || !slices.Equal(recs[0], fieldsOf["alerts"]) {
			t.Fatalf("alerts.csv: %d records, header %v; want 4 with header %v", len(recs), recs[0], fieldsOf["alerts"])
		}
		var alerts []openAlertRow
		if err := json.Unmarshal(byPath["/v1/open/alerts.json"], &alerts); err != nil || len(alerts) != 3 {
			t.Fatalf("alerts.json: %v, %d alerts", err, len(alerts))
		}
		col := func(name string) int { return slices.Index(recs[0], name) }
		for i, a := range alerts {
			row := recs[i+1]
			if row[col("id")] != a.ID || row[col("title")] != a.Title || row[col("region_code")] != a.RegionCode ||
				row[col("retracted")] != strconv.FormatBool(a.Retracted) {
				t.Errorf("alert %d: CSV %v, JSON %+v", i, row, a)
			}
			switch a.ID {
			case a31.ID:
				if a.RegionCode != "31" || a.RegionName == "" || a.Retracted {
					t.Errorf("alert of 31: %+v", a)
				}
			case aNat.ID:
				if a.RegionCode != "" || a.Retracted {
					t.Errorf("national alert: %+v", a)
				}
			case a32.ID:
				if !a.Retracted || a.RetractedAt == nil || row[col("retracted_at")] == "" || a.RetractionReason == "" {
					t.Errorf("retracted alert: %+v / %v", a, row)
				}
			default:
				t.Errorf("unknown alert %s", a.ID)
			}
		}
		if alerts[0].ID != a31.ID || alerts[2].ID != a32.ID {
			t.Errorf("alerts are not oldest first: %s %s %s", alerts[0].ID, alerts[1].ID, alerts[2].ID)
		}

		// Orgs: both, with member counts.
		recs = parseCSV(t, "orgs.csv", byPath["/v1/open/orgs.csv"])
		if len(recs) != 3 || !slices.Equal(recs[0], fieldsOf["orgs"]) {
			t.Fatalf("orgs.csv: %d records, header %v; want 3 with header %v", len(recs), recs[0], fieldsOf["orgs"])
		}
		var orgs []struct {
			ID          string `json:"id"`
			Status      string `json:"status"`
			MemberCount int    `json:"member_count"`
		}
		if err := json.Unmarshal(byPath["/v1/open/orgs.json"], &orgs); err != nil || len(orgs) != 2 {
			t.Fatalf("orgs.json: %v, %d orgs", err, len(orgs))
		}
		for i, x := range orgs {
			want := map[string][2]any{o.ID: {"accredited", 3}, oB.ID: {"suspended", 0}}[x.ID]
			if x.Status != want[0] || x.MemberCount != want[1] || recs[i+1][0] != x.ID {
				t.Errorf("org %s: %+v, want %v", x.ID, x, want)
			}
		}

		// Stats: three reports, one verified, one taken down, per grouping.
		for group, keys := range map[string][]string{"category": {"disinformation", "money_politics"}, "region": {"31", "32"},
			"day": {time.Now().UTC().Format("2006-01-02")}} {
			var st struct {
				GroupBy string     `json:"group_by"`
				Items   []openStat `json:"items"`
			}
			if err := json.Unmarshal(byPath["/v1/open/stats.json?group_by="+group], &st); err != nil {
				t.Fatalf("stats by %s: %v", group, err)
			}
			var sum openStat
			var got []string
			for _, it := range st.Items {
				got = append(got, it.Key)
				sum.Reports += it.Reports
				sum.Verified += it.Verified
				sum.TakenDown += it.TakenDown
				sum.Takedowns += it.Takedowns
			}
			if st.GroupBy != group || !slices.Equal(got, keys) || sum != (openStat{Reports: 3, Verified: 1, TakenDown: 1, Takedowns: 1}) {
				t.Errorf("stats by %s: %+v, want keys %v and 3 reports, 1 verified, 1 taken down", group, st, keys)
			}
		}
		check(t, "stats by user", call(t, e, "", "GET", "/v1/open/stats.json?group_by=reporter", nil), http.StatusBadRequest, "")
	})
}

// The exports carry validators: ETag and Last-Modified; a matching
// If-None-Match is a 304 without a body; a new or retracted alert changes
// the alerts' ETag.
func TestOpenDataValidators(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		a := createAlert(t, e, tok(w.off31), alertBody("31"))
		etags := map[string]string{}
		for _, p := range []string{"/v1/open/alerts.csv", "/v1/open/alerts.json", "/v1/open/orgs.csv", "/v1/open/orgs.json"} {
			r := call(t, e, "", "GET", p, nil)
			must(t, p, r, http.StatusOK, "")
			etag, lm := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
			if etag == "" || lm == "" {
				t.Errorf("%s: ETag %q Last-Modified %q", p, etag, lm)
				continue
			}
			if _, err := http.ParseTime(lm); err != nil {
				t.Errorf("%s: Last-Modified %q: %v", p, lm, err)
			}
			etags[p] = etag
			r = e.Do(t, "GET", p, nil, "If-None-Match", etag)
			if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
				t.Errorf("%s with If-None-Match: %d, %d bytes, ETag %q", p, r.Status, len(r.Body), r.Header.Get("ETag"))
			}
			if r := e.Do(t, "GET", p, nil, "If-None-Match", `"something-else"`); r.Status != http.StatusOK {
				t.Errorf("%s with another ETag: %d", p, r.Status)
			}
		}
		changed := func(what string) {
			t.Helper()
			for _, p := range []string{"/v1/open/alerts.csv", "/v1/open/alerts.json"} {
				r := e.Do(t, "GET", p, nil, "If-None-Match", etags[p])
				if r.Status != http.StatusOK || r.Header.Get("ETag") == etags[p] || r.Header.Get("ETag") == "" {
					t.Errorf("%s after %s: %d with ETag %q (was %q)", p, what, r.Status, r.Header.Get("ETag"), etags[p])
				}
				etags[p] = r.Header.Get("ETag")
			}
		}
		createAlert(t, e, tok(w.offNat), alertBody(""))
		changed("a new alert")
		must(t, "retract", call(t, e, tok(w.off31), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": "Sudah diklarifikasi."}), http.StatusOK, "")
		changed("a retraction")
		// A retraction stamped before the latest publication but committed
		// after it (its clock read first): the latest change's time does
		// not move, the ETag must.
		b := createAlert(t, e, tok(w.off31), alertBody("31"))
		createAlert(t, e, tok(w.offNat), alertBody(""))
		changed("two new alerts")
		exec(t, e, "UPDATE alerts SET retracted_at = ?, retraction_reason = 'Salah wilayah.' WHERE id = ?", b.PublishedAt.Add(time.Millisecond), b.ID)
		changed("a retraction committed out of its clock's order")
		// Nor does If-Modified-Since alone tell a copy current.
		for _, p := range []string{"/v1/open/alerts.csv", "/v1/open/alerts.json"} {
			if r := e.Do(t, "GET", p, nil, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); r.Status != http.StatusOK {
				t.Errorf("%s with If-Modified-Since alone: %d, want 200", p, r.Status)
			}
		}
		// GET /v1/alerts needs no login.
		r := call(t, e, "", "GET", "/v1/alerts", nil)
		must(t, "GET /v1/alerts anonymously", r, http.StatusOK, "")
	})
}

// The registry's validator follows what orgs.csv/.json show: a member
// joining changes member_count, so a client revalidating with the old ETag
// must get the new body, not a 304.
func TestOpenOrgsETagFollowsMemberCount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		for _, p := range []string{"/v1/open/orgs.json", "/v1/open/orgs.csv"} {
			r := call(t, e, "", "GET", p, nil)
			must(t, p, r, http.StatusOK, "")
			etag := r.Header.Get("ETag")
			if _, err := newMember(e, w.orgA.ID, w.inviteA, "3171"); err != nil {
				t.Fatal(err)
			}
			r2 := e.Do(t, "GET", p, nil, "If-None-Match", etag)
			if r2.Status == http.StatusNotModified {
				fresh := call(t, e, "", "GET", p, nil)
				t.Errorf("%s: 304 for ETag %s after a member joined, though the body changed:\n before %s\n now    %s", p, etag, r.Body, fresh.Body)
			}
		}
	})
}

// ---- benchmark ---------------------------------------------------------------

// peakHeap samples HeapInuse every 10 ms until stop is called, which
// returns the largest sample.
func peakHeap() (stop func() uint64) {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

// seedAlerts inserts n alerts straight into the database: multi-row
// INSERTs of 1000 rows, ten to a transaction. On PostgreSQL it uses a pool
// of its own, closed afterwards: pgx caches every statement it prepares
// (512 per connection), and these are half a megabyte each, which would
// otherwise stay in the heap the benchmark measures.
func seedAlerts(b *testing.B, e *apptest.Env, databaseURL string, n int) {
	b.Helper()
	ctx := context.Background()
	d := e.App.DB
	if databaseURL != "" {
		var err error
		if d, err = db.Open(ctx, db.Options{URL: databaseURL, MaxOpenConns: 1}); err != nil {
			b.Fatal(err)
		}
		defer d.Close()
	}
	regions := []string{"31", "32", "3171", "3273", ""}
	cat := "disinformation"
	start := time.Now().Add(-time.Duration(n) * time.Second).UTC().Truncate(time.Microsecond)
	batch := make([]alert.Alert, 0, 1000)
	for done := 0; done < n; {
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for range 10 {
				if done >= n {
					return nil
				}
				batch = batch[:0]
				for i := done; i < min(done+1000, n); i++ {
					a := alert.Alert{ID: auth.NewID(), Title: fmt.Sprintf("Hoaks pemindahan TPS #%d", i),
						Body:     "Informasi bahwa TPS dipindah adalah tidak benar. Periksa lokasi TPS di situs resmi KPU, \"cekdptonline\".",
						Severity: "warning", Category: &cat, ReportIDs: "[]", Links: `["https://www.kpu.go.id/berita"]`,
						IssuedBy: "00000000-0000-7000-8000-000000000000", PublishedAt: start.Add(time.Duration(i) * time.Second)}
					if r := regions[i%len(regions)]; r != "" {
						a.RegionCode = &r
					}
					a.Stream = region.Stream(a.Region())
					if i%100 == 0 {
						at := a.PublishedAt.Add(time.Hour)
						a.RetractedAt, a.RetractionReason = &at, "Sudah diklarifikasi."
					}
					batch = append(batch, a)
				}
				if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
					return err
				}
				done += len(batch)
			}
			return nil
		})
		if err != nil {
			b.Fatalf("seed alerts: %v", err)
		}
	}
}

// BenchmarkOpenAlertsExport measures GET /v1/open/alerts.csv and .json over
// a million alerts: time per export and the peak heap in use (server and
// client are one process; the client counts rows while streaming). The data
// is made here, so plain `go test` never builds it; JARIMU_BENCH_ALERTS
// overrides the size and JARIMU_BENCH_EXPORT_POSTGRES=1 adds PostgreSQL.
func BenchmarkOpenAlertsExport(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("JARIMU_BENCH_ALERTS")); err == nil && v > 0 {
		n = v
	}
	backends := []dbtest.Backend{dbtest.SQLite}
	if os.Getenv("JARIMU_BENCH_EXPORT_POSTGRES") == "1" && slices.Contains(dbtest.Backends(b), dbtest.Postgres) {
		backends = append(backends, dbtest.Postgres)
	}
	for _, backend := range backends {
		b.Run(string(backend), func(b *testing.B) {
			var databaseURL string
			e := apptest.Start(b, backend, func(o *app.Options) { databaseURL = o.DatabaseURL })
			t0 := time.Now()
			seedAlerts(b, e, databaseURL, n)
			b.Logf("%s: seeded %d alerts in %v", backend, n, time.Since(t0).Round(time.Millisecond))
			hc := &http.Client{}
			// export GETs the dataset and counts its rows while streaming it.
			export := func(b *testing.B, format string) (rows int, size int64) {
				resp, err := hc.Get(e.URL + "/v1/open/alerts." + format)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("export: %v %v", err, resp)
				}
				defer resp.Body.Close()
				cr := &countingReader{r: resp.Body}
				rows, err = countRows(format, cr)
				if err != nil || rows != n {
					b.Fatalf("export %s: %d rows (%v), want %d", format, rows, err, n)
				}
				return rows, cr.n
			}
			for _, format := range []string{"csv", "json"} {
				b.Run(format, func(b *testing.B) {
					var peak uint64
					var cpu time.Duration
					for range b.N {
						// Timed, without sampling: ReadMemStats stops the
						// world, which slows a busy machine noticeably.
						c0 := cpuTime()
						_, size := export(b, format)
						cpu += cpuTime() - c0
						b.SetBytes(size)
						// Sampled, untimed: the peak heap of the same export.
						b.StopTimer()
						runtime.GC()
						stop := peakHeap()
						export(b, format)
						peak = max(peak, stop())
						b.StartTimer()
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
					b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
				})
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// cpuTime is the CPU time (user and system) this process has used: with
// client, server and database in one process on a shared machine, it tells
// the work apart from the waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countRows streams an export and counts its data rows.
func countRows(format string, body io.Reader) (int, error) {
	if format == "csv" {
		rd := csv.NewReader(body)
		rd.ReuseRecord = true
		n := -1 // the header
		for {
			_, err := rd.Read()
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	dec := json.NewDecoder(body)
	if tk, err := dec.Token(); err != nil || tk != json.Delim('[') {
		return 0, fmt.Errorf("want an array, got %v %v", tk, err)
	}
	n := 0
	for dec.More() {
		var row struct {
			ID string `json:"id"`
		}
		if err := dec.Decode(&row); err != nil {
			return n, err
		}
		if row.ID == "" {
			return n, fmt.Errorf("row %d without id", n)
		}
		n++
	}
	_, err := dec.Token()
	return n, err
}
