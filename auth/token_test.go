package auth

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// testTokenConfig is the TokenConfig used throughout the tests.
func testTokenConfig() TokenConfig {
	return TokenConfig{Issuer: "https://jarimu.test", Audience: "jarimu-api", TTL: 10 * time.Minute}
}

// fixedClock returns a clock stopped at now.
func fixedClock(now time.Time) func() time.Time {
	return func() time.Time { return now }
}

// issueWith issues a token for user "u1" with role "pengawas" signed by
// keys at testEpoch.
func issueWith(t testing.TB, keys *KeySet) string {
	t.Helper()
	tok, _, err := NewTokens(keys, testTokenConfig(), fixedClock(testEpoch)).Issue("u1", "pengawas")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

// b64 is unpadded base64url, the JWS segment encoding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// segments encodes header and claims as the first two JWS segments.
func segments(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b64(h) + "." + b64(c)
}

// signEd builds an EdDSA JWS by hand so that tests control every byte.
func signEd(t testing.TB, priv ed25519.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	s := segments(t, header, claims)
	return s + "." + b64(ed25519.Sign(priv, []byte(s)))
}

// goodHeader is a valid access token header for kid.
func goodHeader(kid string) map[string]any {
	return map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": kid}
}

// goodClaims are valid claims for testTokenConfig at now.
func goodClaims(now time.Time) map[string]any {
	cfg := testTokenConfig()
	return map[string]any{
		"iss": cfg.Issuer, "aud": cfg.Audience, "sub": "u1", "role": "pengawas",
		"jti": uuid.NewString(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(cfg.TTL).Unix(),
	}
}

// with returns a copy of m with key set to v, or deleted if v is nil.
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[k] = val
	}
	if v == nil {
		delete(out, key)
	} else {
		out[key] = v
	}
	return out
}

// headerOf decodes the JOSE header of token.
func headerOf(t testing.TB, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("unmarshal header: %v", err)
	}
	return h
}

func TestTokenConfigValidate(t *testing.T) {
	good := testTokenConfig()
	tests := []struct {
		name    string
		cfg     TokenConfig
		wantErr bool
	}{
		{"good", good, false},
		{"max ttl", TokenConfig{Issuer: "i", Audience: "a", TTL: MaxTokenTTL}, false},
		{"zero ttl", TokenConfig{Issuer: "i", Audience: "a"}, true},
		{"zero ttl with defaults", TokenConfig{Issuer: "i", Audience: "a"}.WithDefaults(), false},
		{"negative ttl", TokenConfig{Issuer: "i", Audience: "a", TTL: -time.Second}, true},
		{"ttl over max", TokenConfig{Issuer: "i", Audience: "a", TTL: MaxTokenTTL + time.Second}, true},
		{"no issuer", TokenConfig{Audience: "a", TTL: time.Minute}, true},
		{"no audience", TokenConfig{Issuer: "i", TTL: time.Minute}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadTokenConfig) {
				t.Errorf("got %v, want it to wrap ErrBadTokenConfig", err)
			}
		})
	}
	if got := (TokenConfig{}).WithDefaults().TTL; got != DefaultTokenTTL {
		t.Errorf("default TTL: got %v, want %v", got, DefaultTokenTTL)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	keys := mustKeySet(t, mustKey(t, testEpoch))
	now := testEpoch.Add(1500 * time.Millisecond)
	tokens := NewTokens(keys, testTokenConfig(), fixedClock(now))
	token, exp, err := tokens.Issue("user-42", "admin")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if want := time.Unix(now.Unix(), 0).Add(testTokenConfig().TTL); !exp.Equal(want) {
		t.Errorf("expiresAt: got %v, want %v", exp, want)
	}
	h := headerOf(t, token)
	for field, want := range map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": keys.Signing().ID} {
		if h[field] != want {
			t.Errorf("header %s: got %v, want %q", field, h[field], want)
		}
	}
	c, err := tokens.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"sub", c.Subject, "user-42"},
		{"role", c.Role, "admin"},
		{"iss", c.Issuer, testTokenConfig().Issuer},
		{"aud", strings.Join(c.Audience, ","), testTokenConfig().Audience},
		{"iat", c.IssuedAt.String(), time.Unix(now.Unix(), 0).String()},
		{"nbf", c.NotBefore.String(), c.IssuedAt.String()},
		{"exp", c.ExpiresAt.String(), exp.String()},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if _, err := uuid.Parse(c.ID); err != nil {
		t.Errorf("jti: got %q, want a UUID (%v)", c.ID, err)
	}
	if payload := strings.Split(token, ".")[1]; !strings.Contains(decodeSegment(t, payload), `"aud":"jarimu-api"`) {
		t.Errorf("payload %s: want aud as a single string", decodeSegment(t, payload))
	}
}

// decodeSegment decodes a base64url JWS segment to a string.
func decodeSegment(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode segment: %v", err)
	}
	return string(b)
}

func TestIssueUniqueJTI(t *testing.T) {
	keys := mustKeySet(t, mustKey(t, testEpoch))
	tokens := NewTokens(keys, testTokenConfig(), fixedClock(testEpoch))
	a, _ := tokens.Verify(issueWith(t, keys))
	b, _ := tokens.Verify(issueWith(t, keys))
	if a == nil || b == nil || a.ID == b.ID {
		t.Errorf("jti of two tokens: got %v and %v, want two different ids", a, b)
	}
}

func TestVerifyAcceptsWithinLeeway(t *testing.T) {
	key := mustKey(t, testEpoch)
	tokens := NewTokens(mustKeySet(t, key), testTokenConfig(), fixedClock(testEpoch))
	skew := TokenLeeway - time.Second
	h := goodHeader(key.ID)
	tests := []struct {
		name   string
		header map[string]any
		claims map[string]any
	}{
		{"hand-built valid token", h, goodClaims(testEpoch)},
		{"just expired", h, with(goodClaims(testEpoch.Add(-time.Hour)), "exp", testEpoch.Add(-skew).Unix())},
		{"issued slightly in the future", h, goodClaims(testEpoch.Add(skew))},
		{"aud as array", h, with(goodClaims(testEpoch), "aud", []string{"other", "jarimu-api"})},
		{"typ upper case", with(h, "typ", "AT+JWT"), goodClaims(testEpoch)},
		{"typ as full media type", with(h, "typ", "application/at+jwt"), goodClaims(testEpoch)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tokens.Verify(signEd(t, key.Private, tc.header, tc.claims)); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	key := mustKey(t, testEpoch)
	keys := mustKeySet(t, key)
	other := mustKey(t, testEpoch)
	now := testEpoch
	cfg := testTokenConfig()
	good := goodClaims(now)
	issued := issueWith(t, keys)
	parts := strings.Split(issued, ".")

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "garbage"},
		{"garbage segments", "a.b.c"},
		{"two segments", parts[0] + "." + parts[1]},
		{"alg none", segments(t, with(goodHeader(key.ID), "alg", "none"), good) + "."},
		{"alg none with signature", segments(t, with(goodHeader(key.ID), "alg", "none"), good) + "." + parts[2]},
		{"HS256 with public key as secret", hs256(t, key, good)},
		{"alg ES256", segments(t, with(goodHeader(key.ID), "alg", "ES256"), good) + "." + parts[2]},
		{"expired", signEd(t, key.Private, goodHeader(key.ID), goodClaims(now.Add(-cfg.TTL-TokenLeeway-time.Second)))},
		{"nbf in future", signEd(t, key.Private, goodHeader(key.ID), with(good, "nbf", now.Add(time.Minute).Unix()))},
		{"iat in future", signEd(t, key.Private, goodHeader(key.ID), with(good, "iat", now.Add(time.Minute).Unix()))},
		{"issued in future", signEd(t, key.Private, goodHeader(key.ID), goodClaims(now.Add(TokenLeeway+2*time.Second)))},
		{"wrong aud", signEd(t, key.Private, goodHeader(key.ID), with(good, "aud", "other-api"))},
		{"wrong aud array", signEd(t, key.Private, goodHeader(key.ID), with(good, "aud", []string{"a", "b"}))},
		{"missing aud", signEd(t, key.Private, goodHeader(key.ID), with(good, "aud", nil))},
		{"wrong iss", signEd(t, key.Private, goodHeader(key.ID), with(good, "iss", "https://evil.test"))},
		{"missing iss", signEd(t, key.Private, goodHeader(key.ID), with(good, "iss", nil))},
		{"unknown kid", signEd(t, key.Private, goodHeader("no-such-kid"), good)},
		{"missing kid", signEd(t, key.Private, with(goodHeader(key.ID), "kid", nil), good)},
		{"kid not a string", signEd(t, key.Private, with(goodHeader(key.ID), "kid", 7), good)},
		{"typ JWT", signEd(t, key.Private, with(goodHeader(key.ID), "typ", "JWT"), good)},
		{"typ other media type", signEd(t, key.Private, with(goodHeader(key.ID), "typ", "application/jwt"), good)},
		{"typ with only a prefix", signEd(t, key.Private, with(goodHeader(key.ID), "typ", "application/"), good)},
		{"missing typ", signEd(t, key.Private, with(goodHeader(key.ID), "typ", nil), good)},
		{"missing exp", signEd(t, key.Private, goodHeader(key.ID), with(good, "exp", nil))},
		{"missing iat", signEd(t, key.Private, goodHeader(key.ID), with(good, "iat", nil))},
		{"missing sub", signEd(t, key.Private, goodHeader(key.ID), with(good, "sub", nil))},
		{"empty sub", signEd(t, key.Private, goodHeader(key.ID), with(good, "sub", ""))},
		{"missing jti", signEd(t, key.Private, goodHeader(key.ID), with(good, "jti", nil))},
		{"missing role", signEd(t, key.Private, goodHeader(key.ID), with(good, "role", nil))},
		{"exp as string", signEd(t, key.Private, goodHeader(key.ID), with(good, "exp", "soon"))},
		{"tampered payload", tamperRole(t, issued)},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipChar(parts[2], 10)},
		{"signature from another token", parts[0] + "." + parts[1] + "." + strings.Split(issueWith(t, keys), ".")[2]},
		{"signed by another key with a known kid", signEd(t, other.Private, goodHeader(key.ID), good)},
		{"over 4 KiB", signEd(t, key.Private, goodHeader(key.ID), with(good, "pad", strings.Repeat("x", MaxTokenBytes)))},
	}
	tokens := NewTokens(keys, cfg, fixedClock(now))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tokens.Verify(tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("got claims %v, error %v, want ErrInvalidToken", c, err)
			}
			if c != nil {
				t.Errorf("got claims %v, want nil", c)
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestVerifyExpiredMatchesJWTError(t *testing.T) {
	key := mustKey(t, testEpoch)
	tokens := NewTokens(mustKeySet(t, key), testTokenConfig(), fixedClock(testEpoch.Add(time.Hour)))
	_, err := tokens.Verify(issueWith(t, mustKeySet(t, key)))
	if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("got %v, want ErrInvalidToken and jwt.ErrTokenExpired", err)
	}
}

func TestTokensWithBadConfigFailClosed(t *testing.T) {
	keys := mustKeySet(t, mustKey(t, testEpoch))
	token := issueWith(t, keys)
	tests := []struct {
		name string
		keys *KeySet
		cfg  TokenConfig
	}{
		{"no issuer", keys, TokenConfig{Audience: "jarimu-api"}},
		{"no audience", keys, TokenConfig{Issuer: "https://jarimu.test"}},
		{"ttl too long", keys, TokenConfig{Issuer: "i", Audience: "a", TTL: time.Hour}},
		{"nil keys", nil, testTokenConfig()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tokens := NewTokens(tc.keys, tc.cfg, nil)
			if _, _, err := tokens.Issue("u1", "pengawas"); !errors.Is(err, ErrBadTokenConfig) {
				t.Errorf("Issue: got %v, want ErrBadTokenConfig", err)
			}
			if _, err := tokens.Verify(token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify: got %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestIssueRejectsEmptyInput(t *testing.T) {
	tokens := NewTokens(mustKeySet(t, mustKey(t, testEpoch)), testTokenConfig(), nil)
	for _, in := range [][2]string{{"", "admin"}, {"u1", ""}} {
		if tok, _, err := tokens.Issue(in[0], in[1]); err == nil {
			t.Errorf("Issue(%q, %q): got %q, nil, want an error", in[0], in[1], tok)
		}
	}
}

// hs256 signs claims with HMAC-SHA256 keyed by the raw Ed25519 public key,
// the classic algorithm-confusion attack.
func hs256(t testing.TB, key Key, claims map[string]any) string {
	t.Helper()
	s := segments(t, with(goodHeader(key.ID), "alg", "HS256"), claims)
	mac := hmac.New(sha256.New, key.Public())
	mac.Write([]byte(s))
	return s + "." + b64(mac.Sum(nil))
}

// tamperRole rewrites the role claim of token to "admin", keeping the
// original signature.
func tamperRole(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	var claims map[string]any
	if err := json.Unmarshal([]byte(decodeSegment(t, parts[1])), &claims); err != nil {
		t.Fatalf("unmarshal claims: %v", err)
	}
	claims["role"] = "admin"
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + b64(c) + "." + parts[2]
}

// flipChar replaces the base64url character at i with a different one.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func BenchmarkIssue(b *testing.B) {
	tokens := NewTokens(mustKeySet(b, mustKey(b, testEpoch)), testTokenConfig(), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.Issue("user-42", "pengawas"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	keys := mustKeySet(b, mustKey(b, testEpoch))
	tokens := NewTokens(keys, testTokenConfig(), nil)
	token, _, err := tokens.Issue("user-42", "pengawas")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(token); err != nil {
			b.Fatal(err)
		}
	}
}

// A verified token is remembered until it expires: verifying it again
// gives the same claims, and once the clock passes exp (and the leeway) it
// fails as before. Remembering never lets a different token through.
func TestVerifyRemembersUntilExpiry(t *testing.T) {
	key := mustKey(t, testEpoch)
	clock := testEpoch
	tokens := NewTokens(mustKeySet(t, key), testTokenConfig(), func() time.Time { return clock })
	tok := signEd(t, key.Private, goodHeader(key.ID), goodClaims(testEpoch))
	first, err := tokens.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tokens.Verify(tok)
	if err != nil || again.Subject != first.Subject || again.ID != first.ID || again.Role != first.Role ||
		!again.ExpiresAt.Equal(first.ExpiresAt.Time) || !again.IssuedAt.Equal(first.IssuedAt.Time) || again.Issuer != first.Issuer {
		t.Fatalf("second verify: %+v, %v; want %+v", again, err, first)
	}
	// One character of the signature changed: a different token, checked in full.
	tampered := tok[:len(tok)-2] + map[bool]string{true: "A", false: "B"}[tok[len(tok)-2] != 'A'] + tok[len(tok)-1:]
	if _, err := tokens.Verify(tampered); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("tampered token after the good one: got %v, want ErrInvalidToken", err)
	}
	clock = first.ExpiresAt.Add(TokenLeeway - time.Second)
	if _, err := tokens.Verify(tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	clock = first.ExpiresAt.Add(TokenLeeway + time.Second)
	if _, err := tokens.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after expiry: got %v, want ErrInvalidToken", err)
	}
}
