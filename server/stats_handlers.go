package server

import (
	"context"
	"net/http"
	"time"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/stats"
)

// statsQuery reads an aggregate's query: the period (from, to) and org_id.
func statsQuery(r *http.Request, now time.Time) (stats.Query, error) {
	v := r.URL.Query()
	for name := range v {
		if name != "from" && name != "to" && name != "org_id" {
			return stats.Query{}, problem.BadQueryType.New("unknown query parameter %q (from, to and org_id are)", name)
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

func (s *Server) handleStatsAlerts(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Alerts)(w, r)
}

func (s *Server) handleStatsProvinces(w http.ResponseWriter, r *http.Request) error {
	return statsHandler(s.stats, s.stats.Provinces)(w, r)
}
