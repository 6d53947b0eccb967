package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/notice"
)

// A command run again with the same --key is done once and prints the
// first answer again, also when its request holds times counted from now
// (--expires 7d, --due 3d, --until 30d, report's default --observed) or a
// password it generates: the rerun sends the very same request.
func TestCLIKeyedRerunIsDoneOnce(t *testing.T) {
	w := newWorld(t)
	w.volunteer("dewi@example.org")
	admin, officer, dewi := w.person("admin@bawaslu.go.id"), w.person("jkt@bawaslu.go.id"), w.person("dewi@example.org")
	var org api.Org
	admin.mustJSON(&org, "org", "register", "--name", "Perludem Jakarta", "--number", "B-12/2029", "--until", "2d",
		"--region", "31", "--coordinator", "dewi@example.org")

	type keyedRun struct {
		who   *user
		stdin string
		args  []string
		out   string
	}
	runs := []*keyedRun{
		{who: dewi, args: []string{"invite", "create", "--uses", "5", "--key", "invite-1"}},
		{who: dewi, args: []string{"task", "create", "--org", org.ID, "--title", "Pantau hoaks TPS Jakarta", "--kind", "social_media",
			"--platform", "x", "--target", "#pemilu", "--starts", "2h", "--due", "3d", "--key", "task-1"}},
		{who: admin, args: []string{"org", "register", "--name", "JPPR DKI", "--number", "B-7/2029", "--until", "30d", "--region", "31", "--key", "org-1"}},
		{who: officer, args: []string{"org", "renew", org.ID, "--until", "60d", "--reason", "akreditasi diperpanjang", "--key", "renew-1"}},
		{who: dewi, args: []string{"report", "--url", "https://x.com/akun/status/77", "--platform", "x", "--category", "disinformation",
			"--summary", "Hoaks soal jadwal pencoblosan", "--key", "report-1"}},
		{who: admin, stdin: "\n", args: []string{"user", "create", "--email", "bali@bawaslu.go.id", "--name", "Bawaslu Bali",
			"--role", "officer", "--region", "51", "--key", "user-1", "--json"}},
		{who: admin, stdin: "\n", args: []string{"user", "create", "--email", "ntb@bawaslu.go.id", "--name", "Bawaslu NTB",
			"--role", "officer", "--region", "52", "--key", "user-2"}},
	}
	for _, r := range runs {
		out, err := r.who.runIn(r.stdin, r.args...)
		if err != nil {
			t.Fatalf("jarimu %s: %v", strings.Join(r.args, " "), err)
		}
		r.out = out
	}
	time.Sleep(1100 * time.Millisecond) // "now" is another second
	for _, r := range runs {
		out, err := r.who.runIn(r.stdin, r.args...)
		if err != nil {
			t.Errorf("jarimu %s, run again: %v", strings.Join(r.args, " "), err)
			continue
		}
		if out != r.out {
			t.Errorf("jarimu %s, run again: got\n%s\nwant the first answer again:\n%s", strings.Join(r.args, " "), out, r.out)
		}
	}

	// The password generated works, and the rerun showed it again.
	var made struct {
		api.User
		Password string `json:"password"`
	}
	if err := jsonUnmarshal(runs[5].out, &made); err != nil || len(made.Password) < 20 {
		t.Fatalf("user create --json: got %q, %v", runs[5].out, err)
	}
	if _, err := client.New(w.url).Login(context.Background(), "bali@bawaslu.go.id", made.Password); err != nil {
		t.Errorf("login with the password generated: %v", err)
	}
	password := fieldOf(runs[6].out, "password")
	password, _, _ = strings.Cut(password, " ")
	if _, err := client.New(w.url).Login(context.Background(), "ntb@bawaslu.go.id", password); err != nil {
		t.Errorf("login with the password generated (%q): %v", password, err)
	}

	// One invite, task, organisation and report each.
	var tasks []api.Task
	dewi.mustJSON(&tasks, "tasks", "--org", org.ID)
	var reports []api.Report
	dewi.mustJSON(&reports, "reports")
	var orgs []api.Org
	admin.mustJSON(&orgs, "orgs")
	if len(tasks) != 1 || len(reports) != 1 || len(orgs) != 2 {
		t.Errorf("got %d tasks, %d reports, %d organisations; want 1, 1 and 2", len(tasks), len(reports), len(orgs))
	}

	// The keys are remembered next to the credentials, for the user only.
	st, err := os.Stat(filepath.Join(dewi.dir, retriesFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: got %v, %v; want mode 600", retriesFile, st, err)
	}

	// The same key with other flags is another request: the server
	// refuses it.
	dewi.mustFail([]string{"invite", "create", "--uses", "6", "--key", "invite-1"}, "idempotency-key-reused")
}

// A command with --key refused for a bad flag remembers nothing: run again
// with the flag put right, it counts its times from its own moment. And a
// first run is lent only to the reruns of the same command and request:
// another account's user create, with the same key in the same config dir,
// gets a password of its own, not the one generated for the first.
func TestCLIKeyRemembersOnlyItsRequest(t *testing.T) {
	w := newWorld(t)
	w.volunteer("dewi@example.org")
	admin, dewi := w.person("admin@bawaslu.go.id"), w.person("dewi@example.org")
	var org api.Org
	admin.mustJSON(&org, "org", "register", "--name", "Perludem Jakarta", "--number", "B-12/2029", "--until", "2d",
		"--region", "31", "--coordinator", "dewi@example.org")

	dewi.mustUsage([]string{"invite", "create", "--expires", "soon", "--key", "invite-k"}, `--expires "soon"`)
	if b, err := os.ReadFile(filepath.Join(dewi.dir, retriesFile)); err == nil && strings.Contains(string(b), "invite-k") {
		t.Errorf("a command refused for a bad flag left its key in %s:\n%s", retriesFile, b)
	}
	time.Sleep(1100 * time.Millisecond) // "now" is another second
	from := time.Now().Truncate(time.Second)
	var inv api.Invite
	dewi.mustJSON(&inv, "invite", "create", "--expires", "1h", "--key", "invite-k")
	if want := from.Add(time.Hour); inv.ExpiresAt.Before(want) {
		t.Errorf("invite create --expires 1h after a refused run: got expiry %v, want %v or later", inv.ExpiresAt, want)
	}

	userCreate := func(email string) string {
		t.Helper()
		out, err := admin.runIn("\n", "user", "create", "--email", email, "--name", "Bawaslu", "--role", "officer", "--key", "user-k", "--json")
		var made struct {
			Password string `json:"password"`
		}
		if err != nil || jsonUnmarshal(out, &made) != nil || made.Password == "" {
			t.Fatalf("user create --email %s: got %q, %v", email, out, err)
		}
		return made.Password
	}
	first := userCreate("bali@bawaslu.go.id")
	if _, err := admin.runIn(testPassword+"\n", "user", "create", "--email", "admin2@bawaslu.go.id", "--name", "Admin Dua", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.runIn(testPassword+"\n", "login", "--email", "admin2@bawaslu.go.id"); err != nil {
		t.Fatal(err)
	}
	admin.must("consent", "--accept", notice.Version)
	second := userCreate("ntb@bawaslu.go.id")
	if second == first {
		t.Errorf("user create of another account with the same key got the password generated for the first: %q", second)
	}
	if _, err := client.New(w.url).Login(context.Background(), "ntb@bawaslu.go.id", second); err != nil {
		t.Errorf("login with the password generated: %v", err)
	}
}

// lossyProxy passes requests on to a server, and while lose matches a
// request, passes it on but answers 502 instead of the server's answer, as
// a balancer whose connection to the server broke mid-request would.
type lossyProxy struct {
	url  string
	mu   sync.Mutex
	lose func(r *http.Request) bool
}

func newLossyProxy(t *testing.T, server string) *lossyProxy {
	t.Helper()
	p := &lossyProxy{}
	p.url = newProxy(t, server, func(w http.ResponseWriter, r *http.Request, pass http.Handler) {
		p.mu.Lock()
		lose := p.lose != nil && p.lose(r)
		p.mu.Unlock()
		if !lose {
			pass.ServeHTTP(w, r)
			return
		}
		pass.ServeHTTP(httptest.NewRecorder(), r)
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
	return p
}

// newProxy starts a proxy to server and returns its URL: it hands every
// request to handle, with pass, which passes a request on to server.
func newProxy(t *testing.T, server string, handle func(w http.ResponseWriter, r *http.Request, pass http.Handler)) string {
	t.Helper()
	target, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	pass := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handle(w, r, pass) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (p *lossyProxy) losing(lose func(r *http.Request) bool) {
	p.mu.Lock()
	p.lose = lose
	p.mu.Unlock()
}

// runErr runs a command as u and returns its standard output and error.
func (u *user) runErr(args ...string) (string, string, error) {
	u.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, u.env(), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// When the answer to a report is lost, jarimu report tells the key and the
// time observed it filed it with, and the command to run again: run, it
// files the report once. So too when the report was filed but an evidence
// upload failed.
func TestCLIReportLostAnswerNamesTheKey(t *testing.T) {
	w := newWorld(t)
	w.volunteer("budi@example.org")
	proxy := newLossyProxy(t, w.url)
	budi := w.loginVia(proxy.url, "budi@example.org")
	rerun := regexp.MustCompile(`(?m)^  jarimu report (.*) --key (\S+) --observed (\S+)$`)
	shot := writePNG(t)

	for _, tt := range []struct {
		name     string
		args     []string
		lose     func(r *http.Request) bool
		evidence int
	}{
		{"report", []string{"--url", "https://x.com/akun/status/5", "--platform", "x", "--category", "sara", "--summary", "Ujaran kebencian terhadap pemilih"},
			func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/v1/reports" }, 0},
		{"evidence", []string{"--url", "https://x.com/akun/status/6", "--platform", "x", "--category", "sara", "--summary", "Ujaran kebencian di TPS", "--evidence", shot.path},
			func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/evidence") }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			budi := budi.in(t)
			proxy.losing(tt.lose)
			_, stderr, err := budi.runErr(append([]string{"report"}, tt.args...)...)
			proxy.losing(nil)
			if err == nil {
				t.Fatal("got no error, want the lost answer's")
			}
			m := rerun.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("got standard error %q, want the command to run again, with --key and --observed", stderr)
			}
			if !strings.Contains(m[1], "'"+tt.args[7]+"'") {
				t.Errorf("the command to run again: got %q, want the summary quoted for the shell", m[0])
			}
			var rep api.Report
			budi.mustJSON(&rep, append(append([]string{"report"}, tt.args...), "--key", m[2], "--observed", m[3])...)
			if len(rep.Evidence) != tt.evidence {
				t.Errorf("run again: got %d evidence files, want %d", len(rep.Evidence), tt.evidence)
			}
			var reps []api.Report
			budi.mustJSON(&reps, "reports")
			n := 0
			for _, r := range reps {
				if r.URL == tt.args[1] {
					n++
				}
			}
			if n != 1 {
				t.Errorf("got %d reports of %s, want 1", n, tt.args[1])
			}
		})
	}
}
