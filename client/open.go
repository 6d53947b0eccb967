package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
)

// OpenIndex describes the open datasets (GET /v1/open): no login, no
// personal data.
type OpenIndex struct {
	// Licence of every dataset (CC BY 4.0, with the attribution to give).
	Licence string `json:"licence"`
	// Personal states what personal data the datasets hold: none.
	Personal string        `json:"personal"`
	Datasets []OpenDataset `json:"datasets"`
}

// OpenDataset is one open dataset: its name (for OpenExport), the paths it
// is served at and its fields.
type OpenDataset struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Formats     []string    `json:"formats"`
	Fields      []OpenField `json:"fields"`
}

// OpenField is one field of an open dataset.
type OpenField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// OpenStats are the open statistics of reports (GET /v1/open/stats.json).
type OpenStats struct {
	// GroupBy is "category", "region" or "day".
	GroupBy string     `json:"group_by"`
	Licence string     `json:"licence"`
	Items   []OpenStat `json:"items"`
}

// OpenStat is one group of OpenStats.
type OpenStat struct {
	// Key is the category, the province code ("national" for none) or the
	// day (YYYY-MM-DD, UTC).
	Key string `json:"key"`
	// Name is the province's name, grouped by region ("" for national).
	Name             string `json:"name,omitempty"`
	Reports          int    `json:"reports"`
	Verified         int    `json:"verified"`
	TakenDown        int    `json:"taken_down"`
	TakedownRequests int    `json:"takedown_requests"`
}

// OpenIndex describes the open datasets, their fields and licence. Open data
// is public: these calls are sent without the access token.
func (c *Client) OpenIndex(ctx context.Context) (OpenIndex, error) {
	return call[OpenIndex](ctx, c, http.MethodGet, route{path: "/v1/open"}, nil, nil, anonymous())
}

// OpenStats counts reports, verified reports and takedowns grouped by
// groupBy: "category", "region" (province) or "day"; "" lets the server
// choose (category).
func (c *Client) OpenStats(ctx context.Context, groupBy string) (OpenStats, error) {
	q := url.Values{}
	setNonEmpty(q, "group_by", groupBy)
	return call[OpenStats](ctx, c, http.MethodGet, route{path: "/v1/open/stats.json"}, q, nil, anonymous())
}

// datasetName is the shape of a dataset's name and format.
var datasetName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// OpenExport opens the whole dataset name ("alerts" or "orgs") in format
// "csv" (RFC 4180, with a header row) or "json" (an array). The caller reads
// and closes it; the server streams it, and the Client's http.Client timeout
// bounds the reading too.
func (c *Client) OpenExport(ctx context.Context, name, format string) (io.ReadCloser, error) {
	if !datasetName.MatchString(name) {
		return nil, fmt.Errorf("jarimu: invalid dataset name %q", name)
	}
	mediaType := "application/json"
	switch format {
	case "json":
	case "csv":
		mediaType = "text/csv"
	default:
		return nil, fmt.Errorf("jarimu: open data format %q: want csv or json", format)
	}
	path := "/v1/open/" + name + "." + format
	d, err := fetch(ctx, c, route{path: path}, nil, accept(mediaType+", application/problem+json"), anonymous())
	if err != nil {
		return nil, err
	}
	return d.body, nil
}
