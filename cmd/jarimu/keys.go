package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/push"
)

const keysUsage = `usage:
  jarimu keys new --file FILE [--vapid-file V]    create a key file (its key signs at once);
                                                  on an existing file, as rotate; also makes the
                                                  Web Push key file V (vapid-keys.json beside
                                                  FILE) if missing, never replacing it
  jarimu keys rotate --file FILE [--not-before D] add a key, published at once, signing after D (10m)
  jarimu keys retire --file FILE --kid KID [--force]
                                                  remove a key that no longer signs and whose
                                                  tokens have expired (JARIMU_ACCESS_TOKEN_TTL);
                                                  --force: at once (a leaked key)
  jarimu keys list --file FILE [--json]           show the keys and which one signs`

// runKeys manages the signing key file that every instance re-reads
// (JARIMU_JWT_KEYS_FILE).
func runKeys(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	flags := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("file", "", "the key file (JARIMU_JWT_KEYS_FILE of the instances)")
	switch args[0] {
	case "new":
		vapidFile := flags.String("vapid-file", "", "Web Push (VAPID) key file, created if missing and never replaced (default: vapid-keys.json beside --file)")
		if err := parseKeysFlags(flags, args[1:], file); err != nil {
			return err
		}
		if err := keysAdd(*file, auth.DefaultKeyDelay, false, stdout); err != nil {
			return err
		}
		return ensureVAPID(cmp.Or(*vapidFile, filepath.Join(filepath.Dir(*file), "vapid-keys.json")), stdout)
	case "rotate":
		delay := flags.Duration("not-before", auth.DefaultKeyDelay, "how long after now the new key starts signing")
		if err := parseKeysFlags(flags, args[1:], file); err != nil {
			return err
		}
		if *delay < 0 {
			return fmt.Errorf("--not-before %s: must not be negative", *delay)
		}
		return keysAdd(*file, *delay, true, stdout)
	case "retire":
		kid := flags.String("kid", "", "the key to remove")
		ttl := flags.String("access-token-ttl", settingValue(getenv, "JARIMU_ACCESS_TOKEN_TTL"), "access token lifetime of the instances (JARIMU_ACCESS_TOKEN_TTL)")
		force := flags.Bool("force", false, "remove it although tokens it signed may still be valid (a leaked key); never the key that signs")
		if err := parseKeysFlags(flags, args[1:], file); err != nil {
			return err
		}
		return keysRetire(*file, *kid, *ttl, *force, stdout)
	case "list":
		asJSON := flags.Bool("json", false, "print the keys as JSON, for scripts")
		if err := parseKeysFlags(flags, args[1:], file); err != nil {
			return err
		}
		return keysList(*file, *asJSON, stdout)
	}
	return errors.New(keysUsage)
}

// parseKeysFlags parses a keys command's flags; --file is required.
func parseKeysFlags(flags *flag.FlagSet, args []string, file *string) error {
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return usageError{fmt.Errorf("%w (see jarimu %s --help)", err, flags.Name())}
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", flags.Arg(0), keysUsage)
	}
	if *file == "" {
		return usageError{errors.New("--file is required (see jarimu keys --help)")}
	}
	return nil
}

// keysAdd adds a key to file that signs after delay (a new file's first
// key signs at once); mustExist refuses to create the file (rotate).
func keysAdd(file string, delay time.Duration, mustExist bool, stdout io.Writer) error {
	if _, err := os.Stat(file); mustExist && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: make it with jarimu keys new --file %s", file, file)
	}
	k, err := auth.AddKeyToFile(file, time.Now(), delay)
	if err != nil {
		return err
	}
	if k.NotBefore.IsZero() {
		fmt.Fprintf(stdout, "added key %s to %s; it signs from now on, older keys still verify\n", k.ID, file)
		return nil
	}
	fmt.Fprintf(stdout, "added key %s to %s; instances publish it in their JWKS within seconds and sign with it from %s; older keys still verify\n",
		k.ID, file, k.NotBefore.UTC().Format(time.RFC3339))
	return nil
}

// keysRetire removes key kid from the file if no valid token can carry it,
// or, forced, if only it does not sign.
func keysRetire(file, kid, ttlText string, force bool, stdout io.Writer) error {
	if kid == "" {
		return errors.New("--kid is required (jarimu keys list --file FILE shows the keys)")
	}
	ttl, err := time.ParseDuration(ttlText)
	if err != nil || ttl <= 0 {
		return fmt.Errorf("--access-token-ttl (JARIMU_ACCESS_TOKEN_TTL) %q: want a duration like 15m", ttlText)
	}
	if force {
		ttl = -1
	}
	if err := auth.RetireKeyFromFile(file, kid, time.Now(), ttl); err != nil {
		return fmt.Errorf("key %s not retired: %w", kid, err)
	}
	fmt.Fprintf(stdout, "retired key %s from %s; instances drop it within seconds, and tokens it signed stop verifying\n", kid, file)
	return nil
}

// keysList prints each key with when it signs and whether it may be
// retired now (for the default or configured access-token lifetime).
func keysList(file string, asJSON bool, stdout io.Writer) error {
	s, err := auth.LoadKeyFile(file)
	if err != nil {
		return err
	}
	now := time.Now()
	signing := s.SigningAt(now).ID
	type listed struct {
		KID       string    `json:"kid"`
		CreatedAt time.Time `json:"created_at"`
		SignsFrom time.Time `json:"signs_from"`
		State     string    `json:"state"`
	}
	keys := []listed{}
	for _, k := range s.Keys() {
		state := "verifies only"
		switch {
		case k.ID == signing:
			state = "signs"
		case k.ActiveFrom().After(now):
			state = "pending"
		}
		keys = append(keys, listed{k.ID, k.CreatedAt.UTC(), k.ActiveFrom().UTC(), state})
	}
	if asJSON {
		return printJSON(stdout, keys)
	}
	for _, k := range keys {
		fmt.Fprintf(stdout, "%s  created %s  signs from %s  %s\n", k.KID, k.CreatedAt.Format(time.RFC3339), k.SignsFrom.Format(time.RFC3339), k.State)
	}
	return nil
}

// settingValue is a setting's value from the environment, or its default.
func settingValue(getenv func(string) string, env string) string {
	for _, s := range settings() {
		if s.env == env {
			if v, ok := lookup(getenv, s); ok {
				return v
			}
			return s.def
		}
	}
	return ""
}

// ensureVAPID makes the Web Push key file if it is missing; an existing one
// is kept (a new key cuts every browser subscription).
func ensureVAPID(path string, stdout io.Writer) error {
	v, created, err := push.EnsureVAPIDFile(path, time.Now())
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created Web Push key file %s (public key %s); give it to every instance as JARIMU_VAPID_KEYS_FILE\n", path, v.PublicKey())
	} else {
		fmt.Fprintf(stdout, "kept Web Push key file %s (replacing it would cut every browser subscription; see docs/operations.md)\n", path)
	}
	return nil
}
