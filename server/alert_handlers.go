package server

import (
	"net/http"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
)

func (s *Server) handleCreateAlert(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.CreateAlertRequest) (api.Alert, error) {
		return s.alerts.Create(r.Context(), p, req)
	}, func(a api.Alert) string { return "/v1/alerts/" + a.ID })(w, r)
}

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) error {
	q, err := readList(r)
	if err != nil {
		return err
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return problem.BadQueryType.New("since must be an RFC 3339 time")
		}
	}
	as, err := s.alerts.List(r.Context(), alert.Filter{Region: q.region, Since: since, Before: q.before, Limit: q.fetch()})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, paginate(as, q.page, func(a api.Alert) string { return a.ID }))
	return nil
}

func (s *Server) handleGetAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := s.alerts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleRetractAlert(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.RetractionRequest) (api.Alert, error) {
		return s.alerts.Retract(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleReach(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Reach, error) {
		reach, err := s.alerts.Reach(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return reach, err
		}
		reach.Pushed, reach.Displayed, err = s.push.Reach(r.Context(), reach.AlertID)
		return reach, err
	})(w, r)
}
