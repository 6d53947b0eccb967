package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

const (
	// credentialsFile holds the session kept by `jarimu login`, in the
	// config dir.
	credentialsFile = "credentials.json"
	// lockFile is the config dir's lock (see lockDir).
	lockFile = "lock"
	// lockTimeout bounds the wait for the lock of a command that saves
	// the session (a refresh waits up to the client's own bound).
	lockTimeout = time.Minute
	// cliUserAgent names the CLI to the server's logs.
	cliUserAgent = "jarimu-cli"
	// cliTimeout bounds each HTTP attempt of the CLI, evidence uploads
	// included (10 MiB over a slow mobile link).
	cliTimeout = 5 * time.Minute
)

// credentials are what `jarimu login` keeps: the server and the session.
type credentials struct {
	URL    string     `json:"url"`
	Tokens api.Tokens `json:"tokens"`
	// AccessExpiresAt is when Tokens.AccessToken expires, so that a later
	// run knows how much of it is left.
	AccessExpiresAt time.Time `json:"access_expires_at,omitzero"`
	// DeviceToken is the device token of the last login to URL, sent with
	// the next one (it lets that login through while strangers guessing
	// the password are throttled). It is kept after logout.
	DeviceToken string `json:"device_token,omitempty"`
}

// loggedIn reports whether cr holds a session.
func (cr credentials) loggedIn() bool { return cr.Tokens.RefreshToken != "" }

// configDir is the directory of the CLI's files: $JARIMU_CONFIG_DIR, or
// jarimu in the user's config dir (~/.config/jarimu on Linux).
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("JARIMU_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config dir (set JARIMU_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "jarimu"), nil
}

// readJSONFile decodes the JSON file path into v; false when there is none.
func readJSONFile(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}

// writeJSONFile replaces path with v atomically (a reader sees the old file
// or the new one, never a part), readable by the user only (0600), in a
// directory made 0700 when missing.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// vault is the credentials file of a config dir, and the dir's other
// files.
type vault struct {
	dir string
}

func (con console) vault() (*vault, error) {
	dir, err := configDir(con.getenv)
	if err != nil {
		return nil, err
	}
	return &vault{dir: dir}, nil
}

func (v *vault) path() string { return filepath.Join(v.dir, credentialsFile) }

// load returns the credentials kept; zero when there are none.
func (v *vault) load() (credentials, error) {
	var cr credentials
	if _, err := readJSONFile(v.path(), &cr); err != nil {
		return credentials{}, fmt.Errorf("read the credentials: %w", err)
	}
	return cr, nil
}

// update runs fn on the credentials kept (zero when none) under the
// config dir's lock, and saves them when fn returns true: no other jarimu
// process renews or replaces the session in between.
func (v *vault) update(ctx context.Context, fn func(cr *credentials) bool) error {
	return v.locked(ctx, func() error {
		cr, err := v.load()
		if err != nil {
			return err
		}
		if !fn(&cr) {
			return nil
		}
		if err := writeJSONFile(v.path(), cr); err != nil {
			return fmt.Errorf("save the credentials: %w", err)
		}
		return nil
	})
}

// locked runs fn holding the config dir's lock (see lockDir), which every
// jarimu process, and every goroutine of one, takes before it writes the
// dir's files: the credentials, feed.json, retries.json.
func (v *vault) locked(ctx context.Context, fn func() error) error {
	unlock, err := lockDir(ctx, v.dir)
	if err != nil {
		return fmt.Errorf("lock the config dir: %w", err)
	}
	defer unlock()
	return fn()
}

// save keeps the session t and the device token with the server URL; zero
// tokens keep the URL and the device token only (signed out).
func (v *vault) save(serverURL string, t api.Tokens, device string, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	return v.update(ctx, func(cr *credentials) bool {
		*cr = credentials{URL: serverURL, DeviceToken: device}
		cr.setTokens(t, now)
		return true
	})
}

// setTokens puts t in cr, its access token's expiry counted from now.
func (cr *credentials) setTokens(t api.Tokens, now time.Time) {
	cr.Tokens, cr.AccessExpiresAt = t, time.Time{}
	if t.AccessToken != "" && t.ExpiresIn > 0 {
		cr.AccessExpiresAt = now.Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
	}
}

// sessionVault is the credentials file as the client.TokenVault of a
// session with the server at url: every jarimu process of the config dir
// reads the tokens kept there before it spends its refresh token, under
// the dir's lock, and writes the new ones before it lets go. Where the lock
// holds within one process only (not on Unix: cli_lock_other.go), so does
// the lock the TokenVault contract asks for.
type sessionVault struct {
	v      *vault
	url    string
	stderr io.Writer
}

func (s sessionVault) Update(ctx context.Context, fn func(api.Tokens) (api.Tokens, bool)) error {
	err := s.v.update(ctx, func(cr *credentials) bool {
		now := time.Now()
		var kept api.Tokens // another server's session is none of this one
		if cr.URL == s.url {
			kept = cr.tokensLeft(now)
		}
		t, keep := fn(kept)
		if !keep || cr.URL != s.url && t.RefreshToken == "" {
			return false
		}
		if cr.URL != s.url {
			*cr = credentials{URL: s.url}
		}
		cr.setTokens(t, now)
		return true
	})
	if err != nil && s.stderr != nil {
		fmt.Fprintf(s.stderr, "jarimu: warning: %v; run jarimu login again if the next command fails\n", err)
	}
	return err
}

// tokensLeft are cr's tokens with ExpiresIn counted from now; an access
// token that has expired is dropped, so that the client refreshes first.
func (cr credentials) tokensLeft(now time.Time) api.Tokens {
	t := cr.Tokens
	if cr.AccessExpiresAt.IsZero() {
		return t
	}
	left := int(cr.AccessExpiresAt.Sub(now) / time.Second)
	if left <= 0 {
		t.AccessToken, t.ExpiresIn = "", 0
		return t
	}
	t.ExpiresIn = left
	return t
}

// serverURL checks a server URL given by a person and trims its trailing
// slash.
func serverURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", usageError{fmt.Errorf("--server %q: want the server's http(s) address, such as https://jarimu.example.org", s)}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// newClient makes a client of the server at base for the CLI.
func newClient(base string, opts ...client.Option) *client.Client {
	opts = append([]client.Option{client.WithUserAgent(cliUserAgent), client.WithHTTPClient(&http.Client{Timeout: cliTimeout})}, opts...)
	return client.New(base, opts...)
}

// publicClient is a client, signed out, of the server named by --server or
// else the one logged in to: for the public registry and alerts.
func (c *command) publicClient() (*client.Client, error) {
	base := c.serverFlag()
	if base == "" {
		v, err := c.vault()
		if err != nil {
			return nil, err
		}
		cr, err := v.load()
		if err != nil {
			return nil, err
		}
		if base = cr.URL; base == "" {
			return nil, usageError{errors.New("which server? give --server, or run jarimu login first")}
		}
	}
	base, err := serverURL(base)
	if err != nil {
		return nil, err
	}
	return newClient(base), nil
}

// signedIn parses the command's flags and positional arguments (as parse)
// and returns the signed-in client: the start of every command that calls
// the API as the user.
func (c *command) signedIn(args []string, positional ...string) ([]string, *client.Client, error) {
	pos, err := c.parse(args, positional...)
	if err != nil {
		return nil, nil, err
	}
	cl, _, err := c.session()
	return pos, cl, err
}

// session is the signed-in client of the session kept by login. It shares
// the session with every other jarimu process of the config dir through the
// credentials file (see sessionVault): a refresh token is spent by one of
// them only, and its successor written back at once, as presenting a spent
// one again would end the session. (So on Unix; on Windows the dir's lock
// holds within one process only: see cli_lock_other.go.)
func (c *command) session() (*client.Client, *vault, error) {
	var want string // the server named, checked first
	if c.serverFlag() != "" {
		var err error
		if want, err = serverURL(c.serverFlag()); err != nil {
			return nil, nil, err
		}
	}
	v, err := c.vault()
	if err != nil {
		return nil, nil, err
	}
	cr, err := v.load()
	if err != nil {
		return nil, nil, err
	}
	if !cr.loggedIn() {
		return nil, nil, errNotLoggedIn
	}
	if want != "" && want != cr.URL {
		return nil, nil, fmt.Errorf("you are logged in to %s, not %s: run jarimu login --server %s", cr.URL, want, want)
	}
	keep := sessionVault{v: v, url: cr.URL, stderr: c.stderr}
	cl := newClient(cr.URL, client.WithTokens(cr.tokensLeft(time.Now())), client.WithTokenVault(keep))
	c.sessions.add(cl)
	return cl, v, nil
}

// sessions are the signed-in clients of a run of the binary. A command
// interrupted (Ctrl-C) while its client renews the session returns at once,
// but the renewal runs on: once its request is sent, the server may have
// replaced the refresh token kept with the one in its answer. run waits for
// it (30 s at most; see client.Client.Wait) before it returns and the
// process exits, so that the new token is written to credentials.json.
type sessions struct {
	mu      sync.Mutex
	clients []*client.Client
}

// add has wait wait for the refreshes of cl; a nil s does nothing.
func (s *sessions) add(cl *client.Client) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, cl)
}

// wait returns once no client added has a refresh in flight.
func (s *sessions) wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cl := range s.clients {
		cl.Wait()
	}
}
