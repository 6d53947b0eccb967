package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/ratelimit"
)

func signup(t *testing.T, e *apptest.Env, email string) api.AuthResponse {
	t.Helper()
	r := e.Do(t, "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": email, "password": apptest.Password, "name": "Sari", "region_code": "3171"})
	if r.Status != http.StatusCreated {
		t.Fatalf("signup: got %d, want 201: %s", r.Status, r.Body)
	}
	var resp api.AuthResponse
	r.Decode(t, &resp)
	return resp
}

func TestAccountsHappyPath(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "Sari@Example.org")
		if su.User.Email != "sari@example.org" || su.User.Role != "volunteer" || *su.User.RegionCode != "3171" {
			t.Fatalf("got user %+v, want a volunteer sari@example.org of 3171", su.User)
		}
		if su.Tokens.TokenType != "Bearer" || su.Tokens.ExpiresIn < 890 || su.Tokens.ExpiresIn > 900 || su.Tokens.RefreshToken == "" {
			t.Fatalf("got tokens %+v, want a Bearer pair living 900 s", su.Tokens)
		}
		r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(su.Tokens.AccessToken)...)
		var me api.Me
		r.Decode(t, &me)
		if r.Status != 200 || me.User.ID != su.User.ID || me.Memberships == nil {
			t.Fatalf("me: got %d %s", r.Status, r.Body)
		}
		r = e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "SARI@example.org", "password": apptest.Password})
		var li api.AuthResponse
		r.Decode(t, &li)
		if r.Status != 200 || li.User.ID != su.User.ID {
			t.Fatalf("login: got %d %s", r.Status, r.Body)
		}
		r = e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": li.Tokens.RefreshToken})
		var rf api.RefreshResponse
		r.Decode(t, &rf)
		if r.Status != 200 || rf.Tokens.RefreshToken == li.Tokens.RefreshToken || rf.Tokens.AccessToken == "" {
			t.Fatalf("refresh: got %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(rf.Tokens.AccessToken)...); r.Status != 200 {
			t.Fatalf("me with refreshed token: got %d", r.Status)
		}
		if r := e.Do(t, "POST", "/v1/auth/logout", map[string]string{"refresh_token": rf.Tokens.RefreshToken}); r.Status != 204 {
			t.Fatalf("logout: got %d, want 204", r.Status)
		}
		r = e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": rf.Tokens.RefreshToken})
		if r.Status != 401 || r.Problem(t).Type != "/v1/problems/invalid-refresh-token" {
			t.Fatalf("refresh after logout: got %d %s, want 401 invalid-refresh-token", r.Status, r.Body)
		}
		// The first sign-in's session is separate and still alive.
		if r := e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": su.Tokens.RefreshToken}); r.Status != 200 {
			t.Fatalf("the signup session should survive another session's logout: got %d", r.Status)
		}
	})
}

func TestJWKS(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	r := e.Do(t, "GET", "/.well-known/jwks.json", nil)
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	r.Decode(t, &set)
	k := e.App.Keys.Current().Signing()
	if r.Status != 200 || len(set.Keys) != 1 || set.Keys[0].Kid != k.ID || set.Keys[0].Alg != "EdDSA" {
		t.Fatalf("got %d %s", r.Status, r.Body)
	}
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	if !ed25519.PublicKey(x).Equal(k.Public()) {
		t.Fatal("the JWKS key is not the signing key's public half")
	}
}

// Each bad request gets its 4xx problem and leaves no account behind.
func TestSignupRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		signup(t, e, "taken@example.org")
		good := `"email":"new@example.org","password":"` + apptest.Password + `","name":"Budi"`
		cases := []struct {
			name, body, ctype string
			status            int
			typ               string
		}{
			{"malformed JSON", `{"email":`, "", 400, "malformed"},
			{"not an object", `[1,2]`, "", 400, "malformed"},
			{"empty body", ``, "", 400, "malformed"},
			{"unknown field", `{` + good + `,"nickname":"b"}`, "", 400, "malformed"},
			{"trailing garbage", `{` + good + `} x`, "", 400, "malformed"},
			{"second value", `{` + good + `}{}`, "", 400, "malformed"},
			{"wrong type", `{"email":1,"password":"x","name":"b"}`, "", 400, "malformed"},
			{"wrong content type", `{` + good + `}`, "text/plain", 415, "unsupported-media-type"},
			{"no content type", `{` + good + `}`, "none", 415, "unsupported-media-type"},
			{"over the limit", `{` + good + `,"name":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413, "too-large"},
			{"invalid email", `{"email":"not-an-email","password":"` + apptest.Password + `","name":"b"}`, "", 422, "validation"},
			{"email with display name", `{"email":"Budi <b@example.org>","password":"` + apptest.Password + `","name":"b"}`, "", 422, "validation"},
			{"password too short", `{"email":"n@example.org","password":"short-pw1","name":"b"}`, "", 422, "validation"},
			{"password too long", `{"email":"n@example.org","password":"` + strings.Repeat("x", 257) + `","name":"b"}`, "", 422, "validation"},
			{"password common", `{"email":"n@example.org","password":"1234567890","name":"b"}`, "", 422, "validation"},
			{"password common, other case", `{"email":"n@example.org","password":"QwertyUiop","name":"b"}`, "", 422, "validation"},
			{"duplicate email", `{"email":"taken@example.org","password":"` + apptest.Password + `","name":"b","privacy_version":"` + notice.Version + `"}`, "", 409, "email-taken"},
			{"duplicate email, other case", `{"email":"TAKEN@Example.ORG","password":"` + apptest.Password + `","name":"b","privacy_version":"` + notice.Version + `"}`, "", 409, "email-taken"},
			{"no consent", `{` + good + `}`, "", 422, "validation"},
			{"stale consent", `{` + good + `,"privacy_version":"2020-01-01"}`, "", 422, "validation"},
			{"role in other case", `{` + good + `,"Role":"admin"}`, "", 400, "malformed"},
			{"role in lower case", `{` + good + `,"role":"admin"}`, "", 400, "malformed"},
			{"email given twice", `{` + good + `,"email":"other@example.org"}`, "", 400, "malformed"},
			{"NUL in name", `{"email":"n@example.org","password":"` + apptest.Password + `","name":"a\u0000b"}`, "", 422, "validation"},
			{"NUL in email", `{"email":"n\u0000@example.org","password":"` + apptest.Password + `","name":"b"}`, "", 422, "validation"},
			{"invalid UTF-8", "{\"email\":\"n@example.org\",\"password\":\"" + apptest.Password + "\",\"name\":\"b\xff\"}", "", 400, "malformed"},
			{"bad region", `{` + good + `,"region_code":"3170"}`, "", 422, "validation"},
			{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), "", 400, "malformed"},
		}
		before := e.Count(t, "users")
		for _, c := range cases {
			hdr := []string{}
			switch c.ctype {
			case "":
			case "none":
				hdr = []string{"Content-Type", ""}
			default:
				hdr = []string{"Content-Type", c.ctype}
			}
			r := e.Do(t, "POST", "/v1/auth/signup", c.body, hdr...)
			p := r.Problem(t)
			if r.Status != c.status || p.Type != "/v1/problems/"+c.typ || p.Status != c.status {
				t.Errorf("%s: got %d %s, want %d %s", c.name, r.Status, p.Type, c.status, c.typ)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: got Content-Type %q, want application/problem+json", c.name, ct)
			}
			if c.status == 422 && len(p.Errors) == 0 {
				t.Errorf("%s: a 422 must name the fields at fault", c.name)
			}
		}
		if after := e.Count(t, "users"); after != before {
			t.Fatalf("got %d users after refused signups, want %d", after, before)
		}
	})
}

func TestLoginRefusalsLookAlike(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		signup(t, e, "ana@example.org")
		wrong := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ana@example.org", "password": "wrong-password-1"})
		unknown := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "nobody@example.org", "password": "wrong-password-1"})
		garbage := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "no\x00body", "password": "x"})
		for name, r := range map[string]apptest.Response{"wrong password": wrong, "unknown email": unknown, "garbage": garbage} {
			p := r.Problem(t)
			if r.Status != 401 || p.Type != "/v1/problems/invalid-credentials" || p.Detail != "the email or password is wrong" {
				t.Errorf("%s: got %d %+v, want the one 401 invalid-credentials answer", name, r.Status, p)
			}
		}
	})
}

func TestLoginThrottledPerAccountAndIP(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	signup(t, e, "ana@example.org")
	var last apptest.Response
	for i := 0; i < 11; i++ {
		last = e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ana@example.org", "password": "wrong-password-1"})
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("11th attempt on one account: got %d (Retry-After %q), want 429 with Retry-After", last.Status, last.Header.Get("Retry-After"))
	}
	// The right password is throttled too while the account is.
	if r := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "ana@example.org", "password": apptest.Password}); r.Status != 429 {
		t.Fatalf("right password on a throttled account: got %d, want 429", r.Status)
	}
	// Per IP: many accounts from one address.
	for i := 0; i < 60; i++ {
		last = e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "x" + string(rune('a'+i%26)) + "@example.org", "password": "wrong-password-1"})
	}
	if last.Status != 429 {
		t.Fatalf("60 more attempts from one IP: got %d, want 429", last.Status)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "ana@example.org")
		r := e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": su.Tokens.RefreshToken})
		var rf api.RefreshResponse
		r.Decode(t, &rf)
		// Make the spend older than the grace window.
		if _, err := e.App.DB.NewRaw("UPDATE refresh_tokens SET spent_at = ? WHERE spent_at IS NOT NULL", time.Now().Add(-time.Minute)).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		r = e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": su.Tokens.RefreshToken})
		if r.Status != 401 {
			t.Fatalf("reuse of a spent token: got %d, want 401", r.Status)
		}
		r = e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": rf.Tokens.RefreshToken})
		if r.Status != 401 {
			t.Fatalf("the family's live token after reuse: got %d, want 401 (family revoked)", r.Status)
		}
	})
}

// Two tabs refreshing the same token at once both succeed (grace window) and
// stay in one family: revoking it by reuse later ends both.
func TestConcurrentRefreshStaysOneFamily(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "ana@example.org")
		var wg sync.WaitGroup
		results := make([]apptest.Response, 2)
		for i := range results {
			wg.Go(func() {
				results[i] = e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": su.Tokens.RefreshToken})
			})
		}
		wg.Wait()
		for i, r := range results {
			if r.Status != 200 {
				t.Fatalf("refresh %d: got %d %s, want 200 within the grace window", i, r.Status, r.Body)
			}
		}
		var families int
		if err := e.App.DB.NewRaw("SELECT count(DISTINCT family_id) FROM refresh_tokens").Scan(context.Background(), &families); err != nil {
			t.Fatal(err)
		}
		if families != 1 {
			t.Fatalf("got %d token families, want 1", families)
		}
	})
}

func TestSuspendedAndDeletedUsersLoseAccess(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		for _, status := range []string{"suspended", "deleted"} {
			su := signup(t, e, status+"@example.org")
			r := e.Do(t, "PATCH", "/v1/admin/users/"+su.User.ID, map[string]string{"status": status}, apptest.Bearer(admin.Tokens.AccessToken)...)
			if r.Status != 200 {
				t.Fatalf("%s: got %d %s", status, r.Status, r.Body)
			}
			if r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(su.Tokens.AccessToken)...); r.Status != 401 {
				t.Errorf("%s user's access token: got %d, want 401", status, r.Status)
			}
			if r := e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": su.Tokens.RefreshToken}); r.Status != 401 {
				t.Errorf("%s user's refresh token: got %d, want 401", status, r.Status)
			}
			if r := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": su.User.Email, "password": apptest.Password}); r.Status != 401 {
				t.Errorf("%s user's login: got %d, want 401", status, r.Status)
			}
		}
	})
}

// craft signs claims with method and key, with the given header fields.
func craft(t *testing.T, method jwt.SigningMethod, key any, kid, typ string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	tok.Header["typ"] = typ
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessTokenRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "ana@example.org")
		k := e.App.Keys.Current().Signing()
		now := time.Now()
		claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
			c := jwt.MapClaims{"iss": "jarimu", "aud": "jarimu-api", "sub": su.User.ID, "iat": now.Unix(),
				"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "j1", "role": "admin"}
			if mod != nil {
				mod(c)
			}
			return c
		}
		valid := craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(nil))
		if r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(valid)...); r.Status != 200 {
			t.Fatalf("a well-made token: got %d %s, want 200", r.Status, r.Body)
		}
		parts := strings.Split(valid, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var pm map[string]any
		json.Unmarshal(payload, &pm)
		pm["sub"] = "someone-else"
		tampered, _ := json.Marshal(pm)
		noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"` + k.ID + `"}`))
		sig := []byte(parts[2])
		sig[5] ^= 1
		_, other, _ := ed25519.GenerateKey(nil)
		cases := map[string]string{
			"garbage":           "not.a.token",
			"alg none":          noneHeader + "." + parts[1] + ".",
			"HS256 with pubkey": craft(t, jwt.SigningMethodHS256, []byte(k.Public()), k.ID, "at+jwt", claims(nil)),
			"expired":           craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })),
			"no exp":            craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { delete(c, "exp") })),
			"not yet valid":     craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() })),
			"issued in future":  craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() })),
			"wrong aud":         craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { c["aud"] = "other-api" })),
			"wrong iss":         craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "at+jwt", claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
			"unknown kid":       craft(t, jwt.SigningMethodEdDSA, k.Private, "nope", "at+jwt", claims(nil)),
			"no kid":            craft(t, jwt.SigningMethodEdDSA, k.Private, "", "at+jwt", claims(nil)),
			"wrong typ":         craft(t, jwt.SigningMethodEdDSA, k.Private, k.ID, "JWT", claims(nil)),
			"other key":         craft(t, jwt.SigningMethodEdDSA, other, k.ID, "at+jwt", claims(nil)),
			"tampered payload":  parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2],
			"tampered sig":      parts[0] + "." + parts[1] + "." + string(sig),
		}
		for name, tok := range cases {
			r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(tok)...)
			if r.Status != 401 || r.Problem(t).Type != "/v1/problems/invalid-token" {
				t.Errorf("%s: got %d %s, want 401 invalid-token", name, r.Status, r.Body)
			}
		}
		for name, hdr := range map[string][]string{"missing": nil, "basic": {"Authorization", "Basic abc"}, "empty bearer": {"Authorization", "Bearer "}} {
			r := e.Do(t, "GET", "/v1/me", nil, hdr...)
			if r.Status != 401 {
				t.Errorf("%s: got %d, want 401", name, r.Status)
			}
		}
	})
}

func TestAdminCreatesStaff(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		vol := signup(t, e, "vol@example.org")
		body := map[string]any{"email": "officer@bawaslu.go.id", "password": apptest.Password, "name": "Petugas", "role": "officer", "region_code": "31"}
		if r := e.Do(t, "POST", "/v1/admin/users", body, apptest.Bearer(vol.Tokens.AccessToken)...); r.Status != 403 {
			t.Fatalf("volunteer creating staff: got %d, want 403", r.Status)
		}
		if r := e.Do(t, "POST", "/v1/admin/users", body); r.Status != 401 {
			t.Fatalf("anonymous creating staff: got %d, want 401", r.Status)
		}
		r := e.Do(t, "POST", "/v1/admin/users", body, apptest.Bearer(admin.Tokens.AccessToken)...)
		var u api.User
		r.Decode(t, &u)
		if r.Status != 201 || u.Role != "officer" || *u.RegionCode != "31" {
			t.Fatalf("admin creating an officer: got %d %s", r.Status, r.Body)
		}
		r = e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "officer@bawaslu.go.id", "password": apptest.Password})
		var li api.AuthResponse
		r.Decode(t, &li)
		if r.Status != 200 || li.User.Role != "officer" {
			t.Fatalf("officer login: got %d %s", r.Status, r.Body)
		}
	})
}

// A retried staff creation with one Idempotency-Key makes one account and
// answers the same, also when both attempts arrive at once.
func TestAdminCreateUserIdempotent(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		body := map[string]any{"email": "o2@bawaslu.go.id", "password": apptest.Password, "name": "Petugas", "role": "officer"}
		hdr := append(apptest.Bearer(admin.Tokens.AccessToken), "Idempotency-Key", "create-o2")
		before := e.Count(t, "users")
		var wg sync.WaitGroup
		rs := make([]apptest.Response, 3)
		for i := 0; i < 2; i++ {
			wg.Go(func() { rs[i] = e.Do(t, "POST", "/v1/admin/users", body, hdr...) })
		}
		wg.Wait()
		rs[2] = e.Do(t, "POST", "/v1/admin/users", body, hdr...)
		for i, r := range rs {
			if r.Status != 201 || string(r.Body) != string(rs[0].Body) {
				t.Fatalf("attempt %d: got %d %s, want the first answer %s", i, r.Status, r.Body, rs[0].Body)
			}
		}
		if got := e.Count(t, "users"); got != before+1 {
			t.Fatalf("got %d new accounts, want 1", got-before)
		}
		body["name"] = "Other"
		r := e.Do(t, "POST", "/v1/admin/users", body, hdr...)
		if r.Status != 422 || r.Problem(t).Type != "/v1/problems/idempotency-key-reused" {
			t.Fatalf("same key, other body: got %d %s, want 422 idempotency-key-reused", r.Status, r.Body)
		}
		long := append(apptest.Bearer(admin.Tokens.AccessToken), "Idempotency-Key", strings.Repeat("k", 129))
		if r := e.Do(t, "POST", "/v1/admin/users", body, long...); r.Status != 400 {
			t.Fatalf("a 129-byte key: got %d, want 400", r.Status)
		}
	})
}

func TestRouterErrorsAreProblems(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	r := e.Do(t, "GET", "/v1/nothing-here", nil)
	if r.Status != 404 || r.Problem(t).Type != "/v1/problems/not-found" {
		t.Fatalf("got %d %s, want a 404 problem", r.Status, r.Body)
	}
	r = e.Do(t, "PUT", "/v1/me", nil)
	if r.Status != 405 || r.Problem(t).Type != "/v1/problems/method-not-allowed" || r.Header.Get("Allow") == "" {
		t.Fatalf("got %d %s, want a 405 problem with Allow", r.Status, r.Body)
	}
	r = e.Do(t, "GET", "/v1/problems/task-full-nonexistent", nil)
	if r.Status != 404 {
		t.Fatalf("unknown problem page: got %d", r.Status)
	}
	r = e.Do(t, "GET", "/v1/problems/email-taken", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "email") {
		t.Fatalf("problem page: got %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz: got %d", r.Status)
	}
	if r := e.Do(t, "GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz: got %d", r.Status)
	}
}

// Behind a trusted load balancer the login throttle keys on the client's
// address from X-Forwarded-For; from anyone else the header is ignored.
func TestTrustedProxyClientIP(t *testing.T) {
	e := apptest.Start(t, "sqlite", func(o *app.Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		// The default's burst (50) refilled over an hour, not 25 s: on a
		// loaded machine the 50 attempts took long enough to earn a 51st.
		o.Login.LoginPerIP = ratelimit.NewMemory(ratelimit.Rule{Burst: 50, Every: time.Hour}, nil)
	})
	signup(t, e, "ana@example.org")
	n := 0
	login := func(xff string) int {
		n++ // a new account each time, so only the per-IP throttle can bite
		return e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": fmt.Sprintf("nobody%d@example.org", n), "password": "wrong-password-1"},
			"X-Forwarded-For", "203.0.113.9, "+xff).Status
	}
	for i := 0; i < 50; i++ {
		login("198.51.100.1")
	}
	if got := login("198.51.100.1"); got != 429 {
		t.Fatalf("51st attempt from one client: got %d, want 429", got)
	}
	if got := login("198.51.100.2"); got != 401 {
		t.Fatalf("another client behind the same proxy: got %d, want 401 (its own budget)", got)
	}
}

// Logins and refreshes racing an admin's suspension or erasure of the
// account never deadlock with it (PostgreSQL answered 500 to one of them)
// and no session outlives it: every refresh token of the account is
// revoked or gone afterwards, whichever committed first.
func TestSessionsRacingAccountEnds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		const rounds = 8
		for _, end := range []string{"suspend", "erase"} {
			tally := map[string]int{}
			for i := range rounds {
				email := fmt.Sprintf("%s-%d@example.org", end, i)
				v := signup(t, e, email)
				rs := race(t, 3, func(i int) (string, string, string, string, any) {
					switch i {
					case 0:
						return e.URL, "", "POST", "/v1/auth/login", map[string]any{"email": email, "password": apptest.Password}
					case 1:
						return e.URL, "", "POST", "/v1/auth/refresh", map[string]any{"refresh_token": v.Tokens.RefreshToken}
					case 2:
						if end == "suspend" {
							return e.URL, tok(admin), "PATCH", "/v1/admin/users/" + v.User.ID, map[string]any{"status": api.UserSuspended}
						}
					}
					return e.URL, tok(admin), "POST", "/v1/admin/users/" + v.User.ID + "/erasure", map[string]any{"reason": "permintaan subjek data"}
				})
				if rs[2].Status != http.StatusOK {
					t.Fatalf("%s: got %v", end, rs[2])
				}
				for i, want := range []string{"401 invalid-credentials", "401 invalid-refresh-token"} {
					if got := rs[i].String(); got != "200" && got != want {
						t.Errorf("%s: %s during it: got %s", end, []string{"login", "refresh"}[i], got)
					}
					tally[rs[i].String()]++
				}
				if n := count(t, e, "refresh_tokens", "user_id = ? AND revoked_at IS NULL", v.User.ID); n != 0 {
					t.Errorf("%s: %d sessions of the account outlived it", end, n)
				}
			}
			t.Logf("%s: %v", end, tally)
		}
	})
}

// A password reset confirmed while an admin suspends or erases the account
// never deadlocks with it (PostgreSQL ended one of them, and the reset's
// side was answered as an invalid link): the reset commits first or is
// refused after, and the change always succeeds.
func TestResetRacingAccountEnds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		for _, end := range []string{"suspend", "erase"} {
			tally := map[string]int{}
			for i := range 8 {
				v := signup(t, e, fmt.Sprintf("reset-%s-%d@example.org", end, i))
				link, err := e.App.Auth.AdminResetLink(context.Background(), v.User.Email, "http://127.0.0.1:8080")
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(link)
				rs := race(t, 2, func(i int) (string, string, string, string, any) {
					switch {
					case i == 0:
						return e.URL, "", "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": u.Query().Get("token"), "password": "kata sandi baru yang panjang"}
					case end == "suspend":
						return e.URL, tok(admin), "PATCH", "/v1/admin/users/" + v.User.ID, map[string]any{"status": api.UserSuspended}
					}
					return e.URL, tok(admin), "POST", "/v1/admin/users/" + v.User.ID + "/erasure", map[string]any{"reason": "permintaan subjek data"}
				})
				if rs[1].Status != http.StatusOK {
					t.Fatalf("%s: got %v", end, rs[1])
				}
				if got := rs[0].String(); got != "204" && got != "401 invalid-reset-token" {
					t.Errorf("%s: the reset during it: got %s", end, got)
				}
				tally[rs[0].String()]++
			}
			t.Logf("%s: resets %v", end, tally)
		}
	})
}

// A login with a hash made under weaker parameters upgrades it, once: the
// upgrade replaces only the hash the login checked (a password changed or
// an account erased meanwhile keeps what that wrote), which is still the
// stored one here.
func TestLoginUpgradesWeakHash(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := signup(t, e, "lama@example.org")
		salt := []byte("0123456789abcdef")
		weak := "$argon2id$v=19$m=32,t=3,p=2$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
			base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(apptest.Password), salt, 3, 32, 2, 24))
		stored := func() string {
			t.Helper()
			var h string
			if err := e.App.DB.NewSelect().Table("users").Column("password_hash").Where("id = ?", v.User.ID).Scan(context.Background(), &h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		exec(t, e, "UPDATE users SET password_hash = ? WHERE id = ?", weak, v.User.ID)
		must(t, "login with the weak hash", login(t, e, v.User.Email, apptest.Password, ""), http.StatusOK, "")
		up := stored()
		if up == weak || !strings.HasPrefix(up, "$argon2id$") {
			t.Fatalf("after the login the hash is %q, want it upgraded", up)
		}
		must(t, "login with the upgraded hash", login(t, e, v.User.Email, apptest.Password, ""), http.StatusOK, "")
		if again := stored(); again != up {
			t.Fatalf("a login with a current hash rewrote it")
		}
	})
}
