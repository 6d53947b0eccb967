package server

import (
	"net/http"

	"github.com/jarimu/jarimu/api"
)

func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-cache")
	encode(w, http.StatusOK, s.notice)
	return nil
}

func (s *Server) handleUpdateMe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.UpdateMeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.UpdateMe(r.Context(), p, req)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, u)
	return nil
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.ChangePasswordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	resp, err := s.auth.ChangePassword(r.Context(), p, req, clientIP(r))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.ConsentRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.Consent(r.Context(), p, req)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, u)
	return nil
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	out, err := s.auth.Sessions(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := s.auth.RevokeSession(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleRevokeDevice(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := s.auth.RevokeDevice(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handlePasswordReset(w http.ResponseWriter, r *http.Request) error {
	var req api.PasswordResetRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	resp, err := s.auth.RequestReset(r.Context(), req.Email, clientIP(r))
	if err != nil {
		return err
	}
	encode(w, http.StatusAccepted, resp)
	return nil
}

func (s *Server) handlePasswordResetConfirm(w http.ResponseWriter, r *http.Request) error {
	var req api.PasswordResetConfirm
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.ConfirmReset(r.Context(), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
