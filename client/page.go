package client

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/jarimu/jarimu/api"
)

// ListOptions selects one page of a list call.
type ListOptions struct {
	// Limit is the page size, from 1 to 200; 0 lets the server choose (50).
	// Other values are sent as they are, and the server answers them 400
	// "bad-query".
	Limit int
	// Cursor is the NextCursor of the page before; empty for the first page.
	Cursor string
}

// addTo sets the paging parameters of o in q.
func (o ListOptions) addTo(q url.Values) {
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
}

// All yields every item of a list, page after page: it calls fetch with the
// cursor "" for the first page, then with each page's NextCursor until a
// page has none. It fetches a page only when the items before are consumed,
// and no more once the loop breaks. An error (from fetch, or ctx being done
// before a page is fetched) is yielded once, with a zero item, and ends the
// iteration; so does a server that hands out the cursor just used again,
// which would otherwise loop for ever.
//
//	for o, err := range client.All(ctx, func(ctx context.Context, cursor string) (api.Page[api.Org], error) {
//		return c.Orgs(ctx, client.OrgFilter{Status: api.OrgAccredited, ListOptions: client.ListOptions{Limit: 200, Cursor: cursor}})
//	}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(o.Name)
//	}
//
// AllOrgs, AllMemberships, AllAudit, AllTasks, AllReports and AllAlerts do
// the same for those lists.
func All[T any](ctx context.Context, fetch func(ctx context.Context, cursor string) (api.Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			p, err := fetch(ctx, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			if p.NextCursor == cursor {
				yield(zero, fmt.Errorf("jarimu: the server gave the cursor %q again; stopped to avoid a loop", cursor))
				return
			}
			cursor = p.NextCursor
		}
	}
}

// from returns the fetch of All for list, starting at o.Cursor with pages
// of o.Limit.
func from[T any](o ListOptions, list func(ctx context.Context, o ListOptions) (api.Page[T], error)) func(context.Context, string) (api.Page[T], error) {
	return func(ctx context.Context, cursor string) (api.Page[T], error) {
		if cursor == "" {
			cursor = o.Cursor
		}
		return list(ctx, ListOptions{Limit: o.Limit, Cursor: cursor})
	}
}
