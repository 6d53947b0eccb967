package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id output and input sizes, and the bounds Verify accepts for
// parameters read from a stored hash.
const (
	saltBytes = 16
	keyBytes  = 32

	// maxMemoryKiB (1 GiB) and maxIterations refuse stored hashes whose
	// parameters would let one login tie up the server.
	maxMemoryKiB  = 1 << 20
	maxIterations = 20
	// minStoredBytes and maxStoredBytes bound stored salt and hash lengths.
	minStoredBytes = 8
	maxStoredBytes = 64
)

// ErrBusy is returned when no hashing slot frees up within the Hasher's
// wait; servers answer it with 503 and Retry-After.
var ErrBusy = errors.New("auth: password hasher busy")

// ErrBadHash reports a stored password hash that is malformed or has
// unacceptable parameters.
var ErrBadHash = errors.New("auth: bad password hash")

// ErrWeakHashParams reports HashParams below the OWASP minimum.
var ErrWeakHashParams = errors.New("auth: hash params below OWASP minimum")

// HashParams are the argon2id cost parameters.
type HashParams struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Iterations is the time cost (passes over memory).
	Iterations uint32
	// Parallelism is the number of lanes (threads).
	Parallelism uint8
}

// DefaultHashParams returns OWASP's minimum recommendation for argon2id:
// 19 MiB of memory (19456 KiB), 2 iterations, parallelism 1.
func DefaultHashParams() HashParams {
	return HashParams{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}
}

// Validate reports (wrapping ErrWeakHashParams) whether p is below
// DefaultHashParams in memory or iterations, or has zero parallelism.
func (p HashParams) Validate() error {
	floor := DefaultHashParams()
	if p.MemoryKiB < floor.MemoryKiB || p.Iterations < floor.Iterations || p.Parallelism < floor.Parallelism {
		return fmt.Errorf("%w: m=%d,t=%d,p=%d, want at least m=%d,t=%d,p=%d", ErrWeakHashParams,
			p.MemoryKiB, p.Iterations, p.Parallelism, floor.MemoryKiB, floor.Iterations, floor.Parallelism)
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id, bounding how many
// hashes run at once so that a burst of logins cannot exhaust memory
// (each hash holds MemoryKiB). It is safe for concurrent use.
type Hasher struct {
	params HashParams
	slots  chan struct{}
	wait   time.Duration

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher using p for new hashes. At most maxConcurrent
// hashes run at once (<= 0 means 2*GOMAXPROCS); a caller waits up to wait
// for a free slot and then gets ErrBusy (wait <= 0 means do not wait).
// The parameters are not validated: call p.Validate in production.
func NewHasher(p HashParams, maxConcurrent int, wait time.Duration) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: p, slots: make(chan struct{}, maxConcurrent), wait: wait}
}

// acquire takes a hashing slot, waiting at most h.wait; the caller must
// call release afterwards. It fails with ErrBusy or ctx's error.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.wait <= 0 {
		return ErrBusy
	}
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("auth: wait for hasher: %w", ctx.Err())
	}
}

// release frees a slot taken by acquire.
func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password with a fresh
// 16-byte salt: $argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<salt>$<hash> (standard
// base64, no padding). ctx only bounds the wait for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashWith(h.params, password)
}

// hashWith computes a PHC string for password with params and a new salt.
func hashWith(p HashParams, password string) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyBytes)
	return encodeHash(phc{params: p, salt: salt, key: key}), nil
}

// Verify reports whether password matches the encoded hash, recomputing it
// with the parameters stored in encoded. A malformed hash or one with
// absurd parameters (memory over 1 GiB, over 20 iterations, zero
// parallelism) fails with ErrBadHash; a full hasher with ErrBusy.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	ph, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	p := ph.params
	key := argon2.IDKey([]byte(password), ph.salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(ph.key)))
	return subtle.ConstantTimeCompare(key, ph.key) == 1, nil
}

// VerifyDummy does the work of a failed Verify against a hash made with
// the Hasher's parameters, so that a login for an unknown account takes as
// long as one with a wrong password. It returns only ErrBusy or ctx's
// error, which callers should treat like those of Verify. The dummy hash
// is computed on first use.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		// A random salt and key: no password matches in practice.
		salt, key := make([]byte, saltBytes), make([]byte, keyBytes)
		_, _ = rand.Read(salt)
		_, _ = rand.Read(key)
		h.dummy = encodeHash(phc{params: h.params, salt: salt, key: key})
	})
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// NeedsRehash reports whether encoded should be replaced by a fresh Hash
// after a successful login: it is malformed, or its memory, iterations,
// parallelism, salt or key length is below the Hasher's.
func (h *Hasher) NeedsRehash(encoded string) bool {
	ph, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	p := ph.params
	return p.MemoryKiB < h.params.MemoryKiB || p.Iterations < h.params.Iterations ||
		p.Parallelism < h.params.Parallelism || len(ph.salt) < saltBytes || len(ph.key) < keyBytes
}

// phc is a decoded argon2id PHC string.
type phc struct {
	params HashParams
	salt   []byte
	key    []byte
}

// encodeHash renders ph as a PHC string.
func encodeHash(ph phc) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		ph.params.MemoryKiB, ph.params.Iterations, ph.params.Parallelism,
		b64.EncodeToString(ph.salt), b64.EncodeToString(ph.key))
}

// decodeHash parses a PHC argon2id string and checks its parameters are
// within the bounds Verify accepts. Errors wrap ErrBadHash.
func decodeHash(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: not an argon2id PHC string", ErrBadHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: unsupported version %q", ErrBadHash, parts[2])
	}
	p, err := parseParams(parts[3])
	if err != nil {
		return phc{}, fmt.Errorf("%w: %w", ErrBadHash, err)
	}
	salt, err := decodeField("salt", parts[4])
	if err != nil {
		return phc{}, err
	}
	key, err := decodeField("hash", parts[5])
	if err != nil {
		return phc{}, err
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// decodeField decodes an unpadded standard-base64 salt or hash field and
// checks its length.
func decodeField(name, s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadHash, name, err)
	}
	if len(b) < minStoredBytes || len(b) > maxStoredBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrBadHash, name, len(b))
	}
	return b, nil
}

// parseParams parses "m=<KiB>,t=<n>,p=<n>" and rejects absurd values.
func parseParams(s string) (HashParams, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return HashParams{}, fmt.Errorf("params %q: want m=,t=,p=", s)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(fields[i], name)
		v, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return HashParams{}, fmt.Errorf("params %q: bad %s", s, name)
		}
		vals[i] = v
	}
	m, t, p := vals[0], vals[1], vals[2]
	if m == 0 || m > maxMemoryKiB || t == 0 || t > maxIterations || p == 0 || p > 255 {
		return HashParams{}, fmt.Errorf("params %q out of bounds", s)
	}
	return HashParams{MemoryKiB: uint32(m), Iterations: uint32(t), Parallelism: uint8(p)}, nil
}

// Password policy errors returned by CheckPassword.
var (
	// ErrPasswordTooShort means fewer than MinPasswordRunes characters.
	ErrPasswordTooShort = errors.New("auth: password too short")
	// ErrPasswordTooLong means more than MaxPasswordRunes characters.
	ErrPasswordTooLong = errors.New("auth: password too long")
	// ErrPasswordCommon means the password is in the bundled list of
	// common passwords.
	ErrPasswordCommon = errors.New("auth: password too common")
	// ErrPasswordInvalid means the password is not valid UTF-8 or contains
	// a control character (NUL, tab, newline, DEL, C1 controls).
	ErrPasswordInvalid = errors.New("auth: password has invalid characters")
)

// Password length limits, counted in characters (runes), not bytes.
const (
	// MinPasswordRunes is the shortest acceptable password.
	MinPasswordRunes = 10
	// MaxPasswordRunes is the longest acceptable password.
	MaxPasswordRunes = 256
)

// commonPasswordsText is the bundled list of common passwords, one per
// line, lowercase; lines starting with '#' are ignored.
//
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords returns the set of common passwords, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 2048)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// CheckPassword applies the password policy to a new password: valid UTF-8
// without control characters (ErrPasswordInvalid), MinPasswordRunes to
// MaxPasswordRunes characters (ErrPasswordTooShort, ErrPasswordTooLong),
// and not in the common-password list, compared case-insensitively after
// trimming surrounding spaces (ErrPasswordCommon). Returned errors wrap
// one of those sentinels.
func CheckPassword(password string) error {
	if !utf8.ValidString(password) {
		return fmt.Errorf("%w: not valid UTF-8", ErrPasswordInvalid)
	}
	if strings.ContainsFunc(password, unicode.IsControl) {
		return fmt.Errorf("%w: control character", ErrPasswordInvalid)
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordRunes {
		return fmt.Errorf("%w: %d characters, want at least %d", ErrPasswordTooShort, n, MinPasswordRunes)
	}
	if n > MaxPasswordRunes {
		return fmt.Errorf("%w: %d characters, want at most %d", ErrPasswordTooLong, n, MaxPasswordRunes)
	}
	if _, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(password))]; ok {
		return ErrPasswordCommon
	}
	return nil
}
