package server

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

// page is a list request's ?limit= (1..200, default 50) and ?cursor=.
type page struct {
	Limit  int
	Cursor string // decoded; "" for the first page
}

// pageOf reads and checks the paging parameters.
func pageOf(r *http.Request) (page, error) {
	p := page{Limit: 50}
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return p, problem.BadQueryType.New("limit must be a whole number from 1 to 200")
		}
		p.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 || len(b) > 200 || strings.ContainsFunc(string(b), func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return p, badCursor.New("the cursor is not one this server gave out")
		}
		p.Cursor = string(b)
	}
	return p, nil
}

// fetch is how many rows to ask for: one more than the page shows, to know
// whether another page follows.
func (p page) fetch() int { return p.Limit + 1 }

// paginate trims items to the page and sets next_cursor from the last item
// shown when more follow.
func paginate[T any](items []T, p page, key func(T) string) api.Page[T] {
	if items == nil {
		items = []T{}
	}
	if len(items) <= p.Limit {
		return api.Page[T]{Items: items}
	}
	items = items[:p.Limit]
	return api.Page[T]{Items: items, NextCursor: base64.RawURLEncoding.EncodeToString([]byte(key(items[len(items)-1])))}
}

// timeKey encodes a (time, id) position as a cursor key.
func timeKey(t time.Time, id string) string {
	return t.UTC().Format(time.RFC3339Nano) + "|" + id
}

// parseTimeKey decodes a timeKey cursor.
func parseTimeKey(s string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(s, "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", badCursor.New("the cursor is not one this server gave out")
	}
	return t, id, nil
}

// oneOf reads an optional enum query parameter.
func oneOf(r *http.Request, name string, allowed ...string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", problem.BadQueryType.New("%s must be one of: %s", name, strings.Join(allowed, ", "))
}

// idCursor is the cursor of a list ordered by id: it must be a UUID.
func (p page) idCursor() (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	if !api.ValidID(p.Cursor) {
		return "", badCursor.New("the cursor is not one this server gave out")
	}
	return p.Cursor, nil
}

// idQuery reads the query parameter name, an id of what (400 bad-query
// when it is not one); "" when absent.
func idQuery(r *http.Request, name, what string) (string, error) {
	v := r.URL.Query().Get(name)
	if v != "" && !api.ValidID(v) {
		return "", problem.BadQueryType.New("%s must be %s (a UUID)", name, what)
	}
	return v, nil
}

// enum is a query parameter that takes one of a fixed set of values.
type enum struct {
	name    string
	allowed []string
}

// listQuery is what a list ordered by id reads from its query: the page, the
// id cursor, ?region= and its enum filters (by name; "" when absent).
type listQuery struct {
	page
	before, region string
	enums          map[string]string
}

// readList reads and checks a list's query; any bad value is a 400.
func readList(r *http.Request, enums ...enum) (listQuery, error) {
	pg, err := pageOf(r)
	if err != nil {
		return listQuery{}, err
	}
	q := listQuery{page: pg, enums: map[string]string{}}
	for _, e := range enums {
		if q.enums[e.name], err = oneOf(r, e.name, e.allowed...); err != nil {
			return listQuery{}, err
		}
	}
	if q.region, err = regionQuery(r); err != nil {
		return listQuery{}, err
	}
	q.before, err = pg.idCursor()
	return q, err
}
