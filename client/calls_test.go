package client

import (
	"net/http"
	"reflect"
	"sync"
	"testing"
)

// callCase is one client call and the request it must make. The fake server
// answers it with answer (status 200), which the call must return decoded.
type callCase struct {
	name   string
	call   func() (any, error)
	answer any
	method string
	path   string // escaped
	query  string
	body   string
	key    string // Idempotency-Key: "" none, "*" any, else exactly
	public bool   // sent without the access token
}

// answerer answers every request under its prefixes with the answer of
// the case being run.
type answerer struct {
	mu     sync.Mutex
	answer any
}

func (a *answerer) set(v any) {
	a.mu.Lock()
	a.answer = v
	a.mu.Unlock()
}

func (a *answerer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	v := a.answer
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// runCalls runs each case against a fake server that answers every path
// under prefixes, with a Client signed in as "access-0".
func runCalls(t *testing.T, prefixes []string, cases func(c *Client) []callCase) {
	t.Helper()
	f := newFakeServer(t)
	a := &answerer{}
	for _, p := range prefixes {
		f.mux.Handle(p, a)
	}
	c, _ := f.client(WithTokens(f.tokens(0)))
	for _, tt := range cases(c) {
		t.Run(tt.name, func(t *testing.T) {
			a.set(tt.answer)
			before := len(f.all())
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.answer) {
				t.Errorf("answer: got %+v, want %+v", got, tt.answer)
			}
			seen := f.all()[before:]
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want 1: %+v", len(seen), seen)
			}
			checkRequest(t, seen[0], tt)
		})
	}
}

func checkRequest(t *testing.T, s seenRequest, tt callCase) {
	t.Helper()
	if s.Method != tt.method || s.Path != tt.path || s.Query != tt.query {
		t.Errorf("request: got %s %s ?%s, want %s %s ?%s", s.Method, s.Path, s.Query, tt.method, tt.path, tt.query)
	}
	if s.Body != tt.body {
		t.Errorf("body: got %q, want %q", s.Body, tt.body)
	}
	ct := s.Header.Get("Content-Type")
	if (tt.body != "") != (ct == "application/json") {
		t.Errorf("Content-Type: got %q with body %q", ct, s.Body)
	}
	switch k := s.Header.Get("Idempotency-Key"); {
	case tt.key == "*" && k == "", tt.key != "*" && k != tt.key:
		t.Errorf("Idempotency-Key: got %q, want %q", k, tt.key)
	}
	wantAuth := "Bearer access-0"
	if tt.public {
		wantAuth = ""
	}
	if a := s.Header.Get("Authorization"); a != wantAuth {
		t.Errorf("Authorization: got %q, want %q", a, wantAuth)
	}
}
