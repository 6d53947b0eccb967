package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// all returns every request received so far.
func (f *fakeServer) all() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// orgRoutes adds the organisation routes of the server to f. Each answers a
// value made from its path values, so that tests can check the decoding;
// all but the public registry need the current access token.
func orgRoutes(f *fakeServer) {
	authed := func(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if f.authorized(w, r) {
				h(w, r)
			}
		}
	}
	f.mux.HandleFunc("POST /v1/orgs", authed(func(w http.ResponseWriter, r *http.Request) {
		var req api.CreateOrgRequest
		json.NewDecoder(r.Body).Decode(&req)
		writeJSON(w, http.StatusCreated, api.Org{ID: "o1", Name: req.Name, Status: api.OrgAccredited})
	}))
	f.mux.HandleFunc("GET /v1/orgs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Page[api.Org]{Items: []api.Org{{ID: "o1"}}, NextCursor: "next"})
	})
	f.mux.HandleFunc("GET /v1/orgs/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Org{ID: r.PathValue("id")})
	})
	f.mux.HandleFunc("POST /v1/orgs/{id}/accreditation", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Org{ID: r.PathValue("id"), Status: api.OrgSuspended})
	}))
	f.mux.HandleFunc("POST /v1/orgs/{id}/invites", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, api.Invite{OrgID: r.PathValue("id"), Code: "K0DE", MaxUses: 50})
	}))
	f.mux.HandleFunc("POST /v1/orgs/{id}/memberships", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, api.Membership{OrgID: r.PathValue("id"), UserID: "u1", Status: api.MembershipPending})
	}))
	f.mux.HandleFunc("GET /v1/orgs/{id}/memberships", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Page[api.Membership]{Items: []api.Membership{{OrgID: r.PathValue("id"), UserID: "u1"}}})
	}))
	f.mux.HandleFunc("POST /v1/orgs/{id}/memberships/{user_id}/decision", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Membership{OrgID: r.PathValue("id"), UserID: r.PathValue("user_id"), Status: api.MembershipRejected})
	}))
	f.mux.HandleFunc("PATCH /v1/orgs/{id}/memberships/{user_id}", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Membership{OrgID: r.PathValue("id"), UserID: r.PathValue("user_id"), Role: api.RoleCoordinator})
	}))
	f.mux.HandleFunc("DELETE /v1/orgs/{id}/memberships/{user_id}", authed(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	f.mux.HandleFunc("GET /v1/audit", authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Page[api.AuditEntry]{Items: []api.AuditEntry{{ID: "a1", Action: "org.suspend"}}})
	}))
}

func ptr[T any](v T) *T { return &v }

func TestOrgCalls(t *testing.T) {
	f := newFakeServer(t)
	orgRoutes(f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()
	until := time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC)

	tests := []struct {
		name   string
		call   func() (any, error)
		method string
		path   string // escaped
		query  string
		body   string
		key    string // Idempotency-Key: "" none, "*" any, else exactly
		public bool   // sent without the access token
		want   any
	}{
		{
			name: "CreateOrg",
			call: func() (any, error) {
				return c.CreateOrg(ctx, api.CreateOrgRequest{Name: "Perludem", AccreditationNumber: "B-12/2028", AccreditedUntil: until, RegionCode: ptr("31")})
			},
			method: "POST", path: "/v1/orgs",
			body: `{"name":"Perludem","accreditation_number":"B-12/2028","accredited_until":"2029-12-31T00:00:00Z","region_code":"31"}`,
			key:  "*",
			want: api.Org{ID: "o1", Name: "Perludem", Status: api.OrgAccredited},
		},
		{
			name: "Orgs filtered",
			call: func() (any, error) {
				return c.Orgs(ctx, OrgFilter{Status: api.OrgAccredited, Region: "31.71", ListOptions: ListOptions{Limit: 20, Cursor: "MjAy+/="}})
			},
			method: "GET", path: "/v1/orgs", query: "cursor=MjAy%2B%2F%3D&limit=20&region=31.71&status=accredited",
			public: true,
			want:   api.Page[api.Org]{Items: []api.Org{{ID: "o1"}}, NextCursor: "next"},
		},
		{
			name:   "Orgs unfiltered",
			call:   func() (any, error) { return c.Orgs(ctx, OrgFilter{}) },
			method: "GET", path: "/v1/orgs",
			public: true,
			want:   api.Page[api.Org]{Items: []api.Org{{ID: "o1"}}, NextCursor: "next"},
		},
		{
			name:   "Org",
			call:   func() (any, error) { return c.Org(ctx, "o/1") },
			method: "GET", path: "/v1/orgs/o%2F1",
			public: true,
			want:   api.Org{ID: "o/1"},
		},
		{
			name: "SetAccreditation",
			call: func() (any, error) {
				return c.SetAccreditation(ctx, "o/1", api.AccreditationRequest{Action: api.ActionSuspend, Reason: "laporan dana"})
			},
			method: "POST", path: "/v1/orgs/o%2F1/accreditation",
			body: `{"action":"suspend","reason":"laporan dana"}`,
			key:  "*",
			want: api.Org{ID: "o/1", Status: api.OrgSuspended},
		},
		{
			name: "CreateInvite with own key",
			call: func() (any, error) {
				return c.CreateInvite(ctx, "o/1", api.InviteRequest{MaxUses: 50, ExpiresAt: until}, IdempotencyKey("invite-1"))
			},
			method: "POST", path: "/v1/orgs/o%2F1/invites",
			body: `{"max_uses":50,"expires_at":"2029-12-31T00:00:00Z"}`,
			key:  "invite-1",
			want: api.Invite{OrgID: "o/1", Code: "K0DE", MaxUses: 50},
		},
		{
			name:   "Join without code",
			call:   func() (any, error) { return c.Join(ctx, "o/1", "") },
			method: "POST", path: "/v1/orgs/o%2F1/memberships",
			body: `{}`,
			key:  "*",
			want: api.Membership{OrgID: "o/1", UserID: "u1", Status: api.MembershipPending},
		},
		{
			name:   "Join with code",
			call:   func() (any, error) { return c.Join(ctx, "o/1", "K0DE", IdempotencyKey("join-1")) },
			method: "POST", path: "/v1/orgs/o%2F1/memberships",
			body: `{"invite_code":"K0DE"}`,
			key:  "join-1",
			want: api.Membership{OrgID: "o/1", UserID: "u1", Status: api.MembershipPending},
		},
		{
			name: "Memberships",
			call: func() (any, error) {
				return c.Memberships(ctx, "o/1", api.MembershipPending, ListOptions{Limit: 200, Cursor: "c"})
			},
			method: "GET", path: "/v1/orgs/o%2F1/memberships", query: "cursor=c&limit=200&status=pending",
			want: api.Page[api.Membership]{Items: []api.Membership{{OrgID: "o/1", UserID: "u1"}}},
		},
		{
			name:   "Memberships all statuses",
			call:   func() (any, error) { return c.Memberships(ctx, "o1", "", ListOptions{}) },
			method: "GET", path: "/v1/orgs/o1/memberships",
			want: api.Page[api.Membership]{Items: []api.Membership{{OrgID: "o1", UserID: "u1"}}},
		},
		{
			name: "Decide",
			call: func() (any, error) {
				return c.Decide(ctx, "o/1", "u 2", api.DecisionRequest{Decision: "reject", Reason: "bukan relawan"})
			},
			method: "POST", path: "/v1/orgs/o%2F1/memberships/u%202/decision",
			body: `{"decision":"reject","reason":"bukan relawan"}`,
			key:  "*",
			want: api.Membership{OrgID: "o/1", UserID: "u 2", Status: api.MembershipRejected},
		},
		{
			name:   "SetRole",
			call:   func() (any, error) { return c.SetRole(ctx, "o/1", "u 2", api.RoleCoordinator) },
			method: "PATCH", path: "/v1/orgs/o%2F1/memberships/u%202",
			body: `{"role":"coordinator"}`,
			want: api.Membership{OrgID: "o/1", UserID: "u 2", Role: api.RoleCoordinator},
		},
		{
			name:   "RemoveMember",
			call:   func() (any, error) { return nil, c.RemoveMember(ctx, "o/1", "u 2") },
			method: "DELETE", path: "/v1/orgs/o%2F1/memberships/u%202",
		},
		{
			name: "Audit",
			call: func() (any, error) {
				return c.Audit(ctx, AuditFilter{TargetType: "org", TargetID: "o/1", ListOptions: ListOptions{Limit: 5}})
			},
			method: "GET", path: "/v1/audit", query: "limit=5&target_id=o%2F1&target_type=org",
			want: api.Page[api.AuditEntry]{Items: []api.AuditEntry{{ID: "a1", Action: "org.suspend"}}},
		},
		{
			name:   "Audit unfiltered",
			call:   func() (any, error) { return c.Audit(ctx, AuditFilter{}) },
			method: "GET", path: "/v1/audit",
			want: api.Page[api.AuditEntry]{Items: []api.AuditEntry{{ID: "a1", Action: "org.suspend"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.all())
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answer: got %+v, want %+v", got, tt.want)
			}
			seen := f.all()[before:]
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want 1: %+v", len(seen), seen)
			}
			s := seen[0]
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
		})
	}
}

func TestPublicCallsNeedNoSession(t *testing.T) {
	f := newFakeServer(t)
	orgRoutes(f)
	f.refuseRefresh = true
	clk := newClock()
	ctx := context.Background()
	signedOut, _ := f.client()
	ended, _ := f.client(withClock(clk), WithTokens(api.Tokens{AccessToken: "expired", RefreshToken: "refresh-gone", ExpiresIn: 60}))
	clk.Advance(time.Hour)

	for name, c := range map[string]*Client{"signed out": signedOut, "session ended": ended} {
		if _, err := c.Orgs(ctx, OrgFilter{}); err != nil {
			t.Errorf("%s: Orgs: %v", name, err)
		}
		if o, err := c.Org(ctx, "o1"); err != nil || o.ID != "o1" {
			t.Errorf("%s: Org: got %+v, %v", name, o, err)
		}
	}
	if n := f.refreshHits.Load(); n != 0 {
		t.Errorf("got %d refreshes, want none", n)
	}
	for _, s := range f.all() {
		if a := s.Header.Get("Authorization"); a != "" {
			t.Errorf("%s %s: got Authorization %q, want none", s.Method, s.Path, a)
		}
	}
	// A call that is not public still needs the session.
	if _, err := ended.Memberships(ctx, "o1", "", ListOptions{}); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("Memberships with an ended session: got %v, want ErrNotSignedIn", err)
	}
}

// jwt makes an unsigned token of the given payload, as the client sees one.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"EdDSA","typ":"JWT","kid":"k1"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("signature"))
}

func TestLeave(t *testing.T) {
	ctx := context.Background()

	t.Run("sub of the access token", func(t *testing.T) {
		f := newFakeServer(t)
		token := jwt(`{"sub":"u/9","role":"volunteer","exp":1}`)
		f.mux.HandleFunc("DELETE /v1/orgs/{id}/memberships/{user_id}", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				writeProblem(w, http.StatusUnauthorized, "invalid-token", "", nil)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		c, _ := f.client(WithTokens(api.Tokens{AccessToken: token, RefreshToken: "refresh-0", ExpiresIn: 900}))
		if err := c.Leave(ctx, "o 1"); err != nil {
			t.Fatal(err)
		}
		seen := f.all()
		if len(seen) != 1 || seen[0].Method != http.MethodDelete || seen[0].Path != "/v1/orgs/o%201/memberships/u%2F9" {
			t.Errorf("got requests %+v, want one DELETE /v1/orgs/o%%201/memberships/u%%2F9", seen)
		}
	})

	t.Run("no JWT: asks /v1/me", func(t *testing.T) {
		f := newFakeServer(t)
		orgRoutes(f)
		c, _ := f.client(WithTokens(f.tokens(0))) // "access-0" is no JWT
		if err := c.Leave(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
		seen := f.all()
		if len(seen) != 2 || seen[0].Path != "/v1/me" || seen[1].Method != http.MethodDelete || seen[1].Path != "/v1/orgs/o1/memberships/u1" {
			t.Errorf("got requests %+v, want GET /v1/me then DELETE /v1/orgs/o1/memberships/u1", seen)
		}
	})

	t.Run("only a refresh token: asks /v1/me", func(t *testing.T) {
		f := newFakeServer(t)
		orgRoutes(f)
		c, _ := f.client(WithTokens(api.Tokens{RefreshToken: "refresh-0"}))
		if err := c.Leave(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
		if n := len(f.requests("/v1/orgs/o1/memberships/u1")); n != 1 || f.refreshHits.Load() != 1 {
			t.Errorf("got %d DELETEs after %d refreshes, want 1 after 1", n, f.refreshHits.Load())
		}
	})

	t.Run("signed out", func(t *testing.T) {
		f := newFakeServer(t)
		c, _ := f.client()
		if err := c.Leave(ctx, "o1"); !errors.Is(err, ErrNotSignedIn) {
			t.Errorf("got %v, want ErrNotSignedIn", err)
		}
		if n := len(f.all()); n != 0 {
			t.Errorf("got %d requests, want none", n)
		}
	})
}

func TestSubject(t *testing.T) {
	tests := map[string]string{
		jwt(`{"sub":"0190a1b2-c3d4"}`): "0190a1b2-c3d4",
		jwt(`{"role":"admin"}`):        "",
		jwt(`not json`):                "",
		"access-0":                     "",
		"a.!!!.c":                      "",
		"":                             "",
	}
	for token, want := range tests {
		if got := subject(token); got != want {
			t.Errorf("subject(%q): got %q, want %q", token, got, want)
		}
	}
}

func TestBadIDsAreRefused(t *testing.T) {
	f := newFakeServer(t)
	orgRoutes(f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()
	calls := map[string]func() error{
		"Org empty":          func() error { _, err := c.Org(ctx, ""); return err },
		"Join dot":           func() error { _, err := c.Join(ctx, ".", ""); return err },
		"SetRole dotdot":     func() error { _, err := c.SetRole(ctx, "o1", "..", api.RoleMember); return err },
		"RemoveMember empty": func() error { return c.RemoveMember(ctx, "o1", "") },
		"Decide empty": func() error {
			_, err := c.Decide(ctx, "o1", "", api.DecisionRequest{Decision: "approve"})
			return err
		},
		"Memberships empty": func() error { _, err := c.Memberships(ctx, "", "", ListOptions{}); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	if n := len(f.all()); n != 0 {
		t.Errorf("got %d requests, want none", n)
	}
	// "..." is an ordinary id.
	if _, err := c.Org(ctx, "..."); err != nil {
		t.Errorf(`Org("..."): %v`, err)
	}
}
