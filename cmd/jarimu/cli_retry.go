package main

import (
	"context"
	"fmt"
	"path/filepath"
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

// keyRun is what the first run of a command with a key counted from.
type keyRun struct {
	// Command is the command run, for people reading the file.
	Command string `json:"command"`
	// At is the moment relative times were counted from (--expires 7d,
	// --due 3d, --until 30d) and the default of report --observed.
	At time.Time `json:"at"`
	// Password is the password user create generated, sent again (and
	// shown again) by a rerun.
	Password string `json:"password,omitempty"`
}

// retries is the content of retriesFile: the runs of each key.
type retries struct {
	Keys map[string]keyRun `json:"keys"`
}

// keyed is what a run of the command with key counts from: the moment and
// generated password of the first run with key in the last keyMemory,
// else now and password, remembered for the reruns. Without a key it is
// now and password, remembered nowhere. Moments are whole seconds, local
// time, so that the first run and its reruns compute the same times.
func (c *command) keyed(ctx context.Context, key, password string) (keyRun, error) {
	now := time.Now().Truncate(time.Second).In(time.Local)
	run := keyRun{Command: c.name, At: now, Password: password}
	if key == "" {
		return run, nil
	}
	dir, err := configDir(c.getenv)
	if err != nil {
		return keyRun{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return keyRun{}, fmt.Errorf("remember --key: %w", err)
	}
	defer unlock()
	path := filepath.Join(dir, retriesFile)
	var r retries
	if _, err := readJSONFile(path, &r); err != nil {
		return keyRun{}, fmt.Errorf("remember --key: %w", err)
	}
	if r.Keys == nil {
		r.Keys = map[string]keyRun{}
	}
	for k, kr := range r.Keys {
		if now.Sub(kr.At) >= keyMemory {
			delete(r.Keys, k)
		}
	}
	if kr, ok := r.Keys[key]; ok {
		run = kr
		run.At = run.At.In(time.Local)
	} else {
		r.Keys[key] = run
	}
	if err := writeJSONFile(path, r); err != nil {
		return keyRun{}, fmt.Errorf("remember --key: %w", err)
	}
	return run, nil
}
