package server

// routes lists every route of the API in one place.
func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.handle("GET /.well-known/jwks.json", s.handleJWKS)
	s.handle("GET /v1/problems/{type}", s.handleProblemType)
	s.handle("GET /v1/openapi.json", s.handleOpenAPI)
	s.handle("GET /docs", s.handleDocs)
	s.handle("GET /docs/style.css", s.handleDocsStyle)

	s.handle("POST /v1/auth/signup", s.handleSignup)
	s.handle("POST /v1/auth/login", s.handleLogin)
	s.handle("POST /v1/auth/refresh", s.handleRefresh)
	s.handle("POST /v1/auth/logout", s.handleLogout)
	s.handle("POST /v1/auth/password-reset", s.handlePasswordReset)
	s.handle("POST /v1/auth/password-reset/confirm", s.handlePasswordResetConfirm)
	s.handle("GET /v1/privacy", s.handlePrivacy)
	s.handle("GET /v1/me", s.handleMe)
	s.handle("PATCH /v1/me", s.handleUpdateMe)
	s.handle("DELETE /v1/me", s.handleDeleteMe)
	s.handle("GET /v1/me/export", s.handleExport)
	s.handle("POST /v1/me/password", s.handleChangePassword)
	s.handle("POST /v1/me/consent", s.handleConsent)
	s.handle("GET /v1/me/sessions", s.handleSessions)
	s.handle("DELETE /v1/me/sessions/{id}", s.handleRevokeSession)
	s.handle("DELETE /v1/me/devices/{id}", s.handleRevokeDevice)

	s.handle("POST /v1/admin/users", s.handleCreateUser)
	s.handle("GET /v1/admin/users/{id}", s.handleGetUser)
	s.handle("PATCH /v1/admin/users/{id}", s.handleUpdateUser)
	s.handle("POST /v1/admin/users/{id}/erasure", s.handleEraseUser)

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
	s.handle("GET /v1/claims/{id}", s.handleGetClaim)
	s.handle("POST /v1/claims/{id}/extend", s.handleExtend)
	s.handle("POST /v1/claims/{id}/release", s.handleRelease)
	s.handle("POST /v1/claims/{id}/complete", s.handleComplete)

	s.handle("POST /v1/reports", s.handleCreateReport)
	s.handle("GET /v1/reports", s.handleListReports)
	s.handle("GET /v1/reports/{id}", s.handleGetReport)
	s.handle("POST /v1/reports/{id}/evidence", s.handleAddEvidence)
	s.handle("GET /v1/reports/{id}/evidence/{sha}", s.handleGetEvidence)
	s.handle("POST /v1/reports/{id}/review", s.handleReview)
	s.handle("POST /v1/reports/{id}/verification", s.handleVerify)
	s.handle("POST /v1/reports/{id}/takedown", s.handleTakedown)

	s.handle("POST /v1/alerts", s.handleCreateAlert)
	s.handle("GET /v1/alerts", s.handleListAlerts)
	s.handle("GET /v1/alerts/{id}", s.handleGetAlert)
	s.handle("POST /v1/alerts/{id}/retraction", s.handleRetractAlert)
	s.handle("GET /v1/alerts/{id}/reach", s.handleReach)

	s.handle("GET /v1/open", s.handleOpenIndex)
	s.handle("GET /v1/open/alerts.csv", s.handleOpenAlerts("csv"))
	s.handle("GET /v1/open/alerts.json", s.handleOpenAlerts("json"))
	s.handle("GET /v1/open/orgs.csv", s.handleOpenOrgs("csv"))
	s.handle("GET /v1/open/orgs.json", s.handleOpenOrgs("json"))
	s.handle("GET /v1/open/stats.json", s.handleOpenStats)

	if s.feed != nil {
		s.patterns = append(s.patterns, "GET /v1/feed")
		s.mux.Handle("GET /v1/feed", s.feed)
	}

	// The web console (its own CSP; the API's stays on /v1/ only).
	if s.console != nil {
		for _, p := range []string{"GET /{$}", "GET /app/", "GET /sw.js", "GET /manifest.webmanifest"} {
			s.mux.Handle(p, s.console)
		}
	}
}
