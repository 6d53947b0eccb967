package client

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// authPrefix starts the paths of the sign-in calls: they never carry the
// access token nor an Idempotency-Key, and are never retried (their answers
// hold secrets the server does not store, and a refresh token is spent once).
const authPrefix = "/v1/auth/"

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	key       string
	noRetry   bool
	anonymous bool
	accept    string
}

// IdempotencyKey sends key (1 to 128 printable ASCII characters) as the
// Idempotency-Key of a POST; other methods ignore it. Without it the Client
// makes a random key for every POST outside /v1/auth/, once per call: its
// own retries reuse that key, so the server answers them with the first
// answer and changes nothing twice. Give your own key when the caller itself
// may repeat the call, such as an app resending from an outbox after a
// restart, so that those repeats are recognized too.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.key = key }
}

// noRetry makes a call answer after its first attempt, for health checks.
func noRetry() CallOption {
	return func(o *callOptions) { o.noRetry = true }
}

// anonymous makes a call without the access token, for the public registry:
// it works the same signed in, signed out or with a session that has ended,
// and never starts a refresh.
func anonymous() CallOption {
	return func(o *callOptions) { o.anonymous = true }
}

// accept sets the Accept header of a call whose answer is not JSON, such as
// a download; an error answer is still read as a problem.
func accept(mediaTypes string) CallOption {
	return func(o *callOptions) { o.accept = mediaTypes }
}

// defaultAccept is the Accept header of calls answered with JSON.
const defaultAccept = "application/json, application/problem+json"

// ErrInvalidID matches (with errors.Is) the error of a call given an id
// that is empty, "." or "..": it is refused before any request, as the
// path would name another route.
var ErrInvalidID = errors.New("jarimu: invalid id")

// resourcePath is collection followed by id and segments, each escaped, such
// as "/v1/tasks/<id>/claims". An id or segment that is empty, "." or ".." is
// refused before any request (ErrInvalidID).
func resourcePath(collection, id string, segments ...string) (string, error) {
	p := collection
	for _, s := range append([]string{id}, segments...) {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("%w %q", ErrInvalidID, s)
		}
		p += "/" + url.PathEscape(s)
	}
	return p, nil
}

// route is a path made by resourcePath, or the error that refused it.
type route struct {
	path string
	err  error
}

// routeTo is the route of resource id of collection, followed by segments
// (see resourcePath).
func routeTo(collection, id string, segments ...string) route {
	p, err := resourcePath(collection, id, segments...)
	return route{p, err}
}

// call sends a call to rt (see do) and returns its answer decoded as a T.
func call[T any](ctx context.Context, c *Client, method string, rt route, query url.Values, in any, opts ...CallOption) (T, error) {
	var out T
	if rt.err != nil {
		return out, rt.err
	}
	err := c.do(ctx, method, rt.path, query, in, &out, opts...)
	return out, err
}

// fetch GETs rt with query and hands its 2xx answer over unread (see
// download).
func fetch(ctx context.Context, c *Client, rt route, query url.Values, opts ...CallOption) (download, error) {
	var d download
	if rt.err != nil {
		return d, rt.err
	}
	err := c.do(ctx, http.MethodGet, rt.path, query, nil, &d, opts...)
	return d, err
}

// request is one call, encoded once so that it can be sent again unchanged.
type request struct {
	method string
	path   string
	url    string
	body   []byte  // nil: no body
	upload *upload // a streamed multipart body instead of body; nil: none
	accept string  // the Accept header
	key    string  // Idempotency-Key; empty: none
	auth   bool    // sends the access token
	retry  bool    // safe to repeat
}

// resendable reports whether r's body can be sent again: always, except an
// upload whose reader cannot seek back.
func (r *request) resendable() bool {
	return r.upload == nil || r.upload.rewindable()
}

// download is a 2xx answer handed over unread, for calls that stream their
// answer to the caller (evidence files, open data exports). Give a
// *download as the out of do; the caller closes body.
type download struct {
	body   io.ReadCloser
	header http.Header
}

// do calls the API: it sends in (nil: no body) as JSON to path with query,
// with the access token when signed in, and decodes a 2xx answer into out
// (nil: ignored). Any other answer is an *Error. Tokens are refreshed and
// safe calls retried as the package documentation describes.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any, opts ...CallOption) error {
	r, err := c.newRequest(method, path, query, in, opts)
	if err != nil {
		return err
	}
	return c.run(ctx, r, out)
}

func (c *Client) newRequest(method, path string, query url.Values, in any, opts []CallOption) (*request, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	signIn := strings.HasPrefix(path, authPrefix)
	r := &request{method: method, path: path, url: c.base + path, accept: cmp.Or(o.accept, defaultAccept),
		auth: strings.HasPrefix(path, "/v1/") && !signIn && !o.anonymous}
	if len(query) > 0 {
		r.url += "?" + query.Encode()
	}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("jarimu: encode %s %s: %w", method, path, err)
		}
		r.body = b
	}
	if method == http.MethodPost && !signIn {
		r.key = o.key
		if r.key == "" {
			r.key = rand.Text()
		}
	}
	r.retry = !o.noRetry && (method == http.MethodGet || method == http.MethodHead || r.key != "")
	return r, nil
}

// run sends r with the current access token and, when the server refuses
// that token, refreshes it once and sends r again.
func (c *Client) run(ctx context.Context, r *request, out any) error {
	if !r.auth {
		return c.send(ctx, r, "", out)
	}
	access, held, err := c.credentials(ctx)
	if err != nil {
		return err
	}
	err = c.send(ctx, r, access, out)
	if held == "" || StatusOf(err) != http.StatusUnauthorized || !IsProblem(err, "invalid-token") {
		return err
	}
	t, rerr := c.refresh(ctx, held)
	if rerr != nil {
		return rerr
	}
	if !r.resendable() {
		return fmt.Errorf("jarimu: %s %s: the access token was refused and is now refreshed, but the upload cannot be sent again (its reader cannot seek); call again: %w", r.method, r.path, err)
	}
	return c.send(ctx, r, t.AccessToken, out)
}

// send makes attempts at r until one needs no retry.
func (c *Client) send(ctx context.Context, r *request, token string, out any) error {
	for n := 0; ; n++ {
		err := c.attempt(ctx, r, token, out)
		wait, again := retryDelay(ctx, r, err, n)
		if !again {
			return err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (last attempt: %w)", serr, err)
		}
	}
}

// attempt sends r once and reads the answer.
func (c *Client) attempt(ctx context.Context, r *request, token string, out any) error {
	req, err := c.httpRequest(ctx, r, token)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("jarimu: %w", err)
	}
	if d, ok := out.(*download); ok && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		d.body, d.header = resp.Body, resp.Header
		return nil
	}
	defer drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(resp, c.now())
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("jarimu: %s %s: read answer: %w", r.method, r.path, err)
	}
	return nil
}

func (c *Client) httpRequest(ctx context.Context, r *request, token string) (*http.Request, error) {
	var body io.Reader
	contentType := ""
	switch {
	case r.upload != nil:
		var err error
		if body, contentType, err = r.upload.open(); err != nil {
			return nil, fmt.Errorf("jarimu: %s %s: %w", r.method, r.path, err)
		}
	case r.body != nil:
		body, contentType = bytes.NewReader(r.body), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("jarimu: %s %s: %w", r.method, r.path, err)
	}
	h := req.Header
	h.Set("Accept", r.accept)
	h.Set("User-Agent", c.userAgent)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if r.key != "" {
		h.Set("Idempotency-Key", r.key)
	}
	return req, nil
}

// drain reads a little of what is left of body and closes it, so that the
// connection can be reused.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}
