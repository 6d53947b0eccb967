package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func TestProblemDecodedIntoError(t *testing.T) {
	f := newFakeServer(t)
	fields := []api.FieldError{{Field: "email", Message: "must be a valid email address"}}
	f.mux.HandleFunc("POST /v1/tasks/{id}/claims", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusConflict, "task-full", "every slot is taken", nil)
	})
	f.mux.HandleFunc("POST /v1/admin/users", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusUnprocessableEntity, "validation", "one or more fields are invalid", fields)
	})
	f.mux.HandleFunc("GET /v1/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusTooManyRequests, "rate-limited", "slow down", nil)
	})
	c, _ := f.client()
	ctx := context.Background()

	err := c.do(ctx, http.MethodPost, "/v1/tasks/t1/claims", nil, nil, nil)
	want := &Error{Status: 409, Type: "task-full", Title: "Conflict", Detail: "every slot is taken", RequestID: "req-1"}
	checkError(t, err, want)
	if got, want := err.Error(), "jarimu: 409 task-full: every slot is taken"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}

	_, err = c.CreateUser(ctx, api.CreateUserRequest{})
	checkError(t, err, &Error{Status: 422, Type: "validation", Title: "Unprocessable Entity",
		Detail: "one or more fields are invalid", RequestID: "req-1", Fields: fields})

	err = c.do(ctx, http.MethodGet, "/v1/slow", nil, nil, nil)
	checkError(t, err, &Error{Status: 429, Type: "rate-limited", Title: "Too Many Requests",
		Detail: "slow down", RequestID: "req-1", RetryAfter: 30 * time.Second})
	if n := len(f.requests("/v1/slow")); n != 1 {
		t.Errorf("a Retry-After over 10 s: got %d attempts, want 1", n)
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("GET /v1/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Request-Id", "edge-7")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "upstream connect error\nmore lines")
	})
	f.mux.HandleFunc("GET /v1/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<html><body>Forbidden</body></html>")
	})
	c, _ := f.client()

	err := c.do(context.Background(), http.MethodGet, "/v1/plain", nil, nil, nil)
	checkError(t, err, &Error{Status: 502, Type: "http-502", Title: "Bad Gateway", Detail: "upstream connect error", RequestID: "edge-7"})
	err = c.do(context.Background(), http.MethodGet, "/v1/html", nil, nil, nil)
	checkError(t, err, &Error{Status: 403, Type: "http-403", Title: "Forbidden"})
	if got, want := err.Error(), "jarimu: 403 http-403: Forbidden"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
}

func checkError(t *testing.T, err error, want *Error) {
	t.Helper()
	var got *Error
	if !errors.As(err, &got) {
		t.Fatalf("got %v (%T), want *Error", err, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !IsProblem(err, want.Type) || StatusOf(err) != want.Status {
		t.Errorf("IsProblem/StatusOf disagree with %+v", got)
	}
}

func TestErrorMessageWithFields(t *testing.T) {
	e := &Error{Status: 422, Type: "validation", Detail: "invalid", Fields: []api.FieldError{
		{Field: "email", Message: "is required"}, {Field: "name", Message: "is too long"}}}
	got := fmt.Errorf("create user: %w", e).Error()
	want := "create user: jarimu: 422 validation: invalid (email: is required; name: is too long)"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestIsProblemAndStatusOfWithoutError(t *testing.T) {
	err := errors.New("dial tcp: connection refused")
	if IsProblem(err, "task-full") || StatusOf(err) != 0 || StatusOf(nil) != 0 {
		t.Errorf("a plain error must not look like a problem")
	}
}

func TestSlug(t *testing.T) {
	tests := []struct {
		typ  string
		want string
	}{
		{"/v1/problems/task-full", "task-full"},
		{"https://jarimu.example.org/v1/problems/claim-limit", "claim-limit"},
		{"about:blank", "http-409"},
		{"", "http-409"},
		{"/v1/problems/", "/v1/problems/"},
		{"urn:other:thing", "urn:other:thing"},
	}
	for _, tt := range tests {
		if got := slug(tt.typ, 409); got != tt.want {
			t.Errorf("slug(%q): got %q, want %q", tt.typ, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2029, 2, 14, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"3", 3 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999999999999", 0},
		{"9999999999999", (1 << 31) * time.Second},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q): got %v, want %v", tt.v, got, tt.want)
		}
	}
}

// FuzzProblemFrom feeds the error decoder arbitrary answers: it must never
// panic and always name a type and the HTTP status.
func FuzzProblemFrom(f *testing.F) {
	f.Add(409, "application/problem+json", "12", []byte(`{"type":"/v1/problems/task-full","title":"Conflict","status":409}`))
	f.Add(422, "application/problem+json", "", []byte(`{"type":"/v1/problems/validation","errors":[{"field":"a","message":"b"}]}`))
	f.Add(502, "text/plain", "", []byte("bad gateway\n"))
	f.Add(500, "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", []byte("<html>"))
	f.Add(503, "", "x", []byte(`{"type":5}`))
	f.Fuzz(func(t *testing.T, status int, ctype, retry string, body []byte) {
		h := http.Header{"Content-Type": {ctype}, "Retry-After": {retry}}
		e := problemFrom(status, h, body, time.Unix(0, 0))
		if e.Type == "" || e.Status != status || e.RetryAfter < 0 {
			t.Fatalf("got %+v", e)
		}
		_ = e.Error()
	})
}
