package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/jarimu/jarimu/api"
)

// Scopes of TaskFilter.
const (
	// ScopeAvailable lists the open tasks the caller could claim now: of
	// their active orgs and the national pool, in their region or national,
	// with a free slot, not held by them. The server's default.
	ScopeAvailable = "available"
	// ScopeMine lists the tasks the caller holds an active claim on or has
	// completed one of, of those they may still see (an org's, while they
	// are its active member).
	ScopeMine = "mine"
	// ScopeOrg lists every task of the org named by TaskFilter.OrgID.
	ScopeOrg = "org"
	// ScopeNational lists every task of the national pool.
	ScopeNational = "national"
)

// TaskFilter selects tasks (GET /v1/tasks). Empty fields are not sent.
type TaskFilter struct {
	// Scope is ScopeAvailable (the default), ScopeMine, ScopeOrg or
	// ScopeNational.
	Scope string
	// OrgID names the org of ScopeOrg; required with it.
	OrgID string
	// Region keeps the tasks of this Kemendagri region code or below it.
	Region string
	// Status is api.TaskOpen or api.TaskClosed.
	Status string
	ListOptions
}

// taskRoute and claimRoute are the routes of a task and of a claim.
func taskRoute(id string, segments ...string) route  { return routeTo("/v1/tasks", id, segments...) }
func claimRoute(id string, segments ...string) route { return routeTo("/v1/claims", id, segments...) }

// noBody is the body of POSTs that take none: an empty object, because the
// server reads the body of every POST that carries an Idempotency-Key as
// JSON, and refuses none at all (415).
var noBody = struct{}{}

// CreateTask makes a monitoring task: coordinators for their org (OrgID
// set), officers for the national pool (OrgID nil).
func (c *Client) CreateTask(ctx context.Context, req api.CreateTaskRequest, opts ...CallOption) (api.Task, error) {
	return call[api.Task](ctx, c, http.MethodPost, route{path: "/v1/tasks"}, nil, req, opts...)
}

// Tasks returns one page of the tasks f selects, newest first, with live
// SlotsTaken and MyClaim.
func (c *Client) Tasks(ctx context.Context, f TaskFilter) (api.Page[api.Task], error) {
	q := url.Values{}
	setNonEmpty(q, "scope", f.Scope)
	setNonEmpty(q, "org_id", f.OrgID)
	setNonEmpty(q, "region", f.Region)
	setNonEmpty(q, "status", f.Status)
	f.ListOptions.addTo(q)
	return call[api.Page[api.Task]](ctx, c, http.MethodGet, route{path: "/v1/tasks"}, q, nil)
}

// AllTasks yields every task f selects, following the pages from f.Cursor
// (see All).
func (c *Client) AllTasks(ctx context.Context, f TaskFilter) iter.Seq2[api.Task, error] {
	return All(ctx, from(f.ListOptions, func(ctx context.Context, o ListOptions) (api.Page[api.Task], error) {
		g := f
		g.ListOptions = o
		return c.Tasks(ctx, g)
	}))
}

// Task returns task id, with live SlotsTaken and MyClaim; 404 when it does
// not exist or the caller may not see it.
func (c *Client) Task(ctx context.Context, id string) (api.Task, error) {
	return call[api.Task](ctx, c, http.MethodGet, taskRoute(id), nil, nil)
}

// UpdateTask changes the fields of task id that req sets; the task's
// managers only.
func (c *Client) UpdateTask(ctx context.Context, id string, req api.UpdateTaskRequest) (api.Task, error) {
	return call[api.Task](ctx, c, http.MethodPatch, taskRoute(id), nil, req)
}

// CloseTask closes task id: it takes no more claims. Its managers only.
func (c *Client) CloseTask(ctx context.Context, id string, opts ...CallOption) (api.Task, error) {
	return call[api.Task](ctx, c, http.MethodPost, taskRoute(id, "close"), nil, noBody, opts...)
}

// Claim takes a slot of task taskID for the signed-in user. A refusal is a
// problem naming why: "task-full", "already-claimed", "claim-limit",
// "task-closed", "task-not-started", "not-a-member", "org-not-accredited" or
// "outside-region".
func (c *Client) Claim(ctx context.Context, taskID string, opts ...CallOption) (api.Claim, error) {
	return call[api.Claim](ctx, c, http.MethodPost, taskRoute(taskID, "claims"), nil, noBody, opts...)
}

// Assign gives a slot of task taskID to user userID, who is told on the
// feed; the task's managers only. The claim's AssignedBy is the caller.
func (c *Client) Assign(ctx context.Context, taskID, userID string, opts ...CallOption) (api.Claim, error) {
	req := api.AssignRequest{UserID: userID}
	return call[api.Claim](ctx, c, http.MethodPost, taskRoute(taskID, "assignments"), nil, req, opts...)
}

// Extend renews the lease of claim claimID for the task's lease time from
// now; its holder only. With version set, only if the claim is still at that
// version (else 409 "claim-version").
func (c *Client) Extend(ctx context.Context, claimID string, version *int, opts ...CallOption) (api.Claim, error) {
	req := api.ClaimChangeRequest{Version: version}
	return call[api.Claim](ctx, c, http.MethodPost, claimRoute(claimID, "extend"), nil, req, opts...)
}

// Release gives up claim claimID, freeing its slot; its holder or the task's
// managers. version is as for Extend.
func (c *Client) Release(ctx context.Context, claimID string, version *int, opts ...CallOption) (api.Claim, error) {
	req := api.ClaimChangeRequest{Version: version}
	return call[api.Claim](ctx, c, http.MethodPost, claimRoute(claimID, "release"), nil, req, opts...)
}

// Complete ends claim claimID with an outcome ("done", "content_gone" or
// "not_applicable") and an optional note; its holder only. The slot stays
// taken.
func (c *Client) Complete(ctx context.Context, claimID string, req api.CompleteRequest, opts ...CallOption) (api.Claim, error) {
	return call[api.Claim](ctx, c, http.MethodPost, claimRoute(claimID, "complete"), nil, req, opts...)
}

// setNonEmpty sets q's key to v unless v is empty.
func setNonEmpty(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}
