package server

import "github.com/jarimu/jarimu/api"

// orgsRoutes are the routes of organisations and memberships, each with the
// operation the API document shows for it (in /docs order).
func (s *Server) orgsRoutes() []route {
	return []route{
		// Organisations
		{h: s.handleCreateOrg, op: op{method: "POST", path: "/v1/orgs", id: "createOrg", tag: "Organisations", summary: "Register an accredited CSO", auth: authBearer,
			desc: "National officers and admins. The organisation starts `accredited`. The account named by `coordinator_email` (an active volunteer) becomes its first coordinator at once; without one the organisation has no coordinator and no call can give it one. Audited as `org.create`.",
			body: goType[api.CreateOrgRequest](), replies: []reply{okReply(201, "The organisation.", goType[api.Org](), "Location")},
			problems: []string{"forbidden", "validation", "accreditation-number-taken"}}},
		{h: s.handleListOrgs, op: op{method: "GET", path: "/v1/orgs", id: "listOrgs", tag: "Organisations", summary: "The public registry of organisations", list: true,
			desc: "Anyone. Newest registration first. With `region`, national organisations are left out.",
			params: []param{
				enumQueryParam("status", "Only organisations of this status; `accredited` excludes lapsed ones, `expired` lists exactly them.", api.OrgAccredited, api.OrgSuspended, api.OrgRevoked, api.OrgExpired),
				regionParam,
			},
			replies: []reply{okReply(200, "A page of organisations.", goType[api.Page[api.Org]]())}}},
		{h: s.handleGetOrg, op: op{method: "GET", path: "/v1/orgs/{id}", id: "getOrg", tag: "Organisations", summary: "One organisation, with its accreditation history",
			desc:    "Anyone. `decisions` holds the latest 100 accreditation decisions, newest first; who decided is not shown (the audit trail has it).",
			replies: []reply{okReply(200, "The organisation.", goType[api.Org]())}, problems: []string{"not-found"}}},
		{h: s.handleAccreditation, op: op{method: "POST", path: "/v1/orgs/{id}/accreditation", id: "decideAccreditation", tag: "Organisations", summary: "Suspend, revoke or renew an accreditation", auth: authBearer,
			desc: "Officers whose region reaches the organisation, and admins. From `accredited` or `expired`: suspend, revoke or renew; from `suspended`: revoke or renew; `revoked` is final. `until` is required to renew and refused otherwise, and must be in the future. Emits `org.accreditation_changed`; audited.",
			body: goType[api.AccreditationRequest](), replies: []reply{okReply(200, "The organisation after the change (without decisions).", goType[api.Org]())},
			problems: []string{"forbidden", "not-found", "validation", "accreditation-transition"}}},
		{h: s.handleCreateInvite, op: op{method: "POST", path: "/v1/orgs/{id}/invites", id: "createInvite", tag: "Organisations", summary: "Make an invite code", auth: authBearer,
			desc: "Active coordinators of the organisation. The code (`XXXXX-XXXXX-XXXXX-XXXXX`, case, dashes and spaces ignored) is shown in this answer only; only its hash is kept. `expires_at` must be in the future and at most 90 days ahead.",
			body: goType[api.InviteRequest](), replies: []reply{okReply(201, "The invite, with its code.", goType[api.Invite]())},
			problems: []string{"not-found", "forbidden", "validation", "org-not-accredited"}}},
		{h: s.handleJoin, op: op{method: "POST", path: "/v1/orgs/{id}/memberships", id: "joinOrg", tag: "Organisations", summary: "Ask to join an organisation", auth: authBearer,
			desc: "Volunteers. Without a code (send `{}`) the membership is `pending` until a coordinator decides; a valid invite code makes it `active` at once. A member a coordinator removed comes back `pending` even with a code. Emits `membership.requested` to the coordinators.",
			body: goType[api.JoinRequest](), replies: []reply{okReply(201, "The membership.", goType[api.Membership](), "Location")},
			problems: []string{"staff-cannot-join", "not-found", "org-not-accredited", "membership-exists", "invite-unknown", "invite-expired", "invite-used-up"}}},
		{h: s.handleListMemberships, op: op{method: "GET", path: "/v1/orgs/{id}/memberships", id: "listMemberships", tag: "Organisations", summary: "The memberships of an organisation", auth: authBearer, list: true,
			desc:     "The organisation's active coordinators, admins, and officers whose region reaches it. Newest request first.",
			params:   []param{enumQueryParam("status", "Only memberships of this status.", api.MembershipPending, api.MembershipActive, api.MembershipRejected, api.MembershipRemoved, api.MembershipLeft)},
			replies:  []reply{okReply(200, "A page of memberships.", goType[api.Page[api.Membership]]())},
			problems: []string{"not-found", "forbidden"}}},
		{h: s.handleDecision, op: op{method: "POST", path: "/v1/orgs/{id}/memberships/{user_id}/decision", id: "decideMembership", tag: "Organisations", summary: "Approve or reject a pending membership", auth: authBearer,
			desc: "Active coordinators of the organisation. A rejection needs a `reason`, which the volunteer sees. Approving needs an accredited organisation. Emits `membership.decided` to the member; audited.",
			body: goType[api.DecisionRequest](), replies: []reply{okReply(200, "The membership (without user_name).", goType[api.Membership]())},
			problems: []string{"not-found", "forbidden", "validation", "not-pending", "org-not-accredited"}}},
		{h: s.handleSetRole, op: op{method: "PATCH", path: "/v1/orgs/{id}/memberships/{user_id}", id: "setMemberRole", tag: "Organisations", summary: "Change an active member's role", auth: authBearer,
			desc: "Active coordinators of the organisation. An organisation keeps at least one active coordinator. A real change emits `membership.role_changed` to the member and is audited; setting the same role changes nothing.",
			body: goType[api.RoleRequest](), replies: []reply{okReply(200, "The membership (without user_name).", goType[api.Membership]())},
			problems: []string{"not-found", "forbidden", "validation", "not-active", "last-coordinator"}}},
		{h: s.handleRemoveMembership, op: op{method: "DELETE", path: "/v1/orgs/{id}/memberships/{user_id}", id: "removeMembership", tag: "Organisations", summary: "Remove a member, or leave", auth: authBearer,
			desc:    "A coordinator removes someone (`removed`), or a user ends or withdraws their own membership (`left`). The last coordinator cannot go. The member's feed connections lose the organisation's streams at once.",
			replies: []reply{okReply(204, "Removed.", nil)}, problems: []string{"not-found", "not-active", "last-coordinator"}}},
	}
}

// auditRoutes are the audit trail's route, and the feed's operation (its
// websocket handler is registered on its own: see routes).
func (s *Server) auditRoutes() []route {
	return []route{
		// Audit
		{h: s.handleAudit, op: op{method: "GET", path: "/v1/audit", id: "listAudit", tag: "Audit", summary: "The audit trail", auth: authBearer, list: true,
			desc: "Admins and national officers read everything; a regional officer only `target_type=org&target_id=<id>` of an organisation within their region. Newest first. Each audited change writes its row in the same transaction as the change.",
			params: []param{
				enumQueryParam("target_type", "Only rows about this kind of thing.", auditTargets...),
				queryParam("target_id", "Only rows about this thing (exact match): an id, or a membership's `<org_id>:<user_id>`.", strSchema()),
			},
			replies: []reply{okReply(200, "A page of audit entries.", goType[api.Page[api.AuditEntry]]())}, problems: []string{"forbidden", "not-found"}}},
		// Feed
		{op: feedOperation()},
	}
}
