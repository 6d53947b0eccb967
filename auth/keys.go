package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrBadKeyFile reports a signing key file (or key list) whose content is
// unusable: bad JSON, no keys, a bad seed, a missing or duplicate kid.
var ErrBadKeyFile = errors.New("auth: bad signing key file")

// ErrKeyInUse reports a key that cannot be retired yet: it signs, or tokens
// it signed may still be valid.
var ErrKeyInUse = errors.New("auth: signing key still in use")

// ErrUnknownKey reports a kid that is not in the key set.
var ErrUnknownKey = errors.New("auth: no such key")

// Key is one Ed25519 signing key of a KeySet.
type Key struct {
	// ID is the key id, published as "kid" in token headers and the JWKS.
	ID string
	// CreatedAt orders keys: of the active keys, the newest signs.
	CreatedAt time.Time
	// NotBefore is when the key starts signing; until then it is only
	// published and verifies. Zero means from CreatedAt (key files written
	// before rotations were scheduled have none).
	NotBefore time.Time
	// Private is the full Ed25519 private key (seed and public half).
	Private ed25519.PrivateKey
}

// Public returns the verification half of k.
func (k Key) Public() ed25519.PublicKey {
	return k.Private.Public().(ed25519.PublicKey)
}

// ActiveFrom is when k may start signing: NotBefore, or CreatedAt when
// that is zero.
func (k Key) ActiveFrom() time.Time {
	if !k.NotBefore.IsZero() {
		return k.NotBefore
	}
	return k.CreatedAt
}

// KeySet holds every known signing key. All keys verify, so tokens issued
// before a rotation stay valid until they expire; the JWKS publishes them
// all, including keys that do not sign yet. Which key signs depends on the
// time (see SigningAt). A KeySet is immutable and safe for concurrent use;
// a KeyRing swaps whole sets.
type KeySet struct {
	keys []Key
	byID map[string]ed25519.PublicKey
	jwks []byte
}

// KeySource gives the key set in force: a *KeySet is its own fixed source,
// a *KeyRing the set last read from its key file.
type KeySource interface {
	Current() *KeySet
}

var (
	_ KeySource = (*KeySet)(nil)
	_ KeySource = (*KeyRing)(nil)
)

// GenerateKey makes a new random Ed25519 key created at now (truncated to
// whole seconds, as stored in key files). Its ID is the
// UTC creation date followed by 8 random base64url characters, e.g.
// "20260301-q3J_x0aZ", so operators can tell key ages apart at a glance.
func GenerateKey(now time.Time) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("auth: generate key: %w", err)
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return Key{}, fmt.Errorf("auth: generate key id: %w", err)
	}
	id := now.UTC().Format("20060102") + "-" + base64.RawURLEncoding.EncodeToString(suffix)
	return Key{ID: id, CreatedAt: now.UTC().Truncate(time.Second), Private: priv}, nil
}

// NewKeySet builds a KeySet from keys. It fails with ErrBadKeyFile when
// keys is empty, a key has an empty or duplicate ID, a zero CreatedAt, or a
// private key of the wrong size.
func NewKeySet(keys ...Key) (*KeySet, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrBadKeyFile)
	}
	s := &KeySet{keys: make([]Key, 0, len(keys)), byID: make(map[string]ed25519.PublicKey, len(keys))}
	for i, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrBadKeyFile, i, err)
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate kid %q", ErrBadKeyFile, k.ID)
		}
		s.byID[k.ID] = k.Public()
		s.keys = append(s.keys, k)
	}
	jwks, err := buildJWKS(s.keys)
	if err != nil {
		return nil, err
	}
	s.jwks = jwks
	return s, nil
}

// checkKey reports why k cannot be part of a KeySet, or nil.
func checkKey(k Key) error {
	switch {
	case k.ID == "":
		return errors.New("empty kid")
	case k.CreatedAt.IsZero():
		return fmt.Errorf("kid %q: missing created_at", k.ID)
	case len(k.Private) != ed25519.PrivateKeySize:
		return fmt.Errorf("kid %q: private key is %d bytes, want %d", k.ID, len(k.Private), ed25519.PrivateKeySize)
	}
	return nil
}

// Current returns s itself: a KeySet is a fixed KeySource.
func (s *KeySet) Current() *KeySet {
	return s
}

// newer reports whether key i of s is newer than key j: created later, or
// at the same second and later in the list.
func (s *KeySet) newer(i, j int) bool {
	a, b := s.keys[i].CreatedAt, s.keys[j].CreatedAt
	return a.After(b) || a.Equal(b) && i > j
}

// SigningAt returns the key that signs new tokens at now: the newest key
// (by CreatedAt) whose ActiveFrom has come. A key scheduled after a newer
// one thus never signs once the newer one does. When no key is active yet
// (a hand-made file), the one that becomes active first signs, so that an
// instance can always sign.
func (s *KeySet) SigningAt(now time.Time) Key {
	best, first := -1, 0
	for i, k := range s.keys {
		if !k.ActiveFrom().After(now) && (best < 0 || s.newer(i, best)) {
			best = i
		}
		if k.ActiveFrom().Before(s.keys[first].ActiveFrom()) {
			first = i
		}
	}
	if best < 0 {
		return s.keys[first]
	}
	return s.keys[best]
}

// Signing returns the key that signs new tokens now (SigningAt of the
// current time).
func (s *KeySet) Signing() Key {
	return s.SigningAt(time.Now())
}

// CheckRetire reports whether the key kid may be removed at now without
// failing a valid token, given the access-token lifetime ttl: nil when it
// never signed (its ActiveFrom is still ahead and it is not the fallback
// signer) or when a newer key took over at least ttl plus TokenLeeway ago.
// Otherwise the error wraps ErrKeyInUse and says from when it may go, or
// ErrUnknownKey. A key stops signing when the first newer key becomes
// active, so that moment follows from the times in the set. A negative ttl
// skips the wait (a leaked key must go at once, valid tokens or not); the
// key that signs is never retired.
func (s *KeySet) CheckRetire(kid string, now time.Time, ttl time.Duration) error {
	i := slices.IndexFunc(s.keys, func(k Key) bool { return k.ID == kid })
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	k := s.keys[i]
	if s.SigningAt(now).ID == kid {
		return fmt.Errorf("%w: %s signs new tokens; rotate to a new key first, and retire this one once the new key has signed for the access-token lifetime (%s)", ErrKeyInUse, kid, ttl)
	}
	if ttl < 0 || k.ActiveFrom().After(now) {
		return nil // forced, or it never signed
	}
	var stopped time.Time
	for j, n := range s.keys {
		if s.newer(j, i) && (stopped.IsZero() || n.ActiveFrom().Before(stopped)) {
			stopped = n.ActiveFrom()
		}
	}
	if until := stopped.Add(ttl + TokenLeeway); now.Before(until) {
		return fmt.Errorf("%w: %s signed tokens until %s, which stay valid for the access-token lifetime (%s); retire it at or after %s",
			ErrKeyInUse, kid, stopped.UTC().Format(time.RFC3339), ttl, until.UTC().Format(time.RFC3339))
	}
	return nil
}

// Keys returns a copy of all keys in their original order.
func (s *KeySet) Keys() []Key {
	return append([]Key(nil), s.keys...)
}

// PublicKey returns the verification key with the given kid.
func (s *KeySet) PublicKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := s.byID[kid]
	return pub, ok
}

// JWKS returns the JSON Web Key Set (RFC 7517, OKP keys per RFC 8037) of
// the public keys, for serving at a well-known URL. It is computed once;
// the returned slice is a copy the caller may keep or modify.
func (s *KeySet) JWKS() []byte {
	return append([]byte(nil), s.jwks...)
}

// jwk is the public JSON Web Key of one Ed25519 key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// buildJWKS encodes the public halves of keys as a JWK Set.
func buildJWKS(keys []Key) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA", Use: "sig", Kid: k.ID,
			X: base64.RawURLEncoding.EncodeToString(k.Public()),
		})
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("auth: encode jwks: %w", err)
	}
	return b, nil
}
