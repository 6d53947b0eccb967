package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

const (
	// retriesFile remembers, in the config dir, what the first run of a
	// command with --key counted from, so that a rerun with the same key
	// sends the very same request: the server answers a key sent again
	// with another body 422 idempotency-key-reused, and replays the first
	// answer only for the same body.
	retriesFile = "retries.json"
	// keyMemory is how long a key is remembered: as long as the server
	// replays the answer of its first use.
	keyMemory = 24 * time.Hour
)

// keyRun is the first run of a command with a key: what its reruns count
// from. A rerun is a run of the same command, with the same key, whose
// request is the same (made from the same moment).
type keyRun struct {
	// Key is the Idempotency-Key of --key.
	Key string `json:"key"`
	// Command is the command run, as typed: "task create".
	Command string `json:"command"`
	// Request is the SHA-256, in hex, of the request the command sends
	// (its relative times counted from a fixed moment, without a password
	// generated for it) and of the resource its path names, if any.
	Request string `json:"request"`
	// At is the moment relative times were counted from (--expires 7d,
	// --due 3d, --until 30d) and the default of report --observed.
	At time.Time `json:"at"`
	// Password is the password user create generated, sent again (and
	// shown again) by a rerun.
	Password string `json:"password,omitempty"`
}

// retries is the content of retriesFile: the first runs with a key of the
// last keyMemory.
type retries struct {
	Runs []keyRun `json:"runs"`
}

// keyUse is how a command uses --key.
type keyUse struct {
	key      string // the --key given; empty: nothing is remembered
	about    string // the resource the request's path names (an org's ID), if any
	password string // a password the command generated, sent again by a rerun
}

// keyed makes the request of the command c: build makes it from the moment
// its relative times count from. A bad flag (an error of build) is told
// before anything is remembered. With a key, the request is made from the
// moment of the first run of the same command with the same key and
// request within keyMemory, and the run returned carries that run's
// password; else, or without a key, from now, and a run with a key is
// remembered for its reruns. Moments are whole seconds, local time, so
// that the first run and its reruns compute the same times.
func keyed[T any](ctx context.Context, c *command, use keyUse, build func(at time.Time) (T, error)) (T, keyRun, error) {
	now := time.Now().Truncate(time.Second).In(time.Local)
	run := keyRun{Key: use.key, Command: c.name, At: now, Password: use.password}
	req, err := build(now)
	if err != nil || use.key == "" {
		return req, run, err
	}
	var none T
	if run.Request, err = requestDigest(use.about, build); err != nil {
		return none, keyRun{}, err
	}
	if run, err = c.remember(ctx, run); err != nil {
		return none, keyRun{}, err
	}
	req, err = build(run.At)
	return req, run, err
}

// requestDigest is the SHA-256, in hex, of the request build makes from a
// fixed moment and of about, the resource the request is sent to: equal
// for the runs of a command that send the same request from the same
// moment.
func requestDigest[T any](about string, build func(at time.Time) (T, error)) (string, error) {
	req, err := build(time.Unix(0, 0))
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(about))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// remember returns the first run kept in retriesFile of run's command,
// key and request, or else keeps run there and returns it, under the
// config dir's lock. Runs older than keyMemory are forgotten.
func (c *command) remember(ctx context.Context, run keyRun) (keyRun, error) {
	v, err := c.vault()
	if err != nil {
		return keyRun{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	err = v.locked(ctx, func() error {
		path := filepath.Join(v.dir, retriesFile)
		var r retries
		if _, err := readJSONFile(path, &r); err != nil {
			return err
		}
		r.Runs = slices.DeleteFunc(r.Runs, func(kr keyRun) bool { return run.At.Sub(kr.At) >= keyMemory })
		i := slices.IndexFunc(r.Runs, func(kr keyRun) bool {
			return kr.Key == run.Key && kr.Command == run.Command && kr.Request == run.Request
		})
		if i >= 0 {
			run = r.Runs[i]
			run.At = run.At.In(time.Local)
		} else {
			r.Runs = append(r.Runs, run)
		}
		return writeJSONFile(path, r)
	})
	if err != nil {
		return keyRun{}, fmt.Errorf("remember --key: %w", err)
	}
	return run, nil
}
