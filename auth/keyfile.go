package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DefaultKeyDelay is how long after it is added a rotated key starts
// signing (10 min): long enough for every instance to re-read the key file
// and for every client's copy of the JWKS (cached up to 5 min) to hold the
// new key before any token signed by it is seen.
const DefaultKeyDelay = 10 * time.Minute

// keyFile is the JSON layout of a key file:
//
//	{"keys": [{"kid": "20260301-q3J_x0aZ", "created_at": "2026-03-01T12:00:00Z",
//	           "not_before": "2026-03-01T12:10:00Z", "private_key": "<base64url seed>"}]}
//
// not_before is absent for a key that signs from created_at (every key of
// files written before rotations were scheduled).
type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

// keyFileEntry is one key in a key file; PrivateKey is the base64url
// (unpadded) encoding of the 32-byte Ed25519 seed.
type keyFileEntry struct {
	KID        string    `json:"kid"`
	CreatedAt  time.Time `json:"created_at"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	PrivateKey string    `json:"private_key"`
}

// LoadKeyFile reads a key file and returns its KeySet. A missing file
// yields an error wrapping fs.ErrNotExist; bad content yields one wrapping
// ErrBadKeyFile. File permissions are not checked.
func LoadKeyFile(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	return parseKeySet(path, data)
}

// parseKeySet decodes the content of the key file at path into a KeySet.
func parseKeySet(path string, data []byte) (*KeySet, error) {
	keys, err := parseKeyFile(path, data)
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
	return parseKeyFile(path, data)
}

// parseKeyFile decodes the keys of a key file's content.
func parseKeyFile(path string, data []byte) ([]Key, error) {
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
	return Key{ID: e.KID, CreatedAt: e.CreatedAt, NotBefore: e.NotBefore, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// AddKeyToFile generates a key created at now and adds it as the newest key
// of the key file at path; it signs from now+delay (rounded up to a whole
// second; 0: at once), and until then it is published and verifies only.
// A file that does not exist is created (mode 0600, parent directories
// 0700; a replaced file keeps its mode) with the key signing at once, whatever delay: there is no other
// key to sign with. The file is replaced atomically; instances re-read it
// (KeyRing). Concurrent writers are not coordinated.
func AddKeyToFile(path string, now time.Time, delay time.Duration) (Key, error) {
	if delay < 0 {
		return Key{}, fmt.Errorf("auth: key file %s: negative delay %s", path, delay)
	}
	keys, err := readKeyFile(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return Key{}, err
	}
	k, err := GenerateKey(now)
	if err != nil {
		return Key{}, err
	}
	if !missing && delay > 0 {
		k.NotBefore = k.CreatedAt.Add(delay + time.Second - 1).Truncate(time.Second)
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

// RetireKeyFromFile removes the key kid from the key file at path, if
// KeySet.CheckRetire allows it at now for access tokens living ttl
// (negative: at once, for a leaked key): else
// the file is left alone and the error says why (ErrKeyInUse,
// ErrUnknownKey). Instances drop the key when they re-read the file, and
// tokens it signed then fail.
func RetireKeyFromFile(path, kid string, now time.Time, ttl time.Duration) error {
	keys, err := readKeyFile(path)
	if err != nil {
		return err
	}
	s, err := NewKeySet(keys...)
	if err != nil {
		return fmt.Errorf("auth: key file %s: %w", path, err)
	}
	if err := s.CheckRetire(kid, now, ttl); err != nil {
		return err
	}
	keys = slices.DeleteFunc(keys, func(k Key) bool { return k.ID == kid })
	return writeKeyFile(path, keys)
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
	if _, err := AddKeyToFile(path, now, 0); err != nil {
		return nil, false, err
	}
	s, err = LoadKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// writeKeyFile encodes keys and atomically replaces path with them: it
// writes a temporary file in the same directory, syncs it and renames it
// over path. A new file gets mode 0600; a replaced one keeps its
// permission bits (an operator who made it readable by the service's user,
// e.g. 0444 for compose, need not do it again after each rotation).
func writeKeyFile(path string, keys []Key) error {
	data, err := encodeKeyFile(keys)
	if err != nil {
		return err
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
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
	if err := writeAndClose(tmp, data, mode); err != nil {
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
		e := keyFileEntry{
			KID:        k.ID,
			CreatedAt:  k.CreatedAt.UTC(),
			PrivateKey: base64.RawURLEncoding.EncodeToString(k.Private.Seed()),
		}
		if !k.NotBefore.IsZero() {
			e.NotBefore = k.NotBefore.UTC()
		}
		f.Keys = append(f.Keys, e)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("auth: encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

// writeAndClose writes data to f with mode, flushes it to disk and closes
// it.
func writeAndClose(f *os.File, data []byte, mode os.FileMode) error {
	err := f.Chmod(mode)
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
