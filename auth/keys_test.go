package auth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mustKey generates a key created at now or fails the test.
func mustKey(t testing.TB, now time.Time) Key {
	t.Helper()
	k, err := GenerateKey(now)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return k
}

// mustKeySet builds a KeySet or fails the test.
func mustKeySet(t testing.TB, keys ...Key) *KeySet {
	t.Helper()
	s, err := NewKeySet(keys...)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	return s
}

func TestGenerateKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := mustKey(t, testEpoch)
		if seen[k.ID] {
			t.Fatalf("duplicate kid %q", k.ID)
		}
		seen[k.ID] = true
		if !strings.HasPrefix(k.ID, "20260301-") {
			t.Errorf("kid: got %q, want prefix %q", k.ID, "20260301-")
		}
		if got := len(k.Private); got != ed25519.PrivateKeySize {
			t.Errorf("private key size: got %d, want %d", got, ed25519.PrivateKeySize)
		}
		if !k.CreatedAt.Equal(testEpoch) {
			t.Errorf("CreatedAt: got %v, want %v", k.CreatedAt, testEpoch)
		}
	}
}

func TestNewKeySetSigningKey(t *testing.T) {
	old := mustKey(t, testEpoch)
	mid := mustKey(t, testEpoch.Add(time.Hour))
	newest := mustKey(t, testEpoch.Add(2*time.Hour))
	tieA := mustKey(t, testEpoch)
	tieB := mustKey(t, testEpoch)
	tests := []struct {
		name string
		keys []Key
		want string
	}{
		{"single", []Key{old}, old.ID},
		{"newest last", []Key{old, mid, newest}, newest.ID},
		{"newest first", []Key{newest, old, mid}, newest.ID},
		{"tie: later in list wins", []Key{tieA, tieB}, tieB.ID},
		{"tie reversed", []Key{tieB, tieA}, tieA.ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustKeySet(t, tc.keys...)
			if got := s.Signing().ID; got != tc.want {
				t.Errorf("signing kid: got %q, want %q", got, tc.want)
			}
			for _, k := range tc.keys {
				pub, ok := s.PublicKey(k.ID)
				if !ok || !pub.Equal(k.Public()) {
					t.Errorf("PublicKey(%q): got %v, %v, want the key's public half", k.ID, pub, ok)
				}
			}
		})
	}
}

func TestNewKeySetRejects(t *testing.T) {
	k := mustKey(t, testEpoch)
	tests := []struct {
		name string
		keys []Key
	}{
		{"no keys", nil},
		{"empty kid", []Key{{CreatedAt: testEpoch, Private: k.Private}}},
		{"zero created_at", []Key{{ID: "a", Private: k.Private}}},
		{"short private key", []Key{{ID: "a", CreatedAt: testEpoch, Private: k.Private[:10]}}},
		{"duplicate kid", []Key{k, {ID: k.ID, CreatedAt: testEpoch, Private: mustKey(t, testEpoch).Private}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKeySet(tc.keys...)
			if !errors.Is(err, ErrBadKeyFile) {
				t.Errorf("got error %v, want ErrBadKeyFile", err)
			}
		})
	}
}

func TestKeyFileCreateLoadRotate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "signing-keys.json")

	first, err := AddKeyToFile(path, testEpoch, 0)
	if err != nil {
		t.Fatalf("AddKeyToFile (create): %v", err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700|fs.ModeDir)

	oldSet, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if got := oldSet.Signing().ID; got != first.ID {
		t.Errorf("signing kid after create: got %q, want %q", got, first.ID)
	}
	oldToken := issueWith(t, oldSet)

	second, err := AddKeyToFile(path, testEpoch.Add(24*time.Hour), 0)
	if err != nil {
		t.Fatalf("AddKeyToFile (rotate): %v", err)
	}
	assertMode(t, path, 0o600)
	newSet, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile after rotate: %v", err)
	}
	if got := len(newSet.Keys()); got != 2 {
		t.Fatalf("keys after rotate: got %d, want 2", got)
	}
	if got := newSet.Signing().ID; got != second.ID {
		t.Errorf("signing kid after rotate: got %q, want %q", got, second.ID)
	}
	if !newSet.Signing().Private.Equal(second.Private) {
		t.Errorf("signing key after rotate: got a different private key than AddKeyToFile returned")
	}
	tokens := NewTokens(newSet, testTokenConfig(), fixedClock(testEpoch))
	if _, err := tokens.Verify(oldToken); err != nil {
		t.Errorf("token signed by the older key: got %v, want it to verify", err)
	}
	fresh, _, err := NewTokens(newSet, testTokenConfig(), fixedClock(second.CreatedAt)).Issue("u1", "pengawas")
	if err != nil {
		t.Fatal(err)
	}
	if kid := headerOf(t, fresh)["kid"]; kid != second.ID {
		t.Errorf("kid of a new token: got %v, want %q", kid, second.ID)
	}
	assertNoTempFiles(t, dir)
}

func TestKeyFileWrittenByOtherKeySet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writer := mustKeySet(t, mustKey(t, testEpoch), mustKey(t, testEpoch.Add(time.Minute)))
	if err := writeKeyFile(path, writer.Keys()); err != nil {
		t.Fatalf("writeKeyFile: %v", err)
	}
	reader, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if got, want := reader.Signing().ID, writer.Signing().ID; got != want {
		t.Errorf("signing kid: got %q, want %q", got, want)
	}
	if !bytes.Equal(reader.JWKS(), writer.JWKS()) {
		t.Errorf("JWKS: got %s, want %s", reader.JWKS(), writer.JWKS())
	}
	token := issueWith(t, writer)
	if _, err := NewTokens(reader, testTokenConfig(), fixedClock(testEpoch)).Verify(token); err != nil {
		t.Errorf("verify with the reloaded key set: got %v, want nil", err)
	}
}

func TestEnsureKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.json")
	first, created, err := EnsureKeyFile(path, testEpoch)
	if err != nil || !created {
		t.Fatalf("EnsureKeyFile (new): got created=%v err=%v, want true, nil", created, err)
	}
	second, created, err := EnsureKeyFile(path, testEpoch.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("EnsureKeyFile (existing): got created=%v err=%v, want false, nil", created, err)
	}
	if got, want := second.Signing().ID, first.Signing().ID; got != want {
		t.Errorf("signing kid on reload: got %q, want %q", got, want)
	}
	if got := len(second.Keys()); got != 1 {
		t.Errorf("keys on reload: got %d, want 1", got)
	}
}

func TestLoadKeyFileErrors(t *testing.T) {
	seed := base64.RawURLEncoding.EncodeToString(make([]byte, ed25519.SeedSize))
	entry := func(kid, created, key string) string {
		return `{"kid":"` + kid + `","created_at":"` + created + `","private_key":"` + key + `"}`
	}
	good := entry("a", "2026-03-01T12:00:00Z", seed)
	tests := []struct {
		name    string
		content string // "" means: no file at all
		want    error
	}{
		{"missing file", "", fs.ErrNotExist},
		{"bad json", `{"keys":[`, ErrBadKeyFile},
		{"not an object", `[]`, ErrBadKeyFile},
		{"zero keys", `{"keys":[]}`, ErrBadKeyFile},
		{"no keys field", `{}`, ErrBadKeyFile},
		{"short seed", `{"keys":[` + entry("a", "2026-03-01T12:00:00Z", "AAAA") + `]}`, ErrBadKeyFile},
		{"seed not base64url", `{"keys":[` + entry("a", "2026-03-01T12:00:00Z", "!!!") + `]}`, ErrBadKeyFile},
		{"bad created_at", `{"keys":[` + entry("a", "yesterday", seed) + `]}`, ErrBadKeyFile},
		{"missing created_at", `{"keys":[{"kid":"a","private_key":"` + seed + `"}]}`, ErrBadKeyFile},
		{"empty kid", `{"keys":[` + entry("", "2026-03-01T12:00:00Z", seed) + `]}`, ErrBadKeyFile},
		{"duplicate kid", `{"keys":[` + good + `,` + good + `]}`, ErrBadKeyFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if tc.content != "" {
				writeFile(t, path, tc.content)
			}
			_, err := LoadKeyFile(path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q: want it to name %s", err, path)
			}
		})
	}
}

func TestAddKeyToFileKeepsBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFile(t, path, `{"keys":[`)
	if _, err := AddKeyToFile(path, testEpoch, 0); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("got error %v, want ErrBadKeyFile", err)
	}
	if _, _, err := EnsureKeyFile(path, testEpoch); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("EnsureKeyFile: got error %v, want ErrBadKeyFile", err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != `{"keys":[` {
		t.Errorf("file after failed add: got %q, %v, want it unchanged", data, err)
	}
}

func TestJWKS(t *testing.T) {
	keys := []Key{mustKey(t, testEpoch), mustKey(t, testEpoch.Add(time.Hour))}
	s := mustKeySet(t, keys...)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if got := len(set.Keys); got != len(keys) {
		t.Fatalf("JWKS keys: got %d, want %d", got, len(keys))
	}
	for i, jwk := range set.Keys {
		want := map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": keys[i].ID}
		for field, v := range want {
			if jwk[field] != v {
				t.Errorf("key %d %s: got %q, want %q", i, field, jwk[field], v)
			}
		}
		if got := len(jwk); got != 6 {
			t.Errorf("key %d: got %d members %v, want 6 (no private part)", i, got, jwk)
		}
		x, err := base64.RawURLEncoding.DecodeString(jwk["x"])
		if err != nil || !ed25519.PublicKey(x).Equal(keys[i].Public()) {
			t.Errorf("key %d x: got %x (%v), want %x", i, x, err, keys[i].Public())
		}
	}
	s.JWKS()[0] = 'X'
	if s.JWKS()[0] != '{' {
		t.Errorf("JWKS: got shared storage, want a copy per call")
	}
}

// assertMode fails unless path has exactly the given mode.
func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("mode of %s: got %v, want %v", path, got, want)
	}
}

// assertNoTempFiles fails if dir holds anything but the key file.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	if len(entries) != 1 {
		t.Errorf("files in key dir: got %d, want 1 (no leftover temp files)", len(entries))
	}
}

// writeFile writes content to path or fails the test.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
