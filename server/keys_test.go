package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
)

// kidOf is the kid header of a JWT.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return h.Kid
}

// jwksKids is the kids of an instance's JWKS.
func jwksKids(t *testing.T, e *apptest.Env) []string {
	t.Helper()
	r := e.Do(t, "GET", "/.well-known/jwks.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("jwks: %d %s", r.Status, r.Body)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	r.Decode(t, &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// Two instances share one key file and rotate without a restart: a key
// added to the file is in both JWKS as soon as their pollers have read it,
// signs only from its not_before, and tokens of the old and the new key
// verify on both instances before and after that; once the old key is
// retired from the file (and the instances re-read it), its tokens fail on
// both, the new key's still work.
func TestKeyRotationTwoInstances(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "keys.json")
			old, err := auth.AddKeyToFile(file, time.Now(), 0)
			if err != nil {
				t.Fatal(err)
			}
			a, bb := apptest.Two(t, b, apptest.KeyFile(file, 50*time.Millisecond))
			both := []*apptest.Env{a, bb}
			me := func(e *apptest.Env, token string) int {
				return e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(token)...).Status
			}
			verifiesOnBoth := func(what, token string) {
				t.Helper()
				for i, e := range both {
					if got := me(e, token); got != http.StatusOK {
						t.Errorf("%s on instance %d: GET /v1/me %d, want 200", what, i, got)
					}
				}
			}
			oldTok := a.User(t, "volunteer", "lama", "").Tokens.AccessToken
			if kidOf(t, oldTok) != old.ID {
				t.Fatalf("first token: kid %s, want %s", kidOf(t, oldTok), old.ID)
			}

			next, err := auth.AddKeyToFile(file, time.Now(), 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for _, e := range both {
				for !slices.Equal(jwksKids(t, e), []string{old.ID, next.ID}) {
					if time.Now().After(deadline) {
						t.Fatalf("JWKS 5 s after the rotation: %v, want %s and %s", jwksKids(t, e), old.ID, next.ID)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			// Published, not signing yet (a login that ended before
			// not_before was signed by the old key).
			tok := bb.User(t, "volunteer", "antara", "").Tokens.AccessToken
			switch {
			case !time.Now().Before(next.NotBefore):
				t.Log("slow machine: not_before passed before the check of the old key signing")
			case kidOf(t, tok) != old.ID:
				t.Errorf("token issued before not_before: kid %s, want %s", kidOf(t, tok), old.ID)
			}
			verifiesOnBoth("old key's token before not_before", oldTok)

			time.Sleep(time.Until(next.NotBefore))
			newTok := bb.User(t, "volunteer", "baru", "").Tokens.AccessToken
			if kidOf(t, newTok) != next.ID {
				t.Fatalf("token issued after not_before: kid %s, want %s", kidOf(t, newTok), next.ID)
			}
			if kid := kidOf(t, a.User(t, "volunteer", "baru-a", "").Tokens.AccessToken); kid != next.ID {
				t.Fatalf("instance A after not_before signs with %s, want %s", kid, next.ID)
			}
			verifiesOnBoth("old key's token after not_before", oldTok)
			verifiesOnBoth("new key's token", newTok)

			// Retire: refused now; allowed once the access-token lifetime has
			// passed since the switch (the file operation is given that time:
			// oldTok itself is still unexpired, and must fail from now on).
			ttl := 15 * time.Minute
			if err := auth.RetireKeyFromFile(file, old.ID, time.Now(), ttl); err == nil {
				t.Fatal("retiring the old key right after the switch: no error")
			}
			if err := auth.RetireKeyFromFile(file, old.ID, next.NotBefore.Add(ttl+auth.TokenLeeway), ttl); err != nil {
				t.Fatal(err)
			}
			for _, e := range both {
				if err := e.App.Keys.Reload(); err != nil {
					t.Fatal(err)
				}
				if kids := jwksKids(t, e); !slices.Equal(kids, []string{next.ID}) {
					t.Errorf("JWKS after retiring: %v, want only %s", kids, next.ID)
				}
			}
			for _, e := range both {
				check(t, "retired key's token", e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(oldTok)...), http.StatusUnauthorized, "invalid-token")
			}
			verifiesOnBoth("new key's token after retiring the old key", newTok)
		})
	}
}
