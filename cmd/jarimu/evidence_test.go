package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/s3test"
)

// pngBytes is a PNG-looking file of n bytes, different for each seed.
func pngBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	copy(b, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for i := 16; i < n; i++ {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// reportWithEvidence signs a new volunteer up at url, files a report and
// attaches files to it; it returns the volunteer's email (the password is
// evidencePassword) and the report.
func reportWithEvidence(t *testing.T, url string, files ...[]byte) (string, api.Report) {
	t.Helper()
	ctx := context.Background()
	c := client.New(url)
	email := "saksi-" + shaHex([]byte(t.Name() + time.Now().String()))[:10] + "@example.org"
	if _, err := c.Signup(ctx, api.SignupRequest{Email: email, Password: evidencePassword, Name: "Saksi", PrivacyVersion: notice.Version}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.CreateReport(ctx, api.CreateReportRequest{URL: "https://x.com/akun/status/" + shaHex([]byte(t.Name()))[:12], Platform: "x",
		Category: "disinformation", Summary: "Unggahan menyebut TPS dipindah tanpa pengumuman KPU.", ObservedAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		ev, err := c.UploadEvidence(ctx, rep.ID, "bukti.png", bytes.NewReader(f))
		if err != nil || ev.SHA256 != shaHex(f) {
			t.Fatalf("upload: got %+v, %v, want sha %s", ev, err, shaHex(f))
		}
	}
	return email, rep
}

const evidencePassword = "kawal-pemilu-jujur"

// signIn signs in at url.
func signIn(t *testing.T, url, email string) *client.Client {
	t.Helper()
	c := client.New(url)
	if _, err := c.Login(context.Background(), email, evidencePassword); err != nil {
		t.Fatalf("login at %s: %v", url, err)
	}
	return c
}

// download fetches a report's file through c and compares it with want.
func download(t *testing.T, c *client.Client, reportID string, want []byte) {
	t.Helper()
	body, _, err := c.Evidence(context.Background(), reportID, shaHex(want))
	if err != nil {
		t.Fatalf("download %s: %v", shaHex(want)[:8], err)
	}
	defer body.Close()
	if got, err := io.ReadAll(body); err != nil || !bytes.Equal(got, want) {
		t.Errorf("download %s: got %d bytes, %v, want the %d uploaded", shaHex(want)[:8], len(got), err, len(want))
	}
}

// `jarimu evidence migrate` copies an embedded server's evidence into a
// bucket and verifies every hash; a damaged file is reported (exit
// non-zero) and not copied; run again, it finds the rest there; the server
// restarted on the bucket, without the directory, serves the files.
func TestEvidenceMigrateCommand(t *testing.T) {
	bucket := s3test.New(t)
	dataDir := t.TempDir()
	small, big := pngBytes(4<<10, 1), pngBytes(6<<20, 2)
	in := serve(t, map[string]string{"JARIMU_DATA_DIR": dataDir})
	email, rep := reportWithEvidence(t, in.URL, small, big)
	in.stop(t)

	evDir := filepath.Join(dataDir, "evidence")
	damaged := pngBytes(1<<10, 3)
	damagedPath := filepath.Join(evDir, shaHex(damaged)[:2], shaHex(damaged))
	os.MkdirAll(filepath.Dir(damagedPath), 0o700)
	if err := os.WriteFile(damagedPath, append(damaged[:512:512], "tampered"...), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JARIMU_DATA_DIR": dataDir, "JARIMU_EVIDENCE_URL": bucket.URL,
		"AWS_ACCESS_KEY_ID": bucket.AccessKey, "AWS_SECRET_ACCESS_KEY": bucket.SecretKey}
	migrate := func() (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"evidence", "migrate"}, envFunc(env), nil, &out, io.Discard)
		return out.String(), err
	}

	out, err := migrate()
	if err == nil || !strings.Contains(err.Error(), "1 of 3") {
		t.Errorf("first run: got %v, want an error for 1 of 3 files", err)
	}
	for _, want := range []string{"failed  " + shaHex(damaged) + ": the local file is damaged", "3 files in " + evDir + ": 2 copied and verified, 0 already in the bucket and verified, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run printed:\n%s\nwant a line with %q", out, want)
		}
	}
	wantKeys := []string{s3test.Key(shaHex(small)), s3test.Key(shaHex(big))}
	if shaHex(big) < shaHex(small) {
		wantKeys[0], wantKeys[1] = wantKeys[1], wantKeys[0]
	}
	if got := bucket.Keys(t); strings.Join(got, " ") != strings.Join(wantKeys, " ") {
		t.Errorf("bucket: got %q, want %q", got, wantKeys)
	}

	os.Remove(damagedPath)
	out, err = migrate()
	if err != nil || !strings.Contains(out, "2 files in "+evDir+": 0 copied and verified, 2 already in the bucket and verified, 0 failed") {
		t.Errorf("second run: got %v, printed:\n%s", err, out)
	}

	if err := os.Rename(evDir, evDir+".migrated"); err != nil { // nothing read from the disk now
		t.Fatal(err)
	}
	in = serve(t, env)
	owner := signIn(t, in.URL, email)
	download(t, owner, rep.ID, small)
	download(t, owner, rep.ID, big)
	if _, err := os.Stat(evDir); err == nil {
		t.Errorf("%s was made again: the server on a bucket keeps no files on disk", evDir)
	}
}

func TestEvidenceMigrateCommandRefusals(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"evidence", "migrate", "--help"}, envFunc(nil), nil, &out, &out); err != nil {
		t.Errorf("--help: got %v, want success", err)
	}
	if !strings.Contains(out.String(), "Usage: jarimu evidence migrate") || !strings.Contains(out.String(), "-evidence-url") {
		t.Errorf("--help printed:\n%s", out.String())
	}
	dataDir := t.TempDir()
	withBucket := map[string]string{"JARIMU_DATA_DIR": dataDir, "JARIMU_EVIDENCE_URL": "s3://bukti?endpoint=http://127.0.0.1:1",
		"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"evidence"}, nil, "evidence: name a sub-command"},
		{[]string{"evidence", "copy"}, nil, `unknown command "evidence copy" (try jarimu evidence --help)`},
		{[]string{"evidence", "migrate"}, map[string]string{"JARIMU_DATA_DIR": dataDir}, "JARIMU_EVIDENCE_URL"},
		{[]string{"evidence", "migrate"}, withBucket, "JARIMU_EVIDENCE_DIR: no evidence directory"},
		{[]string{"evidence", "migrate", "extra"}, withBucket, "no arguments"},
	}
	for _, c := range cases {
		err := run(context.Background(), c.args, envFunc(c.env), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.args, err, c.want)
		}
	}
	// A bucket that is down: an error, nothing claimed copied.
	os.MkdirAll(filepath.Join(dataDir, "evidence", "ab"), 0o700)
	f := pngBytes(100, 9)
	os.MkdirAll(filepath.Join(dataDir, "evidence", shaHex(f)[:2]), 0o700)
	os.WriteFile(filepath.Join(dataDir, "evidence", shaHex(f)[:2], shaHex(f)), f, 0o600)
	withBucket["JARIMU_EVIDENCE_URL"] = s3test.Unreachable(t)
	out.Reset()
	err := run(context.Background(), []string{"evidence", "migrate"}, envFunc(withBucket), nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unavailable") || !strings.Contains(out.String(), "0 files") {
		t.Errorf("bucket down: got %v, printed %q, want an unavailable error and 0 files done", err, out.String())
	}
}

// Scaled mode refuses to start with evidence on one instance's disk; a
// bucket, or a directory declared shared, is accepted (the serve tests on
// PostgreSQL start with those).
func TestScaledModeNeedsSharedEvidence(t *testing.T) {
	base := map[string]string{"JARIMU_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "JARIMU_DATA_DIR": t.TempDir()}
	cases := []struct {
		extra map[string]string
		want  []string
	}{
		{nil, []string{"JARIMU_EVIDENCE_URL", "JARIMU_EVIDENCE_DIR", "JARIMU_EVIDENCE_DIR_SHARED=true"}},
		{map[string]string{"JARIMU_EVIDENCE_DIR": t.TempDir()}, []string{"JARIMU_EVIDENCE_DIR_SHARED=true"}},
		{map[string]string{"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "false"}, []string{"JARIMU_EVIDENCE_DIR_SHARED=true"}},
		{map[string]string{"JARIMU_EVIDENCE_DIR_SHARED": "true"}, []string{"JARIMU_EVIDENCE_DIR set to the shared mount"}},
	}
	for _, c := range cases {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range c.extra {
			env[k] = v
		}
		err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(env), nil, io.Discard, io.Discard)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: got %v, want an error naming %s", c.extra, err, w)
			}
		}
	}
	// Accepted settings get past this check: the next error is the
	// database's (nothing listens there), not the evidence's.
	for _, extra := range []map[string]string{
		{"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"},
		{"JARIMU_EVIDENCE_URL": "s3://bukti?endpoint=http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, envFunc(env), nil, io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "EVIDENCE") {
			t.Errorf("%v: got %v, want the database's error", extra, err)
		}
	}
}

// evidenceAcross uploads through one server and downloads, whole and in
// part, through another: scaled mode's evidence store serves every
// instance.
func evidenceAcross(t *testing.T, up, down string) {
	t.Helper()
	file := pngBytes(2<<20, 5)
	email, rep := reportWithEvidence(t, up, file)
	c := signIn(t, down, email)
	download(t, c, rep.ID, file)
	req, _ := http.NewRequest("GET", down+"/v1/reports/"+rep.ID+"/evidence/"+shaHex(file), nil)
	req.Header.Set("Authorization", "Bearer "+c.Tokens().AccessToken)
	req.Header.Set("Range", "bytes=1000-1099")
	code, body := send(t, req)
	if code != http.StatusPartialContent || !bytes.Equal(body, file[1000:1100]) {
		t.Errorf("a range through the other instance: got %d with %d bytes, want 206 with bytes 1000-1099", code, len(body))
	}
}
