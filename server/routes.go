package server

// routes lists every route of the API in one place.
func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.handle("GET /.well-known/jwks.json", s.handleJWKS)
	s.handle("GET /v1/problems/{type}", s.handleProblemType)

	s.handle("POST /v1/auth/signup", s.handleSignup)
	s.handle("POST /v1/auth/login", s.handleLogin)
	s.handle("POST /v1/auth/refresh", s.handleRefresh)
	s.handle("POST /v1/auth/logout", s.handleLogout)
	s.handle("GET /v1/me", s.handleMe)

	s.handle("POST /v1/admin/users", s.handleCreateUser)
	s.handle("PATCH /v1/admin/users/{id}", s.handleUpdateUser)

	s.handle("POST /v1/orgs", s.handleCreateOrg)
	s.handle("GET /v1/orgs", s.handleListOrgs)
	s.handle("GET /v1/orgs/{id}", s.handleGetOrg)
	s.handle("POST /v1/orgs/{id}/accreditation", s.handleAccreditation)
	s.handle("POST /v1/orgs/{id}/invites", s.handleCreateInvite)
	s.handle("POST /v1/orgs/{id}/memberships", s.handleJoin)
	s.handle("GET /v1/orgs/{id}/memberships", s.handleListMemberships)
	s.handle("POST /v1/orgs/{id}/memberships/{user_id}/decision", s.handleDecision)
	s.handle("PATCH /v1/orgs/{id}/memberships/{user_id}", s.handleSetRole)
	s.handle("DELETE /v1/orgs/{id}/memberships/{user_id}", s.handleRemoveMembership)
	s.handle("GET /v1/audit", s.handleAudit)

	s.handle("POST /v1/tasks", s.handleCreateTask)
	s.handle("GET /v1/tasks", s.handleListTasks)
	s.handle("GET /v1/tasks/{id}", s.handleGetTask)
	s.handle("PATCH /v1/tasks/{id}", s.handleUpdateTask)
	s.handle("POST /v1/tasks/{id}/close", s.handleCloseTask)
	s.handle("POST /v1/tasks/{id}/claims", s.handleClaim)
	s.handle("POST /v1/tasks/{id}/assignments", s.handleAssign)
	s.handle("POST /v1/claims/{id}/extend", s.handleExtend)
	s.handle("POST /v1/claims/{id}/release", s.handleRelease)
	s.handle("POST /v1/claims/{id}/complete", s.handleComplete)

	if s.feed != nil {
		s.mux.Handle("GET /v1/feed", s.feed)
	}
}
