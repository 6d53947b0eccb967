package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/web"
)

// staticFiles reads the console's sources from disk (the same files the
// package embeds), by path under static/.
func staticFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(strings.TrimPrefix(p, "static"+string(filepath.Separator)))] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func get(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestConsoleIsServedByTheApp(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	h := e.App.Server
	r := get(t, h, "GET", "/")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte(`src="/app/js/main.js"`)) {
		t.Fatalf("GET /: got %d %s %.80s, want the app shell", r.StatusCode, r.Header.Get("Content-Type"), body)
	}
	if got := r.Header.Get("Content-Security-Policy"); got != web.CSP {
		t.Errorf("GET / CSP: got %q, want %q", got, web.CSP)
	}
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(web.CSP, want) || strings.Contains(web.CSP, "unsafe") {
			t.Errorf("the CSP %q lacks %q or allows something unsafe", web.CSP, want)
		}
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET /: the server's security headers are missing: %v", r.Header)
	}
	// The API keeps its own policy.
	if got := get(t, h, "GET", "/v1/orgs").Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("GET /v1/orgs CSP: got %q, want the API's", got)
	}

	js := get(t, h, "GET", "/app/js/main.js", "Accept-Encoding", "gzip, br")
	if js.StatusCode != 200 || js.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET main.js: got %d %q %q, want gzipped JavaScript", js.StatusCode, js.Header.Get("Content-Encoding"), js.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(js.Body)
	if err != nil {
		t.Fatal(err)
	}
	if src, _ := io.ReadAll(zr); !bytes.Contains(src, []byte("hashchange")) {
		t.Error("main.js does not unzip to the script")
	}
	if again := get(t, h, "GET", "/app/js/main.js", "Accept-Encoding", "gzip", "If-None-Match", js.Header.Get("ETag")); again.StatusCode != 304 {
		t.Errorf("revalidation: got %d, want 304", again.StatusCode)
	}
	if plain := get(t, h, "GET", "/app/js/main.js"); plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("ETag") == js.Header.Get("ETag") {
		t.Error("a client without gzip got the gzipped answer or its ETag")
	}
	if head := get(t, h, "HEAD", "/app/css/app.css"); head.StatusCode != 200 || head.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD app.css: got %d", head.StatusCode)
	}
	if r := get(t, h, "GET", "/app/js/nothing.js"); r.StatusCode != 404 {
		t.Errorf("GET a missing asset: got %d, want 404", r.StatusCode)
	}
	if r := get(t, h, "POST", "/"); r.StatusCode != 405 {
		t.Errorf("POST /: got %d, want 405", r.StatusCode)
	}
	if r := get(t, h, "GET", "/index.html"); r.StatusCode != 404 {
		t.Errorf("GET /index.html: got %d, want 404 (the shell is at /)", r.StatusCode)
	}

	m := get(t, h, "GET", "/manifest.webmanifest")
	var manifest struct {
		StartURL string `json:"start_url"`
		Display  string `json:"display"`
		Icons    []struct{ Src, Sizes, Type string }
	}
	if err := json.NewDecoder(m.Body).Decode(&manifest); err != nil || m.Header.Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %v %q", err, m.Header.Get("Content-Type"))
	}
	if manifest.StartURL != "/" || manifest.Display != "standalone" || len(manifest.Icons) < 2 {
		t.Errorf("manifest: got %+v", manifest)
	}
	for _, ic := range manifest.Icons {
		if r := get(t, h, "GET", ic.Src); r.StatusCode != 200 || r.Header.Get("Content-Type") != ic.Type {
			t.Errorf("icon %s: got %d %s, want %s", ic.Src, r.StatusCode, r.Header.Get("Content-Type"), ic.Type)
		}
	}
}

// The service worker is stamped with the version and the shell to keep:
// every app file, and nothing of the API.
func TestServiceWorkerShell(t *testing.T) {
	c, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, c, "GET", "/sw.js")
	body, _ := io.ReadAll(r.Body)
	sw := string(body)
	if strings.Contains(sw, "__VERSION__") || strings.Contains(sw, "__SHELL__") || !strings.Contains(sw, c.Version()) {
		t.Fatalf("sw.js is not stamped: %.300s", sw)
	}
	for _, p := range c.Paths() {
		inShell := strings.Contains(sw, `"`+p+`"`)
		want := p != "/sw.js"
		if inShell != want {
			t.Errorf("%s in the shell list: got %v, want %v", p, inShell, want)
		}
	}
	if strings.Contains(sw, `"/v1/`) {
		t.Error("the shell lists an API path")
	}
}

var (
	scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineOn  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

// No inline script, style or handler anywhere, and no HTML sink in the
// scripts: data reaches the page only as text.
func TestNoInlineCodeNorHTMLSinks(t *testing.T) {
	files := staticFiles(t)
	index := files["index.html"]
	for _, m := range scriptTag.FindAllStringSubmatch(index, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("index.html has an inline script: %s", m[0])
		}
	}
	if inlineOn.MatchString(index) || strings.Contains(index, "style=") || strings.Contains(index, "<style") {
		t.Error("index.html has an inline handler or style")
	}
	sinks := regexp.MustCompile(`\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\b|setAttribute\(\s*['"]on|setTimeout\(\s*['"]|srcdoc`)
	for name, src := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		if loc := sinks.FindStringIndex(src); loc != nil {
			t.Errorf("%s uses an HTML or code sink: %q", name, src[loc[0]:loc[1]])
		}
		if strings.Contains(src, "http://") && !strings.Contains(name, "i18n") {
			for _, line := range strings.Split(src, "\n") {
				// The SVG namespace is a name that is never fetched.
				line = strings.ReplaceAll(line, "'http://www.w3.org/2000/svg'", "")
				if strings.Contains(line, "http://") && !strings.Contains(line, "'http:'") && !strings.Contains(line, "^https?") {
					t.Errorf("%s names a third-party address: %s", name, strings.TrimSpace(line))
				}
			}
		}
	}
}

var (
	dictKey = regexp.MustCompile(`(?m)^\s*'([^']+)':`)
	tCall   = regexp.MustCompile(`\bt\('([a-zA-Z0-9_.-]+)'`)
)

func dictionary(t *testing.T, src string) []string {
	t.Helper()
	var keys []string
	for _, m := range dictKey.FindAllStringSubmatch(src, -1) {
		keys = append(keys, m[1])
	}
	sort.Strings(keys)
	if d := slices.Compact(slices.Clone(keys)); len(d) != len(keys) {
		t.Error("a language file repeats a key")
	}
	return keys
}

// Both languages have exactly the same keys; every string the scripts ask
// for exists, and so does every value of the API's enums they translate.
func TestStringsComplete(t *testing.T) {
	files := staticFiles(t)
	id := dictionary(t, files["app/i18n/id.js"])
	en := dictionary(t, files["app/i18n/en.js"])
	if !slices.Equal(id, en) {
		for _, k := range id {
			if !slices.Contains(en, k) {
				t.Errorf("en.js lacks %q", k)
			}
		}
		for _, k := range en {
			if !slices.Contains(id, k) {
				t.Errorf("id.js lacks %q", k)
			}
		}
	}
	if len(id) < 200 {
		t.Fatalf("only %d strings were read from id.js", len(id))
	}
	for name, src := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range tCall.FindAllStringSubmatch(src, -1) {
			if !slices.Contains(id, m[1]) {
				t.Errorf("%s asks for the string %q, which id.js lacks", name, m[1])
			}
		}
	}
	families := map[string][]string{
		"category":          api.Categories,
		"platform":          api.Platforms,
		"kind":              api.Kinds,
		"outcome":           api.Outcomes,
		"alert.severity":    api.Severities,
		"org.status":        {api.OrgAccredited, api.OrgSuspended, api.OrgRevoked, api.OrgExpired},
		"membership.status": {api.MembershipPending, api.MembershipActive, api.MembershipRejected, api.MembershipRemoved, api.MembershipLeft},
		"membership.role":   {api.RoleMember, api.RoleCoordinator},
		"role":              {api.RoleVolunteer, api.RoleOfficer, api.RoleAdmin},
		"report.status":     {api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected, api.ReportVerified, api.ReportDuplicate},
		"takedown":          {api.TakedownRequested, api.TakedownDone, api.TakedownRefused},
		"claim.status":      {api.ClaimActive, api.ClaimReleased, api.ClaimExpired, api.ClaimCompleted},
		"task.status":       {api.TaskOpen, api.TaskClosed},
		"feed.state":        {"idle", "connecting", "open", "reconnecting", "offline"},
		"outbox.state":      {"waiting", "sending", "failed"},
	}
	for prefix, values := range families {
		for _, v := range values {
			if !slices.Contains(id, prefix+"."+v) {
				t.Errorf("id.js lacks %q", prefix+"."+v)
			}
		}
	}
	// The scripts' own lists of the enums match the API's.
	lists := map[string][]string{"CATEGORIES": api.Categories, "PLATFORMS": api.Platforms, "KINDS": api.Kinds}
	for name, want := range lists {
		m := regexp.MustCompile(`export const ` + name + ` = \[([^\]]*)\]`).FindStringSubmatch(files["app/js/views/volunteer.js"])
		if m == nil {
			t.Errorf("volunteer.js has no %s", name)
			continue
		}
		var got []string
		for _, q := range regexp.MustCompile(`'([^']+)'`).FindAllStringSubmatch(m[1], -1) {
			got = append(got, q[1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want the API's %v", name, got, want)
		}
	}
}

// The console's provinces are the region package's, by code and name.
func TestProvincesMatchRegion(t *testing.T) {
	src := staticFiles(t)["app/js/regions.js"]
	var got []region.Province
	for _, m := range regexp.MustCompile(`\["(\d\d)", "([^"]+)"\]`).FindAllStringSubmatch(src, -1) {
		got = append(got, region.Province{Code: m[1], Name: m[2]})
	}
	if want := region.Provinces(); !slices.Equal(got, want) {
		t.Errorf("regions.js provinces: got %v, want %v", got, want)
	}
}

// Even unzipped, and with every view loaded, the console stays well within
// the first-load budget (the browser test measures the real transfer).
func TestAssetSizes(t *testing.T) {
	files := staticFiles(t)
	var raw, zipped int
	for name, src := range files {
		if strings.HasSuffix(name, ".png") {
			continue
		}
		raw += len(src)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(src))
		zw.Close()
		zipped += buf.Len()
	}
	t.Logf("all text assets: %d bytes, %d gzipped", raw, zipped)
	if raw > rawAssetBudget {
		t.Errorf("the text assets add up to %d bytes, over the %d budget before gzip", raw, rawAssetBudget)
	}
	// The worst first visit: the page, then the service worker fetching the
	// whole shell for offline use, as served (gzipped where it pays).
	c, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	for _, p := range c.Paths() {
		b, _ := io.ReadAll(get(t, c, "GET", p, "Accept-Encoding", "gzip").Body)
		served += len(b)
	}
	t.Logf("every asset as served: %d bytes", served)
	if served > firstLoadBudget {
		t.Errorf("serving every asset once takes %d bytes, over the %d budget", served, firstLoadBudget)
	}
}
