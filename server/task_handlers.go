package server

import (
	"cmp"
	"net/http"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/task"
)

func (s *Server) handleCreateTask(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.CreateTaskRequest) (api.Task, error) {
		return s.tasks.Create(r.Context(), p, req)
	}, func(t api.Task) string { return "/v1/tasks/" + t.ID })(w, r)
}

func (s *Server) handleListTasks(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q, err := readList(r, enum{"scope", []string{task.ScopeAvailable, task.ScopeMine, task.ScopeOrg, task.ScopeNational}},
		enum{"status", []string{api.TaskOpen, api.TaskClosed}})
	if err != nil {
		return err
	}
	orgID, err := idQuery(r, "org_id", "an organisation's id")
	if err != nil {
		return err
	}
	ts, err := s.tasks.List(r.Context(), p, task.Filter{Scope: cmp.Or(q.enums["scope"], task.ScopeAvailable),
		OrgID: orgID, Region: q.region, Status: q.enums["status"], Before: q.before, Limit: q.fetch()})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, paginate(ts, q.page, func(t api.Task) string { return t.ID }))
	return nil
}

func (s *Server) handleGetTask(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Task, error) {
		return s.tasks.Get(r.Context(), p, r.PathValue("id"))
	})(w, r)
}

func (s *Server) handleUpdateTask(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.UpdateTaskRequest) (api.Task, error) {
		return s.tasks.Update(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleCloseTask(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Task, error) {
		if err := emptyBody(r); err != nil {
			return api.Task{}, err
		}
		return s.tasks.Close(r.Context(), p, r.PathValue("id"))
	})(w, r)
}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := emptyBody(r); err != nil {
		return err
	}
	c, err := s.tasks.Claim(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/claims/"+c.ID)
	encode(w, http.StatusCreated, c)
	return nil
}

func (s *Server) handleAssign(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.AssignRequest) (api.Claim, error) {
		return s.tasks.Assign(r.Context(), p, r.PathValue("id"), req.UserID)
	}, func(c api.Claim) string { return "/v1/claims/" + c.ID })(w, r)
}

// claimChangeBody reads the optional {version} body of extend and release.
func claimChangeBody(r *http.Request) (*int, error) {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil, nil
	}
	var req api.ClaimChangeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return req.Version, nil
}

func (s *Server) handleExtend(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Claim, error) {
		version, err := claimChangeBody(r)
		if err != nil {
			return api.Claim{}, err
		}
		return s.tasks.Extend(r.Context(), p, r.PathValue("id"), version)
	})(w, r)
}

func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Claim, error) {
		version, err := claimChangeBody(r)
		if err != nil {
			return api.Claim{}, err
		}
		return s.tasks.Release(r.Context(), p, r.PathValue("id"), version)
	})(w, r)
}

func (s *Server) handleComplete(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.CompleteRequest) (api.Claim, error) {
		return s.tasks.Complete(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleGetClaim(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Claim, error) {
		return s.tasks.GetClaim(r.Context(), p, r.PathValue("id"))
	})(w, r)
}
