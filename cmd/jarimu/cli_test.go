package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/notice"
)

// testPassword is every test account's password.
const testPassword = "kawal-pemilu-jujur"

// world is a server running in-process, with an admin and an officer of
// DKI Jakarta (region 31) made by `jarimu admin create-user`.
type world struct {
	t   *testing.T
	url string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, nil)
}

// newWorldWith is newWorld with further settings for the server.
func newWorldWith(t *testing.T, settings map[string]string) *world {
	t.Helper()
	dir := t.TempDir()
	env := envFunc(map[string]string{"JARIMU_DATA_DIR": dir})
	for _, args := range [][]string{
		{"admin", "create-user", "--email", "admin@bawaslu.go.id", "--name", "Admin", "--role", "admin"},
		{"admin", "create-user", "--email", "jkt@bawaslu.go.id", "--name", "Bawaslu DKI", "--role", "officer", "--region", "31"},
	} {
		if err := run(context.Background(), args, env, strings.NewReader(testPassword+"\n"), io.Discard, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	senv := map[string]string{"JARIMU_DATA_DIR": dir}
	for k, v := range settings {
		senv[k] = v
	}
	in := serve(t, senv)
	return &world{t: t, url: in.URL}
}

// client signs in email through the client package.
func (w *world) client(email string) *client.Client {
	w.t.Helper()
	c := client.New(w.url)
	resp, err := c.Login(context.Background(), email, testPassword)
	if err != nil {
		w.t.Fatalf("login %s: %v", email, err)
	}
	if resp.ConsentDue {
		if _, err := c.Consent(context.Background(), notice.Version); err != nil {
			w.t.Fatalf("consent %s: %v", email, err)
		}
	}
	return c
}

// volunteer signs up a volunteer of DKI Jakarta.
func (w *world) volunteer(email string) {
	w.t.Helper()
	region := "31"
	_, err := client.New(w.url).Signup(context.Background(), api.SignupRequest{Email: email, Password: testPassword, Name: "Relawan", RegionCode: &region, PrivacyVersion: notice.Version})
	if err != nil {
		w.t.Fatalf("signup %s: %v", email, err)
	}
}

// user is one person at the command line, with their own config dir.
type user struct {
	t   *testing.T
	w   *world
	dir string
}

// person gives email a config dir (not made yet: login makes it) and logs
// them in with the CLI.
func (w *world) person(email string) *user {
	w.t.Helper()
	u := w.loginVia(w.url, email)
	// Staff accounts made on the command line consent at their first
	// sign-in, as their owners would.
	if out, err := u.run("consent", "--accept", notice.Version); err != nil || !strings.Contains(out, "consented") {
		w.t.Fatalf("consent %s: got %q, %v", email, out, err)
	}
	return u
}

// loginVia gives email a config dir and logs them in with the CLI at
// server: the world's, or a proxy of it.
func (w *world) loginVia(server, email string) *user {
	w.t.Helper()
	u := &user{t: w.t, w: w, dir: filepath.Join(w.t.TempDir(), "jarimu")}
	out, err := u.runIn(testPassword+"\n", "login", "--server", server, "--email", email)
	if err != nil || !strings.Contains(out, "logged in to "+server) {
		w.t.Fatalf("login %s: got %q, %v", email, out, err)
	}
	return u
}

// in is u for the (sub)test t.
func (u *user) in(t *testing.T) *user {
	c := *u
	c.t = t
	return &c
}

func (u *user) env() func(string) string {
	return envFunc(map[string]string{"JARIMU_CONFIG_DIR": u.dir})
}

// run runs a CLI command as u and returns its standard output.
func (u *user) run(args ...string) (string, error) {
	u.t.Helper()
	return u.runIn("", args...)
}

func (u *user) runIn(stdin string, args ...string) (string, error) {
	u.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, u.env(), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// must runs a command that must succeed.
func (u *user) must(args ...string) string {
	u.t.Helper()
	out, err := u.run(args...)
	if err != nil {
		u.t.Fatalf("jarimu %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// mustJSON runs a command with --json and decodes its output into v.
func (u *user) mustJSON(v any, args ...string) {
	u.t.Helper()
	out := u.must(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		u.t.Fatalf("jarimu %s --json: %v in %q", strings.Join(args, " "), err, out)
	}
}

func (u *user) credentials() credentials {
	u.t.Helper()
	var cr credentials
	b, err := os.ReadFile(filepath.Join(u.dir, credentialsFile))
	if err != nil {
		u.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cr); err != nil {
		u.t.Fatal(err)
	}
	return cr
}

func TestCLISession(t *testing.T) {
	w := newWorld(t)
	w.volunteer("ana@example.org")
	ana := w.person("ana@example.org")

	// The session is kept readable by Ana only.
	for path, want := range map[string]os.FileMode{ana.dir: 0o700, filepath.Join(ana.dir, credentialsFile): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: got mode %o, want %o", path, got, want)
		}
	}
	cr := ana.credentials()
	if cr.URL != w.url || cr.Tokens.AccessToken == "" || cr.Tokens.RefreshToken == "" || cr.AccessExpiresAt.IsZero() {
		t.Errorf("credentials: got %+v, want the URL and a whole session", cr)
	}
	entries, _ := os.ReadDir(ana.dir)
	for _, e := range entries {
		if e.Name() != credentialsFile && e.Name() != lockFile {
			t.Errorf("config dir: got %s, want only %s and %s (no temporary file left)", e.Name(), credentialsFile, lockFile)
		}
	}

	out := ana.must("me")
	for _, want := range []string{"ana@example.org", "volunteer", "31 Daerah Khusus Ibukota Jakarta"} {
		if !strings.Contains(out, want) {
			t.Errorf("me: got %q, want %q in it", out, want)
		}
	}
	var me api.Me
	ana.mustJSON(&me, "me")
	if me.User.Email != "ana@example.org" {
		t.Errorf("me --json: got %+v", me)
	}

	// An access token that has expired is refreshed, and the new session is
	// written back: the next command uses it.
	cr.AccessExpiresAt = time.Now().Add(-time.Minute)
	if err := writeJSONFile(filepath.Join(ana.dir, credentialsFile), cr); err != nil {
		t.Fatal(err)
	}
	ana.must("me")
	renewed := ana.credentials()
	if renewed.Tokens.RefreshToken == cr.Tokens.RefreshToken || !renewed.AccessExpiresAt.After(time.Now()) {
		t.Fatalf("after a refresh: got %+v, want a new session saved", renewed)
	}
	ana.must("me")

	// --server must name the server logged in to.
	if _, err := ana.run("me", "--server", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "logged in to "+w.url) {
		t.Errorf("me --server elsewhere: got %v, want an error naming the server logged in to", err)
	}

	// A wrong password is the server's problem, spelled out.
	_, err := ana.runIn("not-the-password\n", "login", "--email", "ana@example.org")
	if err == nil || !strings.HasPrefix(err.Error(), "invalid-credentials: ") {
		t.Errorf("wrong password: got %v, want an invalid-credentials error", err)
	}
	if _, err := ana.runIn("", "login", "--email", "ana@example.org"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("no password: got %v, want an error about the password", err)
	}

	if out := ana.must("logout"); !strings.Contains(out, "logged out") {
		t.Errorf("logout: got %q", out)
	}
	if cr := ana.credentials(); cr.Tokens.RefreshToken != "" || cr.URL != w.url {
		t.Errorf("after logout: got %+v, want the URL only", cr)
	}
	for _, cmd := range [][]string{{"me"}, {"tasks"}, {"claim", "x"}, {"alerts", "watch"}} {
		if _, err := ana.run(cmd...); err == nil || !strings.Contains(err.Error(), "run jarimu login first") {
			t.Errorf("%v after logout: got %v, want to be told to log in", cmd, err)
		}
	}
	if out := ana.must("logout"); !strings.Contains(out, "not logged in") {
		t.Errorf("second logout: got %q", out)
	}
	// The server forgot the session too.
	_, err = client.New(w.url, client.WithTokens(api.Tokens{RefreshToken: renewed.Tokens.RefreshToken})).Me(context.Background())
	if !client.IsProblem(err, "invalid-refresh-token") {
		t.Errorf("the session after logout: got %v, want its refresh token refused", err)
	}
}

// The CLI keeps the device token of its login, after logout too, and sends
// it with the next login: that login gets in while someone at the same
// address guessing the password is throttled; one without it does not.
func TestCLIDeviceTokenGetsPastGuessing(t *testing.T) {
	w := newWorld(t)
	w.volunteer("ana@example.org")
	ana := w.person("ana@example.org")
	first := ana.credentials().DeviceToken
	if len(first) != 43 {
		t.Fatalf("credentials after login: got device token %q, want one", first)
	}
	ana.must("logout")
	if cr := ana.credentials(); cr.DeviceToken != first || cr.Tokens.RefreshToken != "" {
		t.Fatalf("after logout: got %+v, want the device token kept and the session gone", cr)
	}

	guesser := client.New(w.url)
	var err error
	for range 11 {
		_, err = guesser.Login(context.Background(), "ana@example.org", "not-the-password")
	}
	if !client.IsProblem(err, "rate-limited") {
		t.Fatalf("11th guess: got %v, want rate-limited", err)
	}
	stranger := &user{t: t, w: w, dir: filepath.Join(t.TempDir(), "jarimu")}
	if _, err := stranger.runIn(testPassword+"\n", "login", "--server", w.url, "--email", "ana@example.org"); err == nil || !strings.Contains(err.Error(), "rate-limited") {
		t.Fatalf("login from a config dir without a device token: got %v, want rate-limited", err)
	}

	if out, err := ana.runIn(testPassword+"\n", "login", "--email", "ana@example.org"); err != nil || !strings.Contains(out, "logged in to ") {
		t.Fatalf("Ana's login with her device token: got %q, %v", out, err)
	}
	if cr := ana.credentials(); cr.DeviceToken == "" || cr.DeviceToken == first || cr.Tokens.RefreshToken == "" {
		t.Fatalf("after the login: got %+v, want a session and the rotated device token", cr)
	}
	ana.must("me")
}

func TestCLIOrgsTasksAndReports(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.volunteer("budi@example.org")
	admin, officer := w.client("admin@bawaslu.go.id"), w.client("jkt@bawaslu.go.id")
	jakarta := "31"
	org, err := admin.CreateOrg(ctx, api.CreateOrgRequest{Name: "Perludem Jakarta", AccreditationNumber: "B-12/2029",
		AccreditedUntil: time.Now().AddDate(1, 0, 0), RegionCode: &jakarta})
	if err != nil {
		t.Fatal(err)
	}
	slots := 2
	task, err := officer.CreateTask(ctx, api.CreateTaskRequest{Title: "Pantau hoaks TPS Jakarta", Kind: api.KindFactCheck,
		RegionCode: &jakarta, Slots: &slots})
	if err != nil {
		t.Fatal(err)
	}
	budi := w.person("budi@example.org")

	t.Run("orgs", func(t *testing.T) {
		budi := budi.in(t)
		out := budi.must("orgs")
		if !strings.Contains(out, "NAME") || !strings.Contains(out, "Perludem Jakarta") || !strings.Contains(out, org.ID) {
			t.Errorf("orgs: got %q, want a table with the org", out)
		}
		var orgs []api.Org
		budi.mustJSON(&orgs, "orgs", "--status", "accredited", "--region", "31")
		if len(orgs) != 1 || orgs[0].ID != org.ID {
			t.Errorf("orgs --json: got %+v, want the org", orgs)
		}
		// The registry is public: no login needed, given --server.
		anon := &user{t: t, w: w, dir: t.TempDir()}
		if out := anon.must("orgs", "--server", w.url); !strings.Contains(out, "Perludem Jakarta") {
			t.Errorf("orgs signed out: got %q", out)
		}
	})

	var claimID string
	t.Run("tasks and claims", func(t *testing.T) {
		budi := budi.in(t)
		out := budi.must("tasks")
		if !strings.Contains(out, "Pantau hoaks TPS Jakarta") || !strings.Contains(out, "0/2") {
			t.Errorf("tasks: got %q, want the task with its slots", out)
		}
		out = budi.must("claim", task.ID)
		if !strings.Contains(out, "active") || !strings.Contains(out, "jarimu complete ") {
			t.Errorf("claim: got %q", out)
		}
		_, err := budi.run("claim", task.ID)
		if err == nil || err.Error() != "already-claimed: you already hold a claim on this task" {
			t.Errorf("second claim: got %v, want the already-claimed problem", err)
		}
		var mine []api.Task
		budi.mustJSON(&mine, "tasks", "--scope", "mine")
		if len(mine) != 1 || mine[0].MyClaim == nil || mine[0].SlotsTaken != 1 {
			t.Fatalf("tasks --scope mine: got %+v, want the task with my claim", mine)
		}
		claimID = mine[0].MyClaim.ID
		// Flags may come after the claim id.
		out = budi.must("complete", claimID, "--outcome", "done", "--note", "sudah dicek")
		if !strings.Contains(out, "completed") || !strings.Contains(out, "sudah dicek") {
			t.Errorf("complete: got %q", out)
		}
		if _, err := budi.run("complete", claimID, "--outcome", "finished"); err == nil || !strings.Contains(err.Error(), "content_gone") {
			t.Errorf("bad outcome: got %v, want the outcomes listed", err)
		}
	})

	t.Run("report with evidence", func(t *testing.T) {
		budi := budi.in(t)
		shot := writePNG(t)
		var rep api.Report
		budi.mustJSON(&rep, "report", "--url", "https://x.com/akun/status/123", "--platform", "x", "--category", "disinformation",
			"--summary", "Hoaks soal jadwal pencoblosan", "--region", "31", "--claim", claimID, "--evidence", shot.path)
		if rep.Status != api.ReportSubmitted || len(rep.Evidence) != 1 {
			t.Fatalf("report --json: got %+v, want a submitted report with one evidence file", rep)
		}
		if ev := rep.Evidence[0]; ev.SHA256 != shot.sha || ev.ContentType != "image/png" || ev.Size != int64(len(shot.data)) {
			t.Errorf("evidence: got %+v, want the PNG (%s, %d bytes)", ev, shot.sha, len(shot.data))
		}
		body, ct, err := officer.Evidence(ctx, rep.ID, shot.sha)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := io.ReadAll(body)
		body.Close()
		if !bytes.Equal(stored, shot.data) || ct != "image/png" {
			t.Errorf("stored evidence: got %d bytes of %s, want the PNG", len(stored), ct)
		}

		out := budi.must("report", "--url", "https://x.com/akun/status/124", "--platform", "x", "--category", "sara",
			"--summary", "Ujaran kebencian terhadap pemilih", "--observed", time.Now().Add(-2*time.Hour).In(time.FixedZone("WIB", 7*3600)).Format(time.RFC3339), "--evidence", shot.path)
		for _, want := range []string{"submitted", "https://x.com/akun/status/124", "evidence:", shot.sha, "image/png"} {
			if !strings.Contains(out, want) {
				t.Errorf("report: got %q, want %q in it", out, want)
			}
		}

		// Field errors come each on a line of their own.
		_, err = budi.run("report", "--url", "not-a-url", "--platform", "x", "--category", "sara", "--summary", "Ujaran kebencian terhadap pemilih")
		if err == nil || !strings.HasPrefix(err.Error(), "validation: ") || !strings.Contains(err.Error(), "\n  url: ") {
			t.Errorf("invalid report: got %v, want a validation problem with the url field on its own line", err)
		}
		if _, err := budi.run("report", "--url", "https://x.com/a/1"); err == nil || !strings.Contains(err.Error(), "--platform, --category, --summary are required") {
			t.Errorf("missing flags: got %v", err)
		}
		if _, err := budi.run("report", "--url", "https://x.com/a/1", "--platform", "x", "--category", "sara",
			"--summary", "Ujaran kebencian terhadap pemilih", "--evidence", filepath.Join(t.TempDir(), "none.png")); err == nil {
			t.Error("missing evidence file: got no error")
		}
	})
}

// pngFile is a small PNG written to a temporary file.
type pngFile struct {
	path string
	data []byte
	sha  string
}

func writePNG(t *testing.T) pngFile {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 2, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tangkapan layar.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	return pngFile{path: path, data: b.Bytes(), sha: hex.EncodeToString(sum[:])}
}

func TestCLIAlerts(t *testing.T) {
	w := newWorld(t)
	w.volunteer("citra@example.org")
	officer := w.person("jkt@bawaslu.go.id")
	citra := w.person("citra@example.org")

	out := officer.must("alert", "send", "--title", "Hoaks jadwal pencoblosan", "--body", "Jadwal yang beredar palsu.",
		"--severity", "critical", "--region", "31")
	if !strings.Contains(out, "alert:") || !strings.Contains(out, "critical") {
		t.Errorf("alert send: got %q", out)
	}
	if _, err := citra.run("alert", "send", "--title", "Bukan petugas", "--body", "x", "--severity", "info"); err == nil || !strings.HasPrefix(err.Error(), "forbidden: ") {
		t.Errorf("alert send by a volunteer: got %v, want forbidden", err)
	}
	anon := &user{t: t, w: w, dir: t.TempDir()}
	if out := anon.must("alerts", "--server", w.url); !strings.Contains(out, "Hoaks jadwal pencoblosan") || !strings.Contains(out, "31 Daerah Khusus Ibukota Jakarta") {
		t.Errorf("alerts: got %q", out)
	}
	var alerts []api.Alert
	citra.mustJSON(&alerts, "alerts", "--region", "31")
	if len(alerts) != 1 || alerts[0].Severity != "critical" {
		t.Errorf("alerts --json: got %+v", alerts)
	}

	// alerts watch prints what is published while it runs.
	w1 := citra.watch()
	w1.waitConnected()
	out = officer.must("alert", "send", "--title", "Politik uang di Jakarta", "--body", "Laporkan amplop.",
		"--severity", "warning", "--region", "31")
	id := fieldOf(out, "alert")
	w1.waitLine("alert.published", "warning", "Politik uang di Jakarta", id)
	if _, err := w.client("jkt@bawaslu.go.id").Retract(context.Background(), id, "salah wilayah"); err != nil {
		t.Fatal(err)
	}
	w1.waitLine("alert.retracted", "salah wilayah")
	w1.stop()

	// Started again, it first prints what was published meanwhile.
	officer.must("alert", "send", "--title", "Kampanye di masa tenang", "--body", "Hentikan.", "--severity", "info", "--region", "31")
	w2 := citra.watch()
	w2.waitLine("alert.published", "Kampanye di masa tenang")
	w2.stop()
}

// fieldOf is the value of the "key:" line of out.
func fieldOf(out, key string) string {
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
