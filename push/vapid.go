package push

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// VAPID is the installation's application-server key pair (RFC 8292): a
// P-256 key whose public half browsers bind their subscriptions to, and
// whose private half signs the JWT of every push. Every instance of a
// deployment must use the same pair.
type VAPID struct {
	private   *ecdh.PrivateKey
	CreatedAt time.Time
}

// vapidFile is the JSON layout of a VAPID key file; both keys are
// unpadded base64url: the 65-byte uncompressed public point and the
// 32-byte private scalar.
type vapidFile struct {
	PublicKey  string    `json:"public_key"`
	PrivateKey string    `json:"private_key"`
	CreatedAt  time.Time `json:"created_at"`
}

// GenerateVAPID makes a new random key pair created at now.
func GenerateVAPID(now time.Time) (*VAPID, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("push: generate VAPID key: %w", err)
	}
	return &VAPID{private: k, CreatedAt: now.UTC().Truncate(time.Second)}, nil
}

// PublicKey is the public key as browsers take it for
// applicationServerKey: unpadded base64url of the uncompressed point.
func (v *VAPID) PublicKey() string {
	return base64.RawURLEncoding.EncodeToString(v.private.PublicKey().Bytes())
}

// privateKey is the private scalar in unpadded base64url, as the sender
// library takes it.
func (v *VAPID) privateKey() string {
	return base64.RawURLEncoding.EncodeToString(v.private.Bytes())
}

// ackMAC is the tag of a push acknowledgement (a job and a subscription):
// HMAC-SHA256 under a key derived from the private key, so every instance
// checks the acks of pushes any instance sent, and a rotation voids them.
func (v *VAPID) ackMAC(msg string) []byte {
	m := hmac.New(sha256.New, v.DerivedKey("push ack"))
	m.Write([]byte(msg))
	return m.Sum(nil)[:16]
}

// DerivedKey is a 32-byte secret for purpose (a few words), derived from
// the private key: the same on every instance of a deployment, different
// for every purpose, and new after a rotation of the pair. Keyed hashes
// that must agree across instances (push acks, rate-limit keys) use it.
func (v *VAPID) DerivedKey(purpose string) []byte {
	k := sha256.Sum256(append([]byte("jarimu "+purpose+"\x00"), v.private.Bytes()...))
	return k[:]
}

// LoadVAPIDFile reads a VAPID key file.
func LoadVAPIDFile(path string) (*VAPID, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("push: VAPID key file: %w", err)
	}
	var f vapidFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("push: VAPID key file %s: %w", path, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("push: VAPID key file %s: private_key: %w", path, err)
	}
	k, err := ecdh.P256().NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("push: VAPID key file %s: private_key: %w", path, err)
	}
	v := &VAPID{private: k, CreatedAt: f.CreatedAt}
	if f.PublicKey != "" && f.PublicKey != v.PublicKey() {
		return nil, fmt.Errorf("push: VAPID key file %s: public_key does not match private_key", path)
	}
	return v, nil
}

// WriteVAPIDFile writes v to path atomically (a 0600 temporary file in the
// same directory, synced, renamed over path).
func WriteVAPIDFile(path string, v *VAPID) error {
	data, err := json.MarshalIndent(vapidFile{PublicKey: v.PublicKey(), PrivateKey: v.privateKey(), CreatedAt: v.CreatedAt}, "", "  ")
	if err != nil {
		return fmt.Errorf("push: encode VAPID key file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("push: VAPID key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("push: VAPID key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(append(data, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err = errors.Join(err, tmp.Close()); err != nil {
		return fmt.Errorf("push: VAPID key file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("push: VAPID key file %s: %w", path, err)
	}
	return nil
}

// EnsureVAPIDFile loads the key file at path, or creates it with a new pair
// when it does not exist; created reports which. An existing pair is never
// replaced: every browser subscription is bound to it.
func EnsureVAPIDFile(path string, now time.Time) (v *VAPID, created bool, err error) {
	v, err = LoadVAPIDFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return v, false, err
	}
	if v, err = GenerateVAPID(now); err != nil {
		return nil, false, err
	}
	if err := WriteVAPIDFile(path, v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}
