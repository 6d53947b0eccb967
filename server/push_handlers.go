package server

import (
	"net/http"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
)

func (s *Server) handlePushKey(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	encode(w, http.StatusOK, api.PushKey{PublicKey: s.push.PublicKey()})
	return nil
}

// handleSubscribe answers 201 for a new device and 200 for a known one
// (its keys or events changed).
func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.SubscribeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	sub, created, err := s.push.Subscribe(r.Context(), p.UserID, req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/push/subscriptions/"+sub.ID)
	}
	encode(w, status, sub)
	return nil
}

func (s *Server) handleListSubscriptions(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Page[api.PushSubscription], error) {
		subs, err := s.push.List(r.Context(), p.UserID)
		return api.Page[api.PushSubscription]{Items: subs}, err
	})(w, r)
}

func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := s.push.Unsubscribe(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handlePushAck takes the ack of a shown notification from a service
// worker, which holds no access token: the ack string itself proves which
// push and device it is.
func (s *Server) handlePushAck(w http.ResponseWriter, r *http.Request) error {
	var req api.PushAckRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.push.Ack(r.Context(), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handlePushTest(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusAccepted, func(r *http.Request, p auth.Principal) (api.PushTestResult, error) {
		return s.push.Test(r.Context(), p.UserID)
	})(w, r)
}
