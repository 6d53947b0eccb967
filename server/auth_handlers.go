package server

import (
	"net/http"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) error {
	var req api.SignupRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := problem.Validate(&req); err != nil {
		return err
	}
	resp, err := s.auth.Signup(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/me")
	encode(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.LoginRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	resp, err := s.auth.Login(r.Context(), req, clientIP(r))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	var req api.RefreshRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	tokens, err := s.auth.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.RefreshResponse{Tokens: tokens})
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	var req api.RefreshRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.Logout(r.Context(), req.RefreshToken); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	u, err := s.auth.UserByID(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	ms, err := s.orgs.Of(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.Me{User: u.API(), Memberships: ms, ConsentDue: p.ConsentDue})
	return nil
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return problem.Errorf(problem.Forbidden, "only admins create accounts here")
	}
	var req api.CreateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := problem.Validate(&req); err != nil {
		return err
	}
	u, err := s.auth.CreateUser(r.Context(), &p, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/admin/users/"+u.ID)
	encode(w, http.StatusCreated, u)
	return nil
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.UpdateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.UpdateUser(r.Context(), p, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, u)
	return nil
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return problem.Errorf(problem.Forbidden, "only admins read accounts here")
	}
	u, err := s.auth.UserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, u.API())
	return nil
}
