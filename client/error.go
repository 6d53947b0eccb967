package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
)

// maxErrorBody is how much of an error answer is read.
const maxErrorBody = 64 << 10

// Error is an answer of the server other than 2xx, usually an RFC 9457
// problem. Callers switch on Type, which is stable; Title and Detail are for
// people.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Type is the problem's slug: its type URI after "/v1/problems/", such as
	// "task-full" or "invalid-token". An answer that is not a problem (from a
	// proxy, say) has Type "http-<status>", such as "http-502".
	Type string
	// Title is the short summary of the kind of problem.
	Title string
	// Detail explains this occurrence.
	Detail string
	// RequestID identifies the request in the server's logs; quote it in bug
	// reports.
	RequestID string
	// Fields lists the invalid input fields of a 422.
	Fields []api.FieldError
	// RetryAfter is how long the server asked to wait before retrying (429,
	// 503 and some 409s); zero when it did not say.
	RetryAfter time.Duration
}

// Error implements error: "jarimu: 409 task-full: <detail>".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jarimu: %d %s", e.Status, e.Type)
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		b.WriteString(sep + f.Field + ": " + f.Message)
	}
	if len(e.Fields) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// IsProblem reports whether err carries an *Error of the given type slug,
// such as "task-full".
func IsProblem(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

// StatusOf is the HTTP status of the *Error that err carries, or 0 when the
// server gave no answer (network error, cancelled context).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// newError reads a non-2xx answer.
func newError(resp *http.Response, now time.Time) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return problemFrom(resp.StatusCode, resp.Header, body, now)
}

// problemFrom builds the *Error of an answer from its status, headers and
// body, whatever the body holds.
func problemFrom(status int, h http.Header, body []byte, now time.Time) *Error {
	e := &Error{
		Status:     status,
		RequestID:  h.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(h.Get("Retry-After"), now),
	}
	var p api.Problem
	if json.Unmarshal(body, &p) == nil && (p.Type != "" || p.Title != "" || p.Detail != "") {
		e.Type, e.Title, e.Detail, e.Fields = slug(p.Type, status), p.Title, p.Detail, p.Errors
		if p.RequestID != "" {
			e.RequestID = p.RequestID
		}
		return e
	}
	e.Type, e.Title, e.Detail = slug("", status), http.StatusText(status), plainDetail(h, body)
	return e
}

// slug is the part of a problem type URI that names it; "about:blank" or
// none at all names only the status.
func slug(typ string, status int) string {
	if i := strings.LastIndex(typ, api.ProblemTypePrefix); i >= 0 && len(typ) > i+len(api.ProblemTypePrefix) {
		return typ[i+len(api.ProblemTypePrefix):]
	}
	if typ == "" || typ == "about:blank" {
		return "http-" + strconv.Itoa(status)
	}
	return typ
}

// plainDetail is the first line of a text/plain body, at most 200 bytes;
// other bodies (HTML error pages) say nothing useful.
func plainDetail(h http.Header, body []byte) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "text/plain" {
		return ""
	}
	s, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(strings.TrimSpace(s), "")
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// Anything else, or a time past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(n, 0), 1<<31)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
