package task

import "github.com/jarimu/jarimu/problem"

// The problem types of tasks and claims, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	AlreadyClaimed = problem.Type{Slug: "already-claimed", Kind: problem.Conflict,
		Doc: "You already hold an active claim on this task."}
	ClaimExpired = problem.Type{Slug: "claim-expired", Kind: problem.Conflict,
		Doc: "The claim's lease has passed and its slot was freed. Claim the task again if a slot is free."}
	ClaimLimit = problem.Type{Slug: "claim-limit", Kind: problem.Conflict,
		Doc: "You hold as many active claims as allowed (JARIMU_MAX_ACTIVE_CLAIMS, 3 by default). Complete or release one first."}
	ClaimNotActive = problem.Type{Slug: "claim-not-active", Kind: problem.Conflict,
		Doc: "The claim was already released, expired or completed, or the server ended it when its holder lost access to the task (end_reason says why)."}
	ClaimVersion = problem.Type{Slug: "claim-version", Kind: problem.Conflict,
		Doc: "The claim changed since you read it (another device or a coordinator). Reload it and try again."}
	MembershipEnded = problem.Type{Slug: "membership-ended", Kind: problem.Conflict,
		Doc: "You are no longer an active member of the task's organisation, so this claim cannot be extended or completed. You may still release it."}
	Closed = problem.Type{Slug: "task-closed", Kind: problem.Conflict,
		Doc: "The task is closed or past its due time and takes no claims."}
	Full = problem.Type{Slug: "task-full", Kind: problem.Conflict,
		Doc: "Every slot of the task is taken (active and completed claims). Another volunteer may release one; the feed's task.updated tells when."}
	NotStarted = problem.Type{Slug: "task-not-started", Kind: problem.Conflict,
		Doc: "The task opens for claims at its starts_at time."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{AlreadyClaimed, ClaimExpired, ClaimLimit, ClaimNotActive, ClaimVersion, MembershipEnded, Closed, Full, NotStarted}
