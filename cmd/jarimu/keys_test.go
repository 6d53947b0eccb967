package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/notice"
)

// keysCmd runs `jarimu keys args...` with env and returns its output.
func keysCmd(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"keys"}, args...), envFunc(env), nil, &out, io.Discard)
	return out.String(), err
}

// The keys commands: new makes a file whose key signs at once; rotate
// schedules a key (10 minutes by default, --not-before otherwise) and
// needs the file; retire refuses a key that signs or whose tokens may
// still be valid, with a message saying why; list shows the keys.
func TestKeysCommands(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	if _, err := keysCmd(nil, "rotate", "--file", file); err == nil || !strings.Contains(err.Error(), "keys new") {
		t.Fatalf("rotate without a file: got %v, want an error pointing to keys new", err)
	}
	out, err := keysCmd(nil, "new", "--file", file)
	if err != nil || !strings.Contains(out, "signs from now on") {
		t.Fatalf("keys new: %q, %v", out, err)
	}
	first := mustLoad(t, file).Keys()[0]
	start := time.Now()
	out, err = keysCmd(nil, "rotate", "--file", file)
	if err != nil || !strings.Contains(out, "sign with it from") {
		t.Fatalf("keys rotate: %q, %v", out, err)
	}
	s := mustLoad(t, file)
	second := s.Keys()[1]
	if d := second.NotBefore.Sub(start); d < auth.DefaultKeyDelay-time.Second || d > auth.DefaultKeyDelay+2*time.Second {
		t.Errorf("rotate: not_before %v after now, want %v", d, auth.DefaultKeyDelay)
	}
	if got := s.Signing().ID; got != first.ID {
		t.Errorf("right after rotate %s signs, want the first key %s until not_before", got, first.ID)
	}
	out, err = keysCmd(nil, "rotate", "--file", file, "--not-before", "0")
	if err != nil || !strings.Contains(out, "signs from now on") {
		t.Fatalf("keys rotate --not-before 0: %q, %v", out, err)
	}
	third := mustLoad(t, file).Keys()[2]
	if got := mustLoad(t, file).Signing().ID; got != third.ID {
		t.Errorf("after rotate --not-before 0: %s signs, want %s", got, third.ID)
	}
	if _, err := keysCmd(nil, "rotate", "--file", file, "--not-before", "-1m"); err == nil {
		t.Error("rotate --not-before -1m: no error")
	}
	// keys new on an existing file schedules, as rotate does.
	out, err = keysCmd(nil, "new", "--file", file)
	if err != nil || !strings.Contains(out, "sign with it from") || len(mustLoad(t, file).Keys()) != 4 {
		t.Fatalf("keys new on an existing file: %q, %v", out, err)
	}

	before, _ := os.ReadFile(file)
	for _, tc := range []struct {
		kid, want string
	}{
		{third.ID, "signs new tokens"},                         // the signing key
		{first.ID, "stay valid for the access-token lifetime"}, // third took over just now
		{"nosuchkid", "no such key"},
		{"", "--kid is required"},
	} {
		_, err := keysCmd(nil, "retire", "--file", file, "--kid", tc.kid)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("retire %q: got %v, want an error saying %q", tc.kid, err, tc.want)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Fatal("refused retirements changed the key file")
	}
	// The second key never signed (it is still pending): it may go.
	if out, err := keysCmd(nil, "retire", "--file", file, "--kid", second.ID); err != nil || !strings.Contains(out, "retired key "+second.ID) {
		t.Fatalf("retire a pending key: %q, %v", out, err)
	}
	if _, ok := mustLoad(t, file).PublicKey(second.ID); ok {
		t.Fatal("the retired key is still in the file")
	}
	// The access-token lifetime comes from JARIMU_ACCESS_TOKEN_TTL (or the
	// flag); a bad one is refused.
	_, err = keysCmd(map[string]string{"JARIMU_ACCESS_TOKEN_TTL": "10s"}, "retire", "--file", file, "--kid", first.ID)
	if err == nil || !strings.Contains(err.Error(), "(10s)") {
		t.Errorf("retire with JARIMU_ACCESS_TOKEN_TTL=10s: got %v, want the 10s lifetime in the error", err)
	}
	if _, err := keysCmd(nil, "retire", "--file", file, "--kid", first.ID, "--access-token-ttl", "soon"); err == nil || !strings.Contains(err.Error(), "access-token-ttl") {
		t.Errorf("retire --access-token-ttl soon: got %v", err)
	}
	// --force (a leaked key): at once, but never the key that signs.
	if _, err := keysCmd(nil, "retire", "--file", file, "--kid", third.ID, "--force"); err == nil || !strings.Contains(err.Error(), "signs new tokens") {
		t.Errorf("retire --force of the signing key: got %v, want it refused", err)
	}
	if out, err := keysCmd(nil, "retire", "--file", file, "--kid", first.ID, "--force"); err != nil || !strings.Contains(out, "retired key "+first.ID) {
		t.Fatalf("retire --force: %q, %v", out, err)
	}

	out, err = keysCmd(nil, "list", "--file", file)
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, third.ID) || !strings.Contains(out, "signs\n") || !strings.Contains(out, "pending") {
		t.Errorf("keys list: %q, %v", out, err)
	}
	out, err = keysCmd(nil, "list", "--file", file, "--json")
	var listed []struct{ KID, State string }
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 2 {
		t.Fatalf("keys list --json: %q, %v", out, err)
	}
	for _, k := range listed {
		if want := map[bool]string{true: "signs", false: "pending"}[k.KID == third.ID]; k.State != want {
			t.Errorf("keys list --json: key %s %q, want %q", k.KID, k.State, want)
		}
	}
	if _, err := keysCmd(nil, "spin", "--file", file); err == nil || !strings.Contains(err.Error(), `unknown command "keys spin"`) || exitCode(err) != 2 {
		t.Errorf("keys spin: got %v, want an unknown command", err)
	}
}

func mustLoad(t *testing.T, file string) *auth.KeySet {
	t.Helper()
	s, err := auth.LoadKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwksKids fetches an instance's JWKS and returns its key ids.
func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	code, body := get(t, base+"/.well-known/jwks.json", "")
	if code != 200 {
		t.Fatalf("jwks: %d %s", code, body)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("jwks: %v: %s", err, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// A `jarimu serve` process re-reads its key file on SIGHUP: with the
// periodic check off (JARIMU_JWT_KEYS_RELOAD=0) a rotated key is not
// published until the signal, then at once; the process goes on serving
// and tokens of the old key still work. A broken file on SIGHUP keeps the
// keys in force.
func TestServeReloadsKeysOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.json")
	if _, err := keysCmd(nil, "new", "--file", file); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, map[string]string{"JARIMU_DATA_DIR": dir, "JARIMU_JWT_KEYS_FILE": file,
		"JARIMU_JWT_KEYS_RELOAD": "0", "JARIMU_LOG_FORMAT": "json"}, freeAddr(t))
	code, body := post(t, p.URL+"/v1/auth/signup", api.SignupRequest{Email: "ana@example.org", Password: "kawal-pemilu-jujur", Name: "Ana", PrivacyVersion: notice.Version}, "")
	if code != 201 {
		t.Fatalf("signup: %d %s", code, body)
	}
	var su api.AuthResponse
	json.Unmarshal(body, &su)
	if _, err := keysCmd(nil, "rotate", "--file", file); err != nil {
		t.Fatal(err)
	}
	rotated := mustLoad(t, file).Keys()[1].ID
	time.Sleep(300 * time.Millisecond)
	if kids := jwksKids(t, p.URL); len(kids) != 1 {
		t.Fatalf("JWKS before SIGHUP with the periodic check off: %v, want the one key", kids)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for kids := jwksKids(t, p.URL); len(kids) != 2 || kids[1] != rotated; kids = jwksKids(t, p.URL) {
		if time.Now().After(deadline) {
			t.Fatalf("JWKS 10 s after SIGHUP: %v, want the rotated key %s too\n%s", kids, rotated, tail(p.stderr.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, p.URL+"/v1/me", su.Tokens.AccessToken); code != 200 {
		t.Fatalf("token of the first key after the reload: %d %s", code, body)
	}
	if !strings.Contains(p.stderr.String(), `"msg":"signing keys reloaded"`) {
		t.Errorf("no reload in the log:\n%s", tail(p.stderr.String(), 4000))
	}

	// A broken file: SIGHUP keeps the two keys, and logs a warning.
	if err := os.WriteFile(file, []byte(`{"keys":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), `"msg":"signing key file unusable; keeping the keys in force"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning 10 s after SIGHUP with a broken file:\n%s", tail(p.stderr.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if kids := jwksKids(t, p.URL); len(kids) != 2 {
		t.Errorf("JWKS after a broken file: %v, want the two keys in force", kids)
	}
	if code, body := get(t, p.URL+"/v1/me", su.Tokens.AccessToken); code != 200 {
		t.Fatalf("token after a broken reload: %d %s", code, body)
	}
}
