package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/notice"
)

// instance is a `jarimu serve` running in-process through run, as main runs it.
type instance struct {
	URL    string
	cancel context.CancelFunc
	done   chan error
	stderr *apptest.Logs
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// serve starts run("serve") with env and waits for its listening line.
func serve(t *testing.T, env map[string]string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	in := &instance{cancel: cancel, done: make(chan error, 1), stderr: &apptest.Logs{}}
	go func() {
		err := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(env), nil, pw, in.stderr)
		pw.CloseWithError(io.EOF)
		in.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			in.URL = u
			go io.Copy(io.Discard, pr)
			break
		}
	}
	if in.URL == "" {
		t.Fatalf("serve did not start: %v\n%s", <-in.done, in.stderr.String())
	}
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop sends the equivalent of SIGTERM and waits for a clean exit.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("serve did not stop within 20 s")
	}
}

func post(t *testing.T, url string, body any, token string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The embedded default: no settings but a data dir; the keys generated on
// first start survive a restart, so tokens stay valid.
func TestServeEmbeddedRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"JARIMU_DATA_DIR": dir, "JARIMU_LOG_FORMAT": "json"}
	a := serve(t, env)
	if code, _ := get(t, a.URL+"/healthz", ""); code != 200 {
		t.Fatalf("healthz: got %d", code)
	}
	code, body := post(t, a.URL+"/v1/auth/signup", api.SignupRequest{Email: "ana@example.org", Password: "kawal-pemilu-jujur", Name: "Ana", PrivacyVersion: notice.Version}, "")
	if code != 201 {
		t.Fatalf("signup: got %d %s", code, body)
	}
	var su api.AuthResponse
	json.Unmarshal(body, &su)
	_, key := get(t, a.URL+"/v1/push/key", "")
	a.stop(t)
	for _, f := range []string{"jarimu.db", "jwt-keys.json", "vapid-keys.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not in the data dir: %v", f, err)
		}
	}
	if strings.Contains(a.stderr.String(), su.Tokens.AccessToken) || strings.Contains(a.stderr.String(), "kawal-pemilu-jujur") {
		t.Fatal("the log contains a token or a password")
	}
	b := serve(t, env)
	if code, body := get(t, b.URL+"/v1/me", su.Tokens.AccessToken); code != 200 {
		t.Fatalf("me after restart: got %d %s", code, body)
	}
	if _, again := get(t, b.URL+"/v1/push/key", ""); string(again) != string(key) || !strings.Contains(string(key), "public_key") {
		t.Fatalf("the Web Push key changed across a restart: %s, then %s", key, again)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"JARIMU_SHUTDOWN_TIMEOUT": "soon"}, nil, "JARIMU_SHUTDOWN_TIMEOUT"},
		{map[string]string{"JARIMU_DATABASE_URL": "mysql://x"}, nil, "JARIMU_DATABASE_URL"},
		{map[string]string{"JARIMU_REDIS_URL": "localhost:6379"}, nil, "JARIMU_REDIS_URL"},
		{map[string]string{"JARIMU_REDIS_URL": "redis+sentinel://127.0.0.1:26379"}, nil, "JARIMU_REDIS_URL: no master name"},
		{map[string]string{"JARIMU_JWT_KEYS_RELOAD": "often"}, nil, "JARIMU_JWT_KEYS_RELOAD"},
		{map[string]string{"JARIMU_JWT_KEYS_FILE": "/nonexistent/keys.json"}, nil, "JARIMU_JWT_KEYS_FILE"},
		{map[string]string{"JARIMU_MAX_ACTIVE_CLAIMS": "0"}, nil, "JARIMU_MAX_ACTIVE_CLAIMS"},
		{map[string]string{"JARIMU_DB_MAX_CONNS": "0"}, nil, "JARIMU_DB_MAX_CONNS"},
		{map[string]string{"JARIMU_DB_MAX_CONNS": "7"}, nil, "JARIMU_DB_MAX_CONNS"},
		{map[string]string{"JARIMU_LOG_FORMAT": "xml"}, nil, "JARIMU_LOG_FORMAT"},
		{map[string]string{"JARIMU_FEED_READERS": "epoll"}, nil, "JARIMU_FEED_READERS"},
		{map[string]string{"JARIMU_ACCESS_TOKEN_TTL": "1h"}, nil, "JARIMU_ACCESS_TOKEN_TTL"},
		{map[string]string{"JARIMU_ALLOWED_ORIGINS": "example.org"}, nil, "JARIMU_ALLOWED_ORIGINS"},
		{nil, []string{"-event-retention", "x"}, "JARIMU_EVENT_RETENTION"},
		{map[string]string{"JARIMU_OPEN_CACHE": "2h"}, nil, "JARIMU_OPEN_CACHE"},
		{nil, []string{"-open-cache", "-1s"}, "JARIMU_OPEN_CACHE"},
		{map[string]string{"JARIMU_DATABASE_URL_FILE": "/nonexistent/file"}, nil, "JARIMU_DATABASE_URL"},
		{map[string]string{"JARIMU_EVIDENCE_URL": "https://bucket.example.org"}, nil, "JARIMU_EVIDENCE_URL"},
		{map[string]string{"JARIMU_EVIDENCE_URL": "s3://bukti?endpoint=http://objects:7070", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, nil, "JARIMU_EVIDENCE_URL"},
		{map[string]string{"JARIMU_EVIDENCE_URL": "s3://bukti"}, nil, "AWS_SECRET_ACCESS_KEY"},
		{map[string]string{"JARIMU_EVIDENCE_URL": "s3://bukti", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY_FILE": "/nonexistent/file"}, nil, "AWS_SECRET_ACCESS_KEY"},
		{map[string]string{"JARIMU_EVIDENCE_DIR_SHARED": "yes"}, nil, "JARIMU_EVIDENCE_DIR_SHARED"},
		{map[string]string{"JARIMU_EVIDENCE_DIR_SHARED": "true"}, nil, "JARIMU_EVIDENCE_DIR"},
		{map[string]string{"JARIMU_SMTP_URL": "mail.example.org:25"}, nil, "JARIMU_SMTP_URL"},
		{map[string]string{"JARIMU_SMTP_URL": "smtp://u:p@mail.example.org:25"}, nil, "JARIMU_SMTP_URL"},
		{map[string]string{"JARIMU_SMTP_URL": "smtp://127.0.0.1:25", "JARIMU_PUBLIC_URL": "https://j.example.org"}, nil, "JARIMU_MAIL_FROM"},
		{map[string]string{"JARIMU_SMTP_URL": "smtp://127.0.0.1:25", "JARIMU_MAIL_FROM": "Jarimu <a@j.example.org>"}, nil, "JARIMU_PUBLIC_URL"},
		{map[string]string{"JARIMU_SMTP_URL_FILE": "/nonexistent/file"}, nil, "JARIMU_SMTP_URL"},
		{map[string]string{"JARIMU_PUBLIC_URL": "jarimu.example.org"}, nil, "JARIMU_PUBLIC_URL"},
		{map[string]string{"JARIMU_RETENTION_ELECTION_DATE": "14/02/2029"}, nil, "JARIMU_RETENTION_ELECTION_DATE"},
		{map[string]string{"JARIMU_RETENTION_REPORTS": "three months"}, nil, "JARIMU_RETENTION_REPORTS"},
		{nil, []string{"-retention-accounts", "-1d"}, "JARIMU_RETENTION_ACCOUNTS"},
	}
	for _, c := range cases {
		if c.env == nil {
			c.env = map[string]string{}
		}
		c.env["JARIMU_DATA_DIR"] = t.TempDir()
		var stderr bytes.Buffer
		err := run(context.Background(), append([]string{"serve"}, c.args...), envFunc(c.env), nil, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", c.env, c.args, err, c.want)
		}
	}
}

// The retention periods read days or Go durations; 0 keeps.
func TestRetentionSettings(t *testing.T) {
	c, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, envFunc(map[string]string{
		"JARIMU_RETENTION_ELECTION_DATE": "2029-02-14", "JARIMU_RETENTION_REPORTS": "30d",
		"JARIMU_RETENTION_CLAIMS": "720h", "JARIMU_RETENTION_ACCOUNTS": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Retention
	if r.ElectionDate.Format("2006-01-02") != "2029-02-14" || r.Reports != 30*24*time.Hour || r.Claims != 720*time.Hour || r.Accounts != 0 {
		t.Fatalf("got %+v", r)
	}
	if def, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil, envFunc(nil)); err != nil || def.Retention.Enabled() ||
		def.Retention.Reports != 90*24*time.Hour || def.Retention.Accounts != 365*24*time.Hour {
		t.Fatalf("defaults: %+v, %v (want 90d, 365d, nothing deleted without a date)", def.Retention, err)
	}
}

// postgresWithKeys is a fresh PostgreSQL database and a new key file, for
// scaled-mode settings (the test is skipped without PostgreSQL, outside CI).
func postgresWithKeys(t *testing.T) (db.Options, string) {
	t.Helper()
	o := postgres(t)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := run(context.Background(), []string{"keys", "new", "--file", keys}, envFunc(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	return o, keys
}

// postgres is a fresh PostgreSQL database's settings; the test is skipped
// without PostgreSQL, outside CI (dbtest.Backends fails it under CI=true).
func postgres(t *testing.T) db.Options {
	t.Helper()
	if !contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("needs JARIMU_TEST_DATABASE_URL (always set in CI)")
	}
	return dbtest.Options(t, dbtest.Postgres)
}

// vapidBeside is the Web Push key file `jarimu keys new --file keys` made.
func vapidBeside(keys string) string { return filepath.Join(filepath.Dir(keys), "vapid-keys.json") }

// JARIMU_DB_MAX_CONNS sizes the PostgreSQL pool.
func TestDBMaxConnsSizesThePool(t *testing.T) {
	o, keys := postgresWithKeys(t)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c, err := loadConfig(fs, nil, envFunc(map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_DB_MAX_CONNS": "9",
		"JARIMU_JWT_KEYS_FILE": keys, "JARIMU_VAPID_KEYS_FILE": vapidBeside(keys), "JARIMU_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), options(c, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n := a.DB.DB.DB.Stats().MaxOpenConnections; n != 9 {
		t.Fatalf("pool of %d, want 9", n)
	}
}

func TestScaledModeNeedsSharedKeys(t *testing.T) {
	o := postgres(t)
	env := map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"}
	err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(env), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JARIMU_JWT_KEYS_FILE") {
		t.Fatalf("got %v, want an error naming JARIMU_JWT_KEYS_FILE", err)
	}
	// With the signing keys but no Web Push keys, it names those.
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := run(context.Background(), []string{"keys", "new", "--file", keys, "--vapid-file", filepath.Join(t.TempDir(), "v.json")}, envFunc(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_JWT_KEYS_FILE": keys,
		"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JARIMU_VAPID_KEYS_FILE") {
		t.Fatalf("got %v, want an error naming JARIMU_VAPID_KEYS_FILE", err)
	}
}

func contains(bs []dbtest.Backend, b dbtest.Backend) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// Two instances on one PostgreSQL with one key file accept each other's
// tokens; after a key rotation (restart with a newer key) old tokens still work.
func TestTwoInstancesShareTokens(t *testing.T) {
	o, keys := postgresWithKeys(t)
	env := map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_JWT_KEYS_FILE": keys, "JARIMU_VAPID_KEYS_FILE": vapidBeside(keys),
		"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"}
	var a, b *instance
	var wg sync.WaitGroup
	wg.Go(func() { a = serve(t, env) }) // both migrate at once
	wg.Go(func() { b = serve(t, env) })
	wg.Wait()
	code, body := post(t, a.URL+"/v1/auth/signup", api.SignupRequest{Email: "ana@example.org", Password: "kawal-pemilu-jujur", Name: "Ana", PrivacyVersion: notice.Version}, "")
	if code != 201 {
		t.Fatalf("signup on A: got %d %s", code, body)
	}
	var su api.AuthResponse
	json.Unmarshal(body, &su)
	if code, body := get(t, b.URL+"/v1/me", su.Tokens.AccessToken); code != 200 {
		t.Fatalf("A's token on B: got %d %s", code, body)
	}
	code, body = post(t, b.URL+"/v1/auth/refresh", api.RefreshRequest{RefreshToken: su.Tokens.RefreshToken}, "")
	if code != 200 {
		t.Fatalf("A's refresh token on B: got %d %s", code, body)
	}
	// Rotate: add a newer key and restart B; A's old tokens still verify on B.
	if err := run(context.Background(), []string{"keys", "new", "--file", keys}, envFunc(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b.stop(t)
	b = serve(t, env)
	if code, body := get(t, b.URL+"/v1/me", su.Tokens.AccessToken); code != 200 {
		t.Fatalf("old token after rotation: got %d %s", code, body)
	}
}

func TestAdminCreateUserCommandAndMigrate(t *testing.T) {
	dir := t.TempDir()
	env := envFunc(map[string]string{"JARIMU_DATA_DIR": dir})
	var out bytes.Buffer
	args := []string{"admin", "create-user", "--email", "root@bawaslu.go.id", "--name", "Root", "--role", "admin"}
	if err := run(context.Background(), args, env, strings.NewReader("kawal-pemilu-jujur\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created admin root@bawaslu.go.id") || strings.Contains(out.String(), "password") {
		t.Fatalf("got %q, want a created line and no password", out.String())
	}
	out.Reset()
	args = []string{"admin", "create-user", "--email", "jkt@bawaslu.go.id", "--name", "Jakarta", "--role", "officer", "--region", "31"}
	if err := run(context.Background(), args, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, generated, ok := strings.Cut(out.String(), "password (shown once): ")
	if !ok {
		t.Fatalf("got %q, want a generated password shown once", out.String())
	}
	err := run(context.Background(), []string{"admin", "create-user", "--email", "x@y.org", "--name", "X", "--role", "admin"}, env, strings.NewReader("123456\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("weak password: got %v, want an error about the password", err)
	}
	in := serve(t, map[string]string{"JARIMU_DATA_DIR": dir})
	code, body := post(t, in.URL+"/v1/auth/login", api.LoginRequest{Email: "jkt@bawaslu.go.id", Password: strings.TrimSpace(generated)}, "")
	if code != 200 || !strings.Contains(string(body), `"role":"officer"`) {
		t.Fatalf("officer login with the generated password: got %d %s", code, body)
	}
	in.stop(t)
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "status"}, env, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate status: %v %q", err, out.String())
	}
}

// admin create-user and reset-password sign nothing: in scaled mode they
// run without the shared key files, which serve alone requires, and leave
// no key file behind.
func TestAdminInScaledModeNeedsNoKeyFiles(t *testing.T) {
	o := postgres(t)
	dir := t.TempDir()
	env := envFunc(map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_DATA_DIR": dir})
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "create-user", "--email", "admin@bawaslu.go.id", "--name", "Admin", "--role", "admin"},
		env, strings.NewReader("kawal-pemilu-jujur\n"), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "created admin admin@bawaslu.go.id") {
		t.Fatalf("admin create-user in scaled mode: got %q, %v", out.String(), err)
	}
	out.Reset()
	err = run(context.Background(), []string{"admin", "reset-password", "--email", "admin@bawaslu.go.id"}, env, nil, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "reset link for admin@bawaslu.go.id") {
		t.Fatalf("admin reset-password in scaled mode: got %q, %v", out.String(), err)
	}
	for _, f := range []string{"jwt-keys.json", "vapid-keys.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written to the data dir", f)
		}
	}
	// serve still demands them.
	err = run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(map[string]string{"JARIMU_DATABASE_URL": o.URL,
		"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JARIMU_JWT_KEYS_FILE") {
		t.Errorf("serve without keys: got %v, want JARIMU_JWT_KEYS_FILE named", err)
	}
}
