package main

import (
	"encoding/json"
	"errors"
	"fmt"
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

// vault is the credentials file of a config dir.
type vault struct {
	dir string
	mu  sync.Mutex // serializes writes of one process
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

// save keeps the session t and the device token with the server URL; zero
// tokens keep the URL and the device token only (signed out).
func (v *vault) save(serverURL string, t api.Tokens, device string, now time.Time) error {
	cr := credentials{URL: serverURL, Tokens: t, DeviceToken: device}
	if t.AccessToken != "" && t.ExpiresIn > 0 {
		cr.AccessExpiresAt = now.Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := writeJSONFile(v.path(), cr); err != nil {
		return fmt.Errorf("save the credentials: %w", err)
	}
	return nil
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
		return "", fmt.Errorf("--server %q: want the server's http(s) address, such as https://jarimu.example.org", s)
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

// session is the signed-in client of the session kept by login. The tokens
// it gets on refreshing are written back at once: the refresh token kept
// before is spent, and presenting it again would end the session.
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

func (c *command) session() (*client.Client, *vault, error) {
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
	if c.serverFlag() != "" {
		want, err := serverURL(c.serverFlag())
		if err != nil {
			return nil, nil, err
		}
		if want != cr.URL {
			return nil, nil, fmt.Errorf("you are logged in to %s, not %s: run jarimu login --server %s", cr.URL, want, want)
		}
	}
	store := func(t api.Tokens) {
		if err := v.save(cr.URL, t, cr.DeviceToken, time.Now()); err != nil {
			fmt.Fprintf(c.stderr, "jarimu: warning: %v; run jarimu login again if the next command fails\n", err)
		}
	}
	cl := newClient(cr.URL, client.WithTokens(cr.tokensLeft(time.Now())), client.WithTokenStore(store))
	return cl, v, nil
}
