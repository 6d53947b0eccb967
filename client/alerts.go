package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/jarimu/jarimu/api"
)

// AlertFilter selects published alerts (GET /v1/alerts). Empty fields are
// not sent.
type AlertFilter struct {
	// Region keeps the alerts of this Kemendagri region code.
	Region string
	// Since keeps the alerts published at or after it; zero: all.
	Since time.Time
	ListOptions
}

func alertRoute(id string, segments ...string) route { return routeTo("/v1/alerts", id, segments...) }

// CreateAlert broadcasts an alert to a region (RegionCode nil: national),
// delivered on the feed to everyone there; officers, for their region or
// below.
func (c *Client) CreateAlert(ctx context.Context, req api.CreateAlertRequest, opts ...CallOption) (api.Alert, error) {
	return call[api.Alert](ctx, c, http.MethodPost, route{path: "/v1/alerts"}, nil, req, opts...)
}

// Alerts returns one page of published alerts, newest first, retracted ones
// flagged. It is public: sent without the access token, like Orgs.
func (c *Client) Alerts(ctx context.Context, f AlertFilter) (api.Page[api.Alert], error) {
	q := url.Values{}
	setNonEmpty(q, "region", f.Region)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	f.ListOptions.addTo(q)
	return call[api.Page[api.Alert]](ctx, c, http.MethodGet, route{path: "/v1/alerts"}, q, nil, anonymous())
}

// AllAlerts yields every alert f selects, following the pages from f.Cursor
// (see All).
func (c *Client) AllAlerts(ctx context.Context, f AlertFilter) iter.Seq2[api.Alert, error] {
	return All(ctx, from(f.ListOptions, func(ctx context.Context, o ListOptions) (api.Page[api.Alert], error) {
		g := f
		g.ListOptions = o
		return c.Alerts(ctx, g)
	}))
}

// Alert returns alert id. It is public, as Alerts is.
func (c *Client) Alert(ctx context.Context, id string) (api.Alert, error) {
	return call[api.Alert](ctx, c, http.MethodGet, alertRoute(id), nil, nil, anonymous())
}

// Retract withdraws alert id, giving the public reason (3 to 1000
// characters); officers covering its region. Clients are told on the feed
// (alert.retracted).
func (c *Client) Retract(ctx context.Context, id, reason string, opts ...CallOption) (api.Alert, error) {
	req := api.RetractionRequest{Reason: reason}
	return call[api.Alert](ctx, c, http.MethodPost, alertRoute(id, "retraction"), nil, req, opts...)
}

// Reach tells how far alert id got: the volunteers it was meant for, how
// many acknowledged it on the feed, and the delivery delay percentiles.
func (c *Client) Reach(ctx context.Context, id string) (api.Reach, error) {
	return call[api.Reach](ctx, c, http.MethodGet, alertRoute(id, "reach"), nil, nil)
}
