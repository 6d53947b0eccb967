package server

import (
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/task"
)

// tasksRoutes are the routes of tasks, claims and assignments, each with the
// operation the API document shows for it (in /docs order).
func (s *Server) tasksRoutes() []route {
	return []route{
		// Tasks and claims
		{h: s.handleCreateTask, op: op{method: "POST", path: "/v1/tasks", id: "createTask", tag: "Tasks", summary: "Create a monitoring task", auth: authBearer,
			desc: "Coordinators for their organisation (`org_id`); officers and admins for the national pool (no `org_id`). `platform` and `target` are required for `social_media` tasks. Emits `task.created` on the organisation's stream, or on the region stream for the national pool.",
			body: goType[api.CreateTaskRequest](), replies: []reply{okReply(201, "The task.", goType[api.Task](), "Location")},
			problems: []string{"forbidden", "outside-region", "validation", "org-not-accredited"}}},
		{h: s.handleListTasks, op: op{method: "GET", path: "/v1/tasks", id: "listTasks", tag: "Tasks", summary: "List tasks", auth: authBearer, list: true,
			desc: "Any signed-in user. `available` (the default) lists the tasks the caller could claim now: open, started and not due, of their active accredited organisations or the national pool, in their region, with a free slot and not held by them. `mine` lists tasks the caller holds or completed a claim on; `org` every task of `org_id`; `national` every national-pool task. Newest first; items carry live `slots_taken` and `my_claim`.",
			params: []param{
				enumQueryParam("scope", "Which tasks.", task.ScopeAvailable, task.ScopeMine, task.ScopeOrg, task.ScopeNational),
				queryParam("org_id", "The organisation, required with `scope=org`.", &Schema{Type: "string", Format: "uuid"}),
				regionParam,
				enumQueryParam("status", "Only tasks of this status.", api.TaskOpen, api.TaskClosed),
			},
			replies: []reply{okReply(200, "A page of tasks.", goType[api.Page[api.Task]]())}, problems: []string{"not-found", "forbidden"}}},
		{h: s.handleGetTask, op: op{method: "GET", path: "/v1/tasks/{id}", id: "getTask", tag: "Tasks", summary: "Read a task", auth: authBearer,
			desc:    "Anyone who may see the task: members of its organisation, covering officers and admins; every signed-in user for the national pool. With live `slots_taken` and the caller's `my_claim`.",
			replies: []reply{okReply(200, "The task.", goType[api.Task]())}, problems: []string{"not-found"}}},
		{h: s.handleUpdateTask, op: op{method: "PATCH", path: "/v1/tasks/{id}", id: "updateTask", tag: "Tasks", summary: "Change an open task", auth: authBearer,
			desc: "The task's managers. Absent fields stay; at least one must be given. `slots` may not go below the slots taken; `lease_minutes` applies to claims made or extended afterwards. Emits `task.updated`.",
			body: goType[api.UpdateTaskRequest](), replies: []reply{okReply(200, "The task.", goType[api.Task]())},
			problems: []string{"not-found", "forbidden", "validation", "task-closed"}}},
		{h: s.handleCloseTask, op: op{method: "POST", path: "/v1/tasks/{id}/close", id: "closeTask", tag: "Tasks", summary: "Close a task", auth: authBearer,
			desc:    "The task's managers. No body is read. A closed task takes no claims or updates; active claims stay and may still be extended, released or completed. Closing a closed task changes nothing. Emits `task.closed`.",
			replies: []reply{okReply(200, "The task, closed.", goType[api.Task]())}, problems: []string{"not-found", "forbidden"}}},
		{h: s.handleClaim, op: op{method: "POST", path: "/v1/tasks/{id}/claims", id: "claimTask", tag: "Tasks", summary: "Claim a slot of a task", auth: authBearer,
			desc: "A member of the task's organisation (any volunteer of the region for the national pool) takes one slot for the task's lease. Send no body without a `Content-Type`, or `{}` as JSON (required with an `Idempotency-Key`).\n\n" +
				"However many requests race, active and completed claims never exceed `slots`, a user holds one active claim per task and at most `JARIMU_MAX_ACTIVE_CLAIMS` (3) in all. Every refusal says why with its problem type. Emits `task.updated`.",
			body: emptyRequest, bodyOptional: true, replies: []reply{okReply(201, "The claim.", goType[api.Claim](), "Location")},
			problems: []string{"not-found", "org-not-accredited", "not-a-member", "outside-region", "task-closed", "task-not-started", "already-claimed", "claim-limit", "task-full"}}},
		{h: s.handleAssign, op: op{method: "POST", path: "/v1/tasks/{id}/assignments", id: "assignTask", tag: "Tasks", summary: "Assign a slot to a member", auth: authBearer,
			desc: "The task's managers (checked before the assignee is looked up). The assignee must meet the conditions of a claim (membership, region, open task, their claim limit, a free slot). Emits `task.updated` and `assignment.created` on the assignee's stream.",
			body: goType[api.AssignRequest](), replies: []reply{okReply(201, "The claim, with assigned_by.", goType[api.Claim](), "Location")},
			problems: []string{"not-found", "forbidden", "validation", "org-not-accredited", "not-a-member", "outside-region", "task-closed", "task-not-started", "already-claimed", "claim-limit", "task-full"}}},
		{h: s.handleGetClaim, op: op{method: "GET", path: "/v1/claims/{id}", id: "getClaim", tag: "Tasks", summary: "Read a claim", auth: authBearer,
			desc:    "The claim's holder and the task's managers; anyone else gets 404. A claim whose lease has passed reads as `expired`.",
			replies: []reply{okReply(200, "The claim.", goType[api.Claim]())}, problems: []string{"not-found"}}},
		{h: s.handleExtend, op: op{method: "POST", path: "/v1/claims/{id}/extend", id: "extendClaim", tag: "Tasks", summary: "Extend a claim's lease", auth: authBearer,
			desc: "The holder only, while still an active member of the task's organisation and the organisation accredited. The lease runs again for the task's `lease_minutes` from now. The body is optional; a `version` makes the change conditional.",
			body: goType[api.ClaimChangeRequest](), bodyOptional: true, replies: []reply{okReply(200, "The claim with its new lease.", goType[api.Claim]())},
			problems: []string{"not-found", "forbidden", "claim-expired", "claim-not-active", "claim-version", "membership-ended", "org-not-accredited"}}},
		{h: s.handleRelease, op: op{method: "POST", path: "/v1/claims/{id}/release", id: "releaseClaim", tag: "Tasks", summary: "Release a claim", auth: authBearer,
			desc: "The holder or a manager of the task. The slot is free again. Emits `task.updated`, and `claim.released` to the holder when a manager releases it. The body is optional, as for extend.",
			body: goType[api.ClaimChangeRequest](), bodyOptional: true, replies: []reply{okReply(200, "The claim, released.", goType[api.Claim]())},
			problems: []string{"not-found", "claim-expired", "claim-not-active", "claim-version"}}},
		{h: s.handleComplete, op: op{method: "POST", path: "/v1/claims/{id}/complete", id: "completeClaim", tag: "Tasks", summary: "Complete a claim", auth: authBearer,
			desc: "The holder only, while still an active member of the task's organisation and the organisation accredited. The slot stays taken: the work was done.",
			body: goType[api.CompleteRequest](), replies: []reply{okReply(200, "The claim, completed.", goType[api.Claim]())},
			problems: []string{"not-found", "forbidden", "validation", "claim-expired", "claim-not-active", "claim-version", "membership-ended", "org-not-accredited"}}},
	}
}
