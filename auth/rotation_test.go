package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scheduled is a key created at created that signs from notBefore (zero:
// from created).
func scheduled(t testing.TB, created, notBefore time.Time) Key {
	t.Helper()
	k := mustKey(t, created)
	k.NotBefore = notBefore
	return k
}

// Of the keys whose NotBefore has come, the newest signs; a key without
// NotBefore (files written before) signs from its creation; a key
// scheduled later than a newer one never signs after it; with no key
// active yet, the first to become active signs.
func TestSigningAtFollowsNotBefore(t *testing.T) {
	e := testEpoch
	old := mustKey(t, e)                                             // no not_before
	rotated := scheduled(t, e.Add(time.Hour), e.Add(70*time.Minute)) // added at 13:00, signs from 13:10
	late := scheduled(t, e.Add(2*time.Hour), e.Add(3*time.Hour))     // added 14:00, signs from 15:00
	early := scheduled(t, e.Add(2*time.Hour+time.Minute), e.Add(2*time.Hour+5*time.Minute))
	s := mustKeySet(t, old, rotated, late, early)
	for _, tc := range []struct {
		at   time.Duration // after testEpoch
		want Key
	}{
		{0, old},
		{time.Hour, old},                       // rotated is published, not signing
		{70*time.Minute - time.Second, old},    // one second before its not_before
		{70 * time.Minute, rotated},            // at its not_before
		{2*time.Hour + 4*time.Minute, rotated}, // late and early both pending
		{2*time.Hour + 5*time.Minute, early},   // early is newer than late and active first
		{3 * time.Hour, early},                 // late is active but older than early: never signs
		{30 * 24 * time.Hour, early},
	} {
		if got := s.SigningAt(e.Add(tc.at)); got.ID != tc.want.ID {
			t.Errorf("at epoch+%v: signing %s, want %s", tc.at, got.ID, tc.want.ID)
		}
	}
	// Only pending keys (a hand-made file): the first to come signs.
	a := scheduled(t, e, e.Add(2*time.Hour))
	b := scheduled(t, e.Add(time.Minute), e.Add(time.Hour))
	if got := mustKeySet(t, a, b).SigningAt(e); got.ID != b.ID {
		t.Errorf("no key active: signing %s, want %s (the first to become active)", got.ID, b.ID)
	}
}

// Tokens issued before a scheduled key's NotBefore carry the old kid, after
// it the new one; both verify all along, before and after the switch.
func TestTokensSwitchKeyAtNotBefore(t *testing.T) {
	old := mustKey(t, testEpoch)
	next := scheduled(t, testEpoch.Add(time.Hour), testEpoch.Add(time.Hour+DefaultKeyDelay))
	set := mustKeySet(t, old, next)
	clock := testEpoch.Add(time.Hour)
	tokens := NewTokens(set, testTokenConfig(), func() time.Time { return clock })
	before, _, err := tokens.Issue("u1", "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	clock = next.NotBefore
	after, _, err := tokens.Issue("u1", "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	if kid := headerOf(t, before)["kid"]; kid != old.ID {
		t.Errorf("token before not_before: kid %v, want %s", kid, old.ID)
	}
	if kid := headerOf(t, after)["kid"]; kid != next.ID {
		t.Errorf("token at not_before: kid %v, want %s", kid, next.ID)
	}
	// A verifier that has never seen a token (no cache) accepts both.
	verifier := NewTokens(set, testTokenConfig(), func() time.Time { return clock })
	for name, tok := range map[string]string{"old key's": before, "new key's": after} {
		if _, err := verifier.Verify(tok); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
	}
}

// A key may be retired once it does not sign and a newer key has signed
// for the access-token lifetime (plus the leeway), or when it never signed;
// the error says from when otherwise.
func TestCheckRetire(t *testing.T) {
	e := testEpoch
	ttl := 15 * time.Minute
	old := mustKey(t, e)
	next := scheduled(t, e.Add(time.Hour), e.Add(time.Hour+DefaultKeyDelay)) // signs from 13:10
	pending := scheduled(t, e.Add(2*time.Hour), e.Add(3*time.Hour))          // signs from 15:00
	s := mustKeySet(t, old, next, pending)
	switchAt := next.NotBefore
	for _, tc := range []struct {
		name  string
		kid   string
		at    time.Time
		want  error
		force bool
	}{
		{"old while it signs", old.ID, e.Add(time.Hour), ErrKeyInUse, false},
		{"old right after the switch", old.ID, switchAt, ErrKeyInUse, false},
		{"old a second before ttl+leeway", old.ID, switchAt.Add(ttl + TokenLeeway - time.Second), ErrKeyInUse, false},
		{"old at ttl+leeway after the switch", old.ID, switchAt.Add(ttl + TokenLeeway), nil, false},
		{"next while it signs", next.ID, switchAt.Add(time.Hour), ErrKeyInUse, false},
		{"old right after the switch, forced (leaked)", old.ID, switchAt, nil, true},
		{"next while it signs, forced", next.ID, switchAt.Add(time.Hour), ErrKeyInUse, true},
		{"a pending key (never signed)", pending.ID, e.Add(2 * time.Hour), nil, false},
		{"unknown kid", "20260301-nosuchkey", e, ErrUnknownKey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			life := ttl
			if tc.force {
				life = -1
			}
			err := s.CheckRetire(tc.kid, tc.at, life)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	err := s.CheckRetire(old.ID, switchAt.Add(time.Minute), ttl)
	if want := switchAt.Add(ttl + TokenLeeway).UTC().Format(time.RFC3339); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v: want it to say when the key may go (%s)", err, want)
	}
	// The only key signs: never retired.
	if err := mustKeySet(t, old).CheckRetire(old.ID, e.Add(365*24*time.Hour), ttl); !errors.Is(err, ErrKeyInUse) {
		t.Errorf("the only key: got %v, want ErrKeyInUse", err)
	}
}

// AddKeyToFile schedules a key added to an existing file (not_before in
// the file, the file's mode kept), and a new file's first key signs at
// once; files without
// not_before (written before) load with every key signing from creation.
func TestAddKeyToFileSchedules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	first, err := AddKeyToFile(path, testEpoch, DefaultKeyDelay)
	if err != nil {
		t.Fatal(err)
	}
	if !first.NotBefore.IsZero() {
		t.Errorf("first key of a new file: not_before %v, want none (it signs at once)", first.NotBefore)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("not_before")) {
		t.Errorf("new file: %s, want no not_before", data)
	}
	// Made readable for the service's user (compose): a rotation keeps that.
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	added := testEpoch.Add(time.Hour + 300*time.Millisecond)
	second, err := AddKeyToFile(path, added, 90*time.Second+time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o444)
	if want := testEpoch.Add(time.Hour + 91*time.Second); !second.NotBefore.Equal(want) {
		t.Errorf("not_before: got %v, want %v (created_at + delay, rounded up to the second)", second.NotBefore, want)
	}
	var f struct {
		Keys []map[string]any `json:"keys"`
	}
	data, _ = os.ReadFile(path)
	if err := json.Unmarshal(data, &f); err != nil || len(f.Keys) != 2 {
		t.Fatalf("file: %s (%v)", data, err)
	}
	if _, ok := f.Keys[0]["not_before"]; ok {
		t.Errorf("first key in the file has a not_before: %s", data)
	}
	if got := f.Keys[1]["not_before"]; got != "2026-03-01T13:01:31Z" {
		t.Errorf("second key's not_before in the file: %v, want 2026-03-01T13:01:31Z", got)
	}
	s, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.SigningAt(second.NotBefore.Add(-time.Second)).ID; got != first.ID {
		t.Errorf("before not_before: %s signs, want %s", got, first.ID)
	}
	if got := s.SigningAt(second.NotBefore).ID; got != second.ID {
		t.Errorf("at not_before: %s signs, want %s", got, second.ID)
	}
	if _, err := AddKeyToFile(path, added, -time.Second); err == nil {
		t.Error("negative delay: no error")
	}

	// A file of the old format: two keys, no not_before; the newer signs
	// from its creation.
	old := filepath.Join(t.TempDir(), "old.json")
	a, b := mustKey(t, testEpoch), mustKey(t, testEpoch.Add(time.Hour))
	if err := writeKeyFile(old, []Key{a, b}); err != nil {
		t.Fatal(err)
	}
	s, err = LoadKeyFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.SigningAt(testEpoch.Add(time.Hour)).ID; got != b.ID {
		t.Errorf("old format: %s signs at the newer key's creation, want %s", got, b.ID)
	}
}

// RetireKeyFromFile removes a key only when CheckRetire allows it, and
// leaves the file untouched otherwise.
func TestRetireKeyFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	ttl := 15 * time.Minute
	old, err := AddKeyToFile(path, testEpoch, 0)
	if err != nil {
		t.Fatal(err)
	}
	next, err := AddKeyToFile(path, testEpoch.Add(time.Hour), DefaultKeyDelay)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, at := range []time.Time{testEpoch.Add(time.Hour), next.NotBefore.Add(ttl)} {
		if err := RetireKeyFromFile(path, old.ID, at, ttl); !errors.Is(err, ErrKeyInUse) {
			t.Fatalf("retire at %v: got %v, want ErrKeyInUse", at, err)
		}
	}
	if err := RetireKeyFromFile(path, next.ID, next.NotBefore.Add(time.Hour), ttl); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("retire the signing key: got %v, want ErrKeyInUse", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatalf("refused retirements changed the file:\n%s\nwas\n%s", after, before)
	}
	if err := RetireKeyFromFile(path, old.ID, next.NotBefore.Add(ttl+TokenLeeway), ttl); err != nil {
		t.Fatalf("retire after ttl: %v", err)
	}
	s, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ks := s.Keys(); len(ks) != 1 || ks[0].ID != next.ID || !ks[0].NotBefore.Equal(next.NotBefore) {
		t.Fatalf("after retiring: %v, want only %s with its not_before", kids(s), next.ID)
	}
	if err := RetireKeyFromFile(filepath.Join(t.TempDir(), "none.json"), old.ID, testEpoch, ttl); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
}

// ringLog is a logger into a buffer, safe for concurrent use.
type ringLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ringLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *ringLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), `"msg":"`+msg+`"`)
}

// A KeyRing swaps in a changed key file on Reload; a broken or missing file
// keeps the set in force and is logged once per failure; the tokens of the
// ring follow (a retired key's tokens fail even when they were verified
// and remembered before).
func TestKeyRingReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	old, err := AddKeyToFile(path, testEpoch, 0)
	if err != nil {
		t.Fatal(err)
	}
	logs := &ringLog{}
	ring, err := OpenKeyRing(path, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clock := testEpoch.Add(time.Hour)
	tokens := NewTokens(ring, testTokenConfig(), func() time.Time { return clock })
	oldTok, _, err := tokens.Issue("u1", "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(oldTok); err != nil { // now remembered
		t.Fatal(err)
	}
	if err := ring.Reload(); err != nil || logs.count("signing keys reloaded") != 0 {
		t.Fatalf("reload of an unchanged file: %v, %d reload lines; want nil and none", err, logs.count("signing keys reloaded"))
	}

	// Scheduled a minute ahead, so that oldTok is still valid when the old
	// key is retired below.
	next, err := AddKeyToFile(path, clock, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := kids(ring.Current()); len(got) != 2 || !bytes.Contains(ring.Current().JWKS(), []byte(next.ID)) {
		t.Fatalf("after reload: kids %v, JWKS %s; want both keys", got, ring.Current().JWKS())
	}
	if got := headerOf(t, mustIssue(t, tokens))["kid"]; got != old.ID {
		t.Errorf("before not_before: kid %v, want %s", got, old.ID)
	}
	clock = next.NotBefore
	newTok := mustIssue(t, tokens)
	if got := headerOf(t, newTok)["kid"]; got != next.ID {
		t.Errorf("at not_before: kid %v, want %s", got, next.ID)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if _, err := tokens.Verify(tok); err != nil {
			t.Errorf("%s token after the reload: %v", name, err)
		}
	}

	// Broken, then missing: the set in force stays, each failure logged once.
	inForce := ring.Current()
	writeFile(t, path+".broken", `{"keys":[`)
	if err := os.Rename(path+".broken", path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := ring.Reload(); !errors.Is(err, ErrBadKeyFile) {
			t.Fatalf("broken file: got %v, want ErrBadKeyFile", err)
		}
	}
	os.Remove(path)
	for range 3 {
		if err := ring.Reload(); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("missing file: got %v, want fs.ErrNotExist", err)
		}
	}
	if ring.Current() != inForce {
		t.Fatal("a failed reload replaced the key set")
	}
	if n := logs.count("signing key file unusable; keeping the keys in force"); n != 2 {
		t.Errorf("warnings: %d, want 2 (one per failure, not per reload)\n%s", n, logs.b.String())
	}
	if _, err := tokens.Verify(newTok); err != nil {
		t.Errorf("new token while the file is missing: %v", err)
	}

	// The old key goes (written by hand, sooner than RetireKeyFromFile
	// would allow) while oldTok, verified and remembered, has not expired.
	clock = next.NotBefore.Add(time.Minute)
	if err := writeKeyFile(path, []Key{next}); err != nil {
		t.Fatal(err)
	}
	if err := ring.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(oldTok); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("remembered token of a retired key: got %v, want ErrInvalidToken (unknown kid)", err)
	}
	if _, err := tokens.Verify(mustIssue(t, tokens)); err != nil {
		t.Errorf("new key's token after the retirement: %v", err)
	}
}

func mustIssue(t testing.TB, tokens *Tokens) string {
	t.Helper()
	tok, _, err := tokens.Issue("u1", "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Readers see a whole key set while reloads swap sets under them (run with
// -race): every token verifies, every JWKS is complete.
func TestKeyRingConcurrentReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := AddKeyToFile(path, testEpoch, 0); err != nil {
		t.Fatal(err)
	}
	ring, err := OpenKeyRing(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokens(ring, testTokenConfig(), fixedClock(testEpoch))
	tok := mustIssue(t, tokens)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := NewTokens(ring, testTokenConfig(), fixedClock(testEpoch)).Verify(tok); err != nil {
					t.Error(err)
					return
				}
				var set struct{ Keys []any }
				if err := json.Unmarshal(ring.Current().JWKS(), &set); err != nil || len(set.Keys) == 0 {
					t.Errorf("JWKS: %v", err)
					return
				}
			}
		})
	}
	for i := range 20 {
		if _, err := AddKeyToFile(path, testEpoch.Add(time.Duration(i+1)*time.Minute), DefaultKeyDelay); err != nil {
			t.Fatal(err)
		}
		if err := ring.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := len(ring.Current().Keys()); n != 21 {
		t.Errorf("keys: %d, want 21", n)
	}
}

// Watch re-reads the key file every interval: a key added to the file is
// in the ring one interval later, with no Reload call.
func TestKeyRingWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.json")
		if _, err := AddKeyToFile(path, testEpoch, 0); err != nil {
			t.Fatal(err)
		}
		ring, err := OpenKeyRing(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); ring.Watch(ctx, DefaultKeyReload) }()
		next, err := AddKeyToFile(path, testEpoch.Add(time.Hour), DefaultKeyDelay)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(DefaultKeyReload - time.Second)
		synctest.Wait()
		if _, ok := ring.Current().PublicKey(next.ID); ok {
			t.Fatal("the new key is in the ring before the interval passed")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if _, ok := ring.Current().PublicKey(next.ID); !ok {
			t.Fatalf("one interval after the file changed the ring has %v, want %s too", kids(ring.Current()), next.ID)
		}
		cancel()
		<-done
	})
	// A fixed ring, or no interval: Watch returns at once.
	NewKeyRing(mustKeySet(t, mustKey(t, testEpoch))).Watch(context.Background(), time.Second)
}
