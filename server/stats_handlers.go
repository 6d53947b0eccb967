package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/stats"
)

// statsQuery reads an aggregate's query: the period (from, to) and org_id,
// and the other parameters named in also (a list's paging).
func statsQuery(r *http.Request, now time.Time, also ...string) (stats.Query, error) {
	v := r.URL.Query()
	known := append([]string{"from", "to", "org_id"}, also...)
	for name := range v {
		if !slices.Contains(known, name) {
			return stats.Query{}, problem.BadQueryType.New("unknown query parameter %q (%s are)", name, strings.Join(known, ", "))
		}
	}
	period, err := stats.ParsePeriod(v.Get("from"), v.Get("to"), now)
	if err != nil {
		return stats.Query{}, err
	}
	q := stats.Query{Period: period}
	q.OrgID, err = idQuery(r, "org_id", "an organisation's id")
	return q, err
}

// statsHandler makes the handler of one aggregate: the query read first
// (bad-query), then the capability (forbidden, the answer).
func statsHandler[Resp any](clock *stats.Service, do func(ctx context.Context, p auth.Principal, q stats.Query) (Resp, error)) handlerFunc {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (Resp, error) {
		var zero Resp
		now, err := clock.Now(r.Context())
		if err != nil {
			return zero, err
		}
		q, err := statsQuery(r, now)
		if err != nil {
			return zero, err
		}
		return do(r.Context(), p, q)
	})
}

func (s *Server) handleStatsFindings(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Findings)(w, r)
}

func (s *Server) handleStatsFunnel(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Funnel)(w, r)
}

func (s *Server) handleStatsTakedowns(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Takedowns)(w, r)
}

// handleStatsAlerts pages the alert reach as every list is paged: the
// period's alerts are as many as were published, so no answer holds them
// all.
func (s *Server) handleStatsAlerts(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.AlertStats, error) {
		now, err := s.stats.Now(r.Context())
		if err != nil {
			return api.AlertStats{}, err
		}
		q, err := statsQuery(r, now, "limit", "cursor")
		if err != nil {
			return api.AlertStats{}, err
		}
		pg, err := pageOf(r)
		if err != nil {
			return api.AlertStats{}, err
		}
		var after stats.AlertCursor
		if pg.Cursor != "" {
			if after.PublishedAt, after.ID, err = parseTimeKey(pg.Cursor); err == nil && !api.ValidID(after.ID) {
				err = badCursor.New("the cursor is not one this server gave out")
			}
			if err != nil {
				return api.AlertStats{}, err
			}
		}
		st, err := s.stats.Alerts(r.Context(), p, q, after, pg.fetch())
		if err != nil {
			return api.AlertStats{}, err
		}
		page := paginate(st.Items, pg, func(a api.AlertStat) string { return timeKey(a.PublishedAt, a.AlertID) })
		st.Items, st.NextCursor = page.Items, page.NextCursor
		return st, nil
	})(w, r)
}

func (s *Server) handleStatsProvinces(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Provinces)(w, r)
}
