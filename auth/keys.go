package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrBadKeyFile reports a signing key file (or key list) whose content is
// unusable: bad JSON, no keys, a bad seed, a missing or duplicate kid.
var ErrBadKeyFile = errors.New("auth: bad signing key file")

// Key is one Ed25519 signing key of a KeySet.
type Key struct {
	// ID is the key id, published as "kid" in token headers and the JWKS.
	ID string
	// CreatedAt orders keys: the newest key of a set signs new tokens.
	CreatedAt time.Time
	// Private is the full Ed25519 private key (seed and public half).
	Private ed25519.PrivateKey
}

// Public returns the verification half of k.
func (k Key) Public() ed25519.PublicKey {
	return k.Private.Public().(ed25519.PublicKey)
}

// KeySet holds every known signing key. The newest key (latest CreatedAt;
// on a tie, the later one in the list) signs; all keys verify, so tokens
// issued before a rotation stay valid until they expire. A KeySet is
// immutable and safe for concurrent use.
type KeySet struct {
	keys    []Key
	byID    map[string]ed25519.PublicKey
	signing Key
	jwks    []byte
}

// keyFile is the JSON layout of a key file.
type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

// keyFileEntry is one key in a key file; PrivateKey is the base64url
// (unpadded) encoding of the 32-byte Ed25519 seed.
type keyFileEntry struct {
	KID        string    `json:"kid"`
	CreatedAt  time.Time `json:"created_at"`
	PrivateKey string    `json:"private_key"`
}

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
		if i == 0 || !k.CreatedAt.Before(s.signing.CreatedAt) {
			s.signing = k
		}
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

// Signing returns the key that signs new tokens: the newest one.
func (s *KeySet) Signing() Key {
	return s.signing
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

// LoadKeyFile reads a key file (see AddKeyToFile for the format) and
// returns its KeySet. A missing file yields an error wrapping
// fs.ErrNotExist; bad content yields one wrapping ErrBadKeyFile. File
// permissions are not checked.
func LoadKeyFile(path string) (*KeySet, error) {
	keys, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := NewKeySet(keys...)
	if err != nil {
		return nil, fmt.Errorf("auth: key file %s: %w", path, err)
	}
	return s, nil
}

// readKeyFile reads and decodes the keys of a key file without checking
// them as a set.
func readKeyFile(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("auth: key file %s: %w: %w", path, ErrBadKeyFile, err)
	}
	keys := make([]Key, 0, len(f.Keys))
	for i, e := range f.Keys {
		k, err := e.key()
		if err != nil {
			return nil, fmt.Errorf("auth: key file %s: %w: key %d: %w", path, ErrBadKeyFile, i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// key decodes the seed of e into a Key.
func (e keyFileEntry) key() (Key, error) {
	seed, err := base64.RawURLEncoding.DecodeString(e.PrivateKey)
	if err != nil {
		return Key{}, fmt.Errorf("kid %q: private_key: %w", e.KID, err)
	}
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("kid %q: seed is %d bytes, want %d", e.KID, len(seed), ed25519.SeedSize)
	}
	return Key{ID: e.KID, CreatedAt: e.CreatedAt, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// AddKeyToFile generates a key created at now and makes it the newest key
// of the key file at path, creating the file (mode 0600, parent directories
// 0700) if it does not exist. This is how keys are rotated: the new key
// signs, the old ones keep verifying until removed by hand. The file is
// JSON, {"keys":[{"kid":..,"created_at":RFC 3339,"private_key":base64url
// seed}]}, replaced atomically. Concurrent writers are not coordinated.
func AddKeyToFile(path string, now time.Time) (Key, error) {
	keys, err := readKeyFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Key{}, err
	}
	k, err := GenerateKey(now)
	if err != nil {
		return Key{}, err
	}
	keys = append(keys, k)
	if _, err := NewKeySet(keys...); err != nil {
		return Key{}, fmt.Errorf("auth: key file %s: %w", path, err)
	}
	if err := writeKeyFile(path, keys); err != nil {
		return Key{}, err
	}
	return k, nil
}

// EnsureKeyFile loads the key file at path, or creates it with one new key
// if it does not exist (embedded mode generates keys into the data
// directory on first start). The bool reports whether it was created.
func EnsureKeyFile(path string, now time.Time) (*KeySet, bool, error) {
	s, err := LoadKeyFile(path)
	if err == nil {
		return s, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if _, err := AddKeyToFile(path, now); err != nil {
		return nil, false, err
	}
	s, err = LoadKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// writeKeyFile encodes keys and atomically replaces path with them: it
// writes a 0600 temporary file in the same directory, syncs it and renames
// it over path.
func writeKeyFile(path string, keys []Key) error {
	data, err := encodeKeyFile(keys)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("auth: key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := writeAndClose(tmp, data); err != nil {
		return fmt.Errorf("auth: key file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("auth: key file %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// encodeKeyFile renders keys in the key file format.
func encodeKeyFile(keys []Key) ([]byte, error) {
	f := keyFile{Keys: make([]keyFileEntry, 0, len(keys))}
	for _, k := range keys {
		f.Keys = append(f.Keys, keyFileEntry{
			KID:        k.ID,
			CreatedAt:  k.CreatedAt.UTC(),
			PrivateKey: base64.RawURLEncoding.EncodeToString(k.Private.Seed()),
		})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("auth: encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

// writeAndClose writes data to f with mode 0600, flushes it to disk and
// closes it.
func writeAndClose(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir flushes a directory entry change (a rename) to disk. It is best
// effort: some platforms cannot sync directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
