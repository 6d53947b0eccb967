package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/jarimu/jarimu/api"
)

// Regions finds provinces, regencies/cities and districts by name (each
// word of q begins a word of the name or its ancestors' names, ignoring case
// and accents) or, for a q of digits, by code prefix: best first, at most
// limit of them (1 to 50; 0 lets the server choose, 20). The region table
// is public: the call is sent without the access token.
func (c *Client) Regions(ctx context.Context, q string, limit int) ([]api.Region, error) {
	v := url.Values{"q": {q}}
	if limit != 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	out, err := call[api.Regions](ctx, c, http.MethodGet, route{path: "/v1/regions"}, v, nil, anonymous())
	return out.Items, err
}

// Region reads one province, regency/city or district by its code.
func (c *Client) Region(ctx context.Context, code string) (api.Region, error) {
	return call[api.Region](ctx, c, http.MethodGet, routeTo("/v1/regions", code), nil, nil, anonymous())
}
