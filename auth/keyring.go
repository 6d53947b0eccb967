package auth

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultKeyReload is how often a KeyRing looks at its key file when no
// other interval is set (10 s).
const DefaultKeyReload = 10 * time.Second

// KeyRing is the key set of a running instance, re-read from its key file
// when asked (Reload: on SIGHUP) and when the file changes (Watch), so
// that keys rotate without restarts. Readers get the set in force with
// Current, a lock-free load; a reload swaps in a whole new KeySet. A file
// that cannot be read or holds no usable key set leaves the set in force
// alone and is logged once (never taking the instance down).
type KeyRing struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[KeySet]

	mu     sync.Mutex // serialises reloads; guards sum and failed
	sum    [32]byte   // SHA-256 of the file content cur was read from
	failed string     // the reload failure last logged ("" after a success)
}

// NewKeyRing makes a ring that holds s for good (no file: Reload does
// nothing).
func NewKeyRing(s *KeySet) *KeyRing {
	r := &KeyRing{log: slog.New(slog.DiscardHandler)}
	r.cur.Store(s)
	return r
}

// OpenKeyRing reads the key file at path; a missing or bad file is an
// error here (at start there is no set to fall back on). log receives
// the reload messages.
func OpenKeyRing(path string, log *slog.Logger) (*KeyRing, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseKeySet(path, data)
	if err != nil {
		return nil, err
	}
	r := &KeyRing{path: path, log: log, sum: sha256.Sum256(data)}
	r.cur.Store(s)
	return r, nil
}

// Current returns the key set in force.
func (r *KeyRing) Current() *KeySet {
	return r.cur.Load()
}

// Path is the key file's path ("" for a fixed ring).
func (r *KeyRing) Path() string {
	return r.path
}

// Reload re-reads the key file and, when its content changed and holds a
// usable key set, makes that set current. On failure the set in force
// stays, the failure is logged as a warning unless it is the one logged
// last, and it is returned.
func (r *KeyRing) Reload() error {
	if r.path == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	data, err := os.ReadFile(r.path)
	if err != nil {
		return r.fail(err)
	}
	sum := sha256.Sum256(data)
	if sum == r.sum {
		r.recovered()
		return nil
	}
	s, err := parseKeySet(r.path, data)
	if err != nil {
		return r.fail(err)
	}
	r.cur.Store(s)
	r.sum = sum
	r.failed = ""
	now := time.Now()
	var pending []string
	for _, k := range s.Keys() {
		if k.ActiveFrom().After(now) {
			pending = append(pending, k.ID+" from "+k.ActiveFrom().UTC().Format(time.RFC3339))
		}
	}
	r.log.Info("signing keys reloaded", slog.String("file", r.path), slog.Any("kids", kids(s)),
		slog.String("signing_kid", s.SigningAt(now).ID), slog.Any("pending", pending))
	return nil
}

// fail logs err once and returns it.
func (r *KeyRing) fail(err error) error {
	if msg := err.Error(); msg != r.failed {
		r.failed = msg
		r.log.Warn("signing key file unusable; keeping the keys in force", slog.String("file", r.path),
			slog.String("error", msg), slog.Any("kids", kids(r.Current())))
	}
	return err
}

// recovered notes that the file holds the set in force again after a
// failure.
func (r *KeyRing) recovered() {
	if r.failed != "" {
		r.failed = ""
		r.log.Info("signing key file usable again; unchanged", slog.String("file", r.path))
	}
}

// Watch reloads the key file every interval until ctx ends, and logs when
// the signing key changes (a rotated key's NotBefore has come, or a reload
// changed it). An interval of zero or less, or a fixed ring, returns at
// once: the file is then re-read only by Reload.
func (r *KeyRing) Watch(ctx context.Context, every time.Duration) {
	if r.path == "" || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	signing := r.Current().Signing().ID
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.Reload()
		if k := r.Current().Signing(); k.ID != signing {
			r.log.Info("signing key changed", slog.String("signing_kid", k.ID), slog.String("previous_kid", signing))
			signing = k.ID
		}
	}
}

// kids lists the key ids of s.
func kids(s *KeySet) []string {
	var out []string
	for _, k := range s.Keys() {
		out = append(out, k.ID)
	}
	return out
}
