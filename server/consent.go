package server

import (
	"net/http"
	"strings"

	"github.com/jarimu/jarimu/auth"
)

// consent holds back the writes of an account that has not consented to
// the privacy notice in force (403 consent-required, which the console
// turns into the notice), except what must never wait for a form: giving
// consent, the owner's own account (correcting it, its password and
// sessions, taking their data away or erasing it), stepping back (removing
// one of their push devices, leaving an organisation: someone who declines
// a new notice must be able to stop what reaches them), and alerts, the
// safety information officers publish and retract. Reads, the feed and its
// acks are never held back.
func (s *Server) consent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok || !p.ConsentDue || consentFree(r.Method, r.URL.Path, p.UserID) {
			next.ServeHTTP(w, r)
			return
		}
		s.writeError(w, r, consentRequired.New("consent to the privacy notice in force first (GET /v1/privacy, then POST /v1/me/consent)"))
	})
}

// consentFree says whether a request of userID goes on without consent.
func consentFree(method, path, userID string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodDelete:
		if strings.HasPrefix(path, "/v1/push/subscriptions/") { // only the caller's own (another's is a 404)
			return true
		}
		// DELETE /v1/orgs/{id}/memberships/{user_id} of the caller: leaving.
		org, ok := strings.CutPrefix(path, "/v1/orgs/")
		parts := strings.Split(org, "/")
		if ok && len(parts) == 3 && parts[1] == "memberships" && parts[2] == userID {
			return true
		}
	}
	return path == "/v1/me" || strings.HasPrefix(path, "/v1/me/") || strings.HasPrefix(path, "/v1/auth/") ||
		path == "/v1/alerts" || strings.HasPrefix(path, "/v1/alerts/") && strings.HasSuffix(path, "/retraction")
}
