package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/jarimu/jarimu/api"
)

// StatsQuery chooses what an aggregate counts: the UTC days From to To
// (both included; a zero one lets the server choose: the last 30 days
// ending today) and, for a coordinator (required) or an officer
// (optional), one org.
type StatsQuery struct {
	From, To time.Time // only the UTC date counts
	OrgID    string
}

func (q StatsQuery) values() url.Values {
	v := url.Values{}
	for key, t := range map[string]time.Time{"from": q.From, "to": q.To} {
		if !t.IsZero() {
			v.Set(key, t.UTC().Format(time.DateOnly))
		}
	}
	setNonEmpty(v, "org_id", q.OrgID)
	return v
}

// StatsFindings counts the reports filed per UTC day and category.
func (c *Client) StatsFindings(ctx context.Context, q StatsQuery) (api.FindingsStats, error) {
	return call[api.FindingsStats](ctx, c, http.MethodGet, route{path: "/v1/stats/findings"}, q.values(), nil)
}

// StatsFunnel counts the reports filed in the period by where each stands now.
func (c *Client) StatsFunnel(ctx context.Context, q StatsQuery) (api.FunnelStats, error) {
	return call[api.FunnelStats](ctx, c, http.MethodGet, route{path: "/v1/stats/funnel"}, q.values(), nil)
}

// StatsTakedowns counts the takedowns requested in the period per platform,
// with the hours from request to takedown.
func (c *Client) StatsTakedowns(ctx context.Context, q StatsQuery) (api.TakedownStats, error) {
	return call[api.TakedownStats](ctx, c, http.MethodGet, route{path: "/v1/stats/takedowns"}, q.values(), nil)
}

// StatsAlerts reads one page of the reach of each alert published in the
// period, oldest first (officers and admins).
func (c *Client) StatsAlerts(ctx context.Context, q StatsQuery, o ListOptions) (api.AlertStats, error) {
	v := q.values()
	o.addTo(v)
	return call[api.AlertStats](ctx, c, http.MethodGet, route{path: "/v1/stats/alerts"}, v, nil)
}

// AllStatsAlerts yields the reach of every alert published in the period,
// following the pages from o.Cursor (see All).
func (c *Client) AllStatsAlerts(ctx context.Context, q StatsQuery, o ListOptions) iter.Seq2[api.AlertStat, error] {
	return All(ctx, from(o, func(ctx context.Context, o ListOptions) (api.Page[api.AlertStat], error) {
		st, err := c.StatsAlerts(ctx, q, o)
		return api.Page[api.AlertStat]{Items: st.Items, NextCursor: st.NextCursor}, err
	}))
}

// StatsProvinces counts the reports filed in the period, and those
// verified, per province.
func (c *Client) StatsProvinces(ctx context.Context, q StatsQuery) (api.ProvinceStats, error) {
	return call[api.ProvinceStats](ctx, c, http.MethodGet, route{path: "/v1/stats/provinces"}, q.values(), nil)
}
