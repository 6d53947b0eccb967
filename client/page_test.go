package client

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/jarimu/jarimu/api"
)

// pagedOrgs serves GET /v1/orgs in three pages: a b, c d, e.
func pagedOrgs(f *fakeServer) {
	pages := map[string]api.Page[api.Org]{
		"":   {Items: []api.Org{{ID: "a"}, {ID: "b"}}, NextCursor: "c2"},
		"c2": {Items: []api.Org{{ID: "c"}, {ID: "d"}}, NextCursor: "c3"},
		"c3": {Items: []api.Org{{ID: "e"}}},
	}
	f.mux.HandleFunc("GET /v1/orgs", func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			writeProblem(w, http.StatusBadRequest, "bad-cursor", "", nil)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

func TestAllFollowsCursors(t *testing.T) {
	f := newFakeServer(t)
	pagedOrgs(f)
	c, _ := f.client()

	var ids []string
	for o, err := range c.AllOrgs(context.Background(), OrgFilter{Status: api.OrgAccredited, ListOptions: ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if want := []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
	var queries []string
	for _, s := range f.requests("/v1/orgs") {
		queries = append(queries, s.Query)
	}
	want := []string{"limit=2&status=accredited", "cursor=c2&limit=2&status=accredited", "cursor=c3&limit=2&status=accredited"}
	if !reflect.DeepEqual(queries, want) {
		t.Errorf("queries: got %q, want %q", queries, want)
	}
}

func TestAllStopsOnBreak(t *testing.T) {
	for _, tt := range []struct {
		take     int
		requests int
	}{{1, 1}, {2, 1}, {3, 2}, {5, 3}} {
		f := newFakeServer(t)
		pagedOrgs(f)
		c, _ := f.client()
		n := 0
		for _, err := range c.AllOrgs(context.Background(), OrgFilter{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == tt.take {
				break
			}
		}
		if got := len(f.requests("/v1/orgs")); n != tt.take || got != tt.requests {
			t.Errorf("break after %d: took %d items with %d requests, want %d requests", tt.take, n, got, tt.requests)
		}
	}
}

func TestAllErrorMidIteration(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	f.mux.HandleFunc("GET /v1/orgs/{id}/memberships", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) > 10 { // a runaway pager: end it, the test fails
			writeJSON(w, http.StatusOK, api.Page[api.Membership]{})
			return
		}
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, http.StatusOK, api.Page[api.Membership]{Items: []api.Membership{{UserID: "u1"}, {UserID: "u2"}}, NextCursor: "c2"})
			return
		}
		writeProblem(w, http.StatusForbidden, "not-coordinator", "you are no longer a coordinator", nil)
	})
	c, _ := f.client(WithTokens(f.tokens(0)))

	var users []string
	var errs []error
	for m, err := range c.AllMemberships(context.Background(), "o1", api.MembershipActive, ListOptions{}) {
		if err != nil {
			errs = append(errs, err)
			if m != (api.Membership{}) {
				t.Errorf("item with the error: got %+v, want zero", m)
			}
			continue // the iteration must end by itself
		}
		users = append(users, m.UserID)
	}
	if !reflect.DeepEqual(users, []string{"u1", "u2"}) {
		t.Errorf("items: got %v, want [u1 u2]", users)
	}
	if len(errs) != 1 || !IsProblem(errs[0], "not-coordinator") {
		t.Errorf("errors: got %v, want one not-coordinator", errs)
	}
	if n := len(f.requests("/v1/orgs/o1/memberships")); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
}

// pager is a fetch of All that notes its cursors and answers from pages, or
// with err once they run out.
type pager struct {
	pages   []api.Page[int]
	err     error
	cursors []string
}

func (p *pager) fetch(ctx context.Context, cursor string) (api.Page[int], error) {
	p.cursors = append(p.cursors, cursor)
	if len(p.cursors) > 20 {
		return api.Page[int]{}, nil // a runaway pager: end it, the test fails
	}
	if len(p.cursors) > len(p.pages) {
		return api.Page[int]{}, p.err
	}
	return p.pages[len(p.cursors)-1], nil
}

// collect ranges over seq, stopping at the first error when stop is set.
func collect(seq func(func(int, error) bool), stop bool) (items []int, errs []error) {
	for v, err := range seq {
		if err != nil {
			errs = append(errs, err)
			if stop {
				break
			}
			continue
		}
		items = append(items, v)
	}
	return items, errs
}

func TestAllFetchError(t *testing.T) {
	boom := errors.New("boom")
	for _, stop := range []bool{false, true} {
		p := &pager{pages: []api.Page[int]{{Items: []int{1, 2}, NextCursor: "x"}}, err: boom}
		items, errs := collect(All(context.Background(), p.fetch), stop)
		if !reflect.DeepEqual(items, []int{1, 2}) || len(errs) != 1 || errs[0] != boom {
			t.Errorf("stop %v: got %v and %v, want [1 2] and [boom]", stop, items, errs)
		}
		if !reflect.DeepEqual(p.cursors, []string{"", "x"}) {
			t.Errorf("stop %v: cursors: got %q, want [\"\" x]", stop, p.cursors)
		}
	}
}

func TestAllEmptyPagesAndRepeatedCursor(t *testing.T) {
	// Empty pages in the middle are skipped; an empty list yields nothing.
	p := &pager{pages: []api.Page[int]{{NextCursor: "x"}, {Items: []int{1}, NextCursor: "y"}, {}}}
	items, errs := collect(All(context.Background(), p.fetch), false)
	if !reflect.DeepEqual(items, []int{1}) || errs != nil || len(p.cursors) != 3 {
		t.Errorf("got %v, %v after %d pages; want [1], no error, 3 pages", items, errs, len(p.cursors))
	}

	// A server that gives the same cursor again must not loop for ever.
	p = &pager{pages: []api.Page[int]{{Items: []int{1}, NextCursor: "x"}, {Items: []int{2}, NextCursor: "x"}, {Items: []int{3}}}}
	items, errs = collect(All(context.Background(), p.fetch), false)
	if !reflect.DeepEqual(items, []int{1, 2}) || len(errs) != 1 || len(p.cursors) != 2 {
		t.Errorf("repeated cursor: got %v, %v after %d pages; want [1 2], one error, 2 pages", items, errs, len(p.cursors))
	}
}

func TestAllStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &pager{pages: []api.Page[int]{{Items: []int{1, 2}, NextCursor: "x"}, {Items: []int{3}}}}
	var items []int
	var errs []error
	for v, err := range All(ctx, p.fetch) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, v)
		cancel()
	}
	if !reflect.DeepEqual(items, []int{1, 2}) || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) || len(p.cursors) != 1 {
		t.Errorf("got %v, %v after %d pages; want [1 2], context.Canceled, 1 page", items, errs, len(p.cursors))
	}
}

func TestAllAuditAndMembershipsStartAtCursor(t *testing.T) {
	f := newFakeServer(t)
	orgRoutes(f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()

	for _, err := range c.AllAudit(ctx, AuditFilter{TargetID: "o1", ListOptions: ListOptions{Limit: 10, Cursor: "start"}}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range c.AllMemberships(ctx, "o1", "", ListOptions{Cursor: "from"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := f.requests("/v1/audit"); len(s) != 1 || s[0].Query != "cursor=start&limit=10&target_id=o1" {
		t.Errorf("audit: got %+v, want one request ?cursor=start&limit=10&target_id=o1", s)
	}
	if s := f.requests("/v1/orgs/o1/memberships"); len(s) != 1 || s[0].Query != "cursor=from" {
		t.Errorf("memberships: got %+v, want one request ?cursor=from", s)
	}
}
