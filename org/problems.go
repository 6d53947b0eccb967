package org

import "github.com/jarimu/jarimu/problem"

// The problem types of organisations and memberships, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	AccreditationNumberTaken = problem.Type{Slug: "accreditation-number-taken", Kind: problem.Conflict,
		Doc: "An organisation with this Bawaslu accreditation number is already registered."}
	AccreditationTransition = problem.Type{Slug: "accreditation-transition", Kind: problem.Conflict,
		Doc: "The accreditation cannot change this way from its current status (for example, a revoked accreditation cannot be renewed; register the organisation anew)."}
	InviteExpired = problem.Type{Slug: "invite-expired", Kind: problem.Conflict,
		Doc: "The invite code has expired. Ask a coordinator for a new one."}
	InviteUnknown = problem.Type{Slug: "invite-unknown", Kind: problem.Invalid,
		Doc: "The invite code is not valid for this organisation. Check it, or ask a coordinator for a new one."}
	InviteUsedUp = problem.Type{Slug: "invite-used-up", Kind: problem.Conflict,
		Doc: "The invite code has been used as many times as it allows. Ask a coordinator for a new one."}
	LastCoordinator = problem.Type{Slug: "last-coordinator", Kind: problem.Conflict,
		Doc: "An organisation always keeps at least one coordinator. Make another member coordinator first."}
	MembershipExists = problem.Type{Slug: "membership-exists", Kind: problem.Conflict,
		Doc: "You already have a pending or active membership in this organisation."}
	NotActive = problem.Type{Slug: "not-active", Kind: problem.Conflict,
		Doc: "The membership is not active (or pending, for removal), so this change does not apply."}
	NotPending = problem.Type{Slug: "not-pending", Kind: problem.Conflict,
		Doc: "Only a pending membership can be approved or rejected."}
	NotAccredited = problem.Type{Slug: "org-not-accredited", Kind: problem.Conflict,
		Doc: "The organisation is suspended, revoked or expired, and takes no new members, tasks or reports until an officer renews it. The detail says which."}
	StaffCannotJoin = problem.Type{Slug: "staff-cannot-join", Kind: problem.Forbidden,
		Doc: "Bawaslu officers and admins stay neutral and do not join organisations."}
	NotAMember = problem.Type{Slug: "not-a-member", Kind: problem.Forbidden,
		Doc: "Only active members of the task's organisation take its tasks (national-pool tasks: volunteers)."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{AccreditationNumberTaken, AccreditationTransition, InviteExpired, InviteUnknown, InviteUsedUp, LastCoordinator, MembershipExists, NotActive, NotPending, NotAccredited, StaffCannotJoin, NotAMember}
