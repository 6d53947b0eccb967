package client

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func TestTaskCalls(t *testing.T) {
	ctx := context.Background()
	due := time.Date(2029, 2, 14, 17, 0, 0, 0, time.UTC)
	task := api.Task{ID: "t1", Title: "Pantau #pemilu", Kind: api.KindSocialMedia, Slots: 3, SlotsTaken: 1, Status: api.TaskOpen}
	claim := api.Claim{ID: "c1", TaskID: "t1", UserID: "u1", Status: api.ClaimActive, Version: 2}
	runCalls(t, []string{"/v1/tasks", "/v1/tasks/", "/v1/claims/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name: "CreateTask",
				call: func() (any, error) {
					return c.CreateTask(ctx, api.CreateTaskRequest{Title: "Pantau #pemilu", Kind: api.KindSocialMedia,
						Platform: ptr("x"), Target: ptr("#pemilu"), Slots: ptr(3), DueAt: &due})
				},
				answer: task, method: "POST", path: "/v1/tasks", key: "*",
				body: `{"title":"Pantau #pemilu","description":"","kind":"social_media","platform":"x","target":"#pemilu","due_at":"2029-02-14T17:00:00Z","slots":3}`,
			},
			{
				name: "Tasks filtered",
				call: func() (any, error) {
					return c.Tasks(ctx, TaskFilter{Scope: ScopeOrg, OrgID: "o 1", Region: "31", Status: api.TaskOpen, ListOptions: ListOptions{Limit: 10, Cursor: "cur"}})
				},
				answer: api.Page[api.Task]{Items: []api.Task{task}, NextCursor: "n"},
				method: "GET", path: "/v1/tasks", query: "cursor=cur&limit=10&org_id=o+1&region=31&scope=org&status=open",
			},
			{
				name:   "Tasks unfiltered",
				call:   func() (any, error) { return c.Tasks(ctx, TaskFilter{}) },
				answer: api.Page[api.Task]{Items: []api.Task{task}},
				method: "GET", path: "/v1/tasks",
			},
			{
				name:   "Task",
				call:   func() (any, error) { return c.Task(ctx, "t/1") },
				answer: task, method: "GET", path: "/v1/tasks/t%2F1",
			},
			{
				name:   "UpdateTask",
				call:   func() (any, error) { return c.UpdateTask(ctx, "t1", api.UpdateTaskRequest{Slots: ptr(5)}) },
				answer: task, method: "PATCH", path: "/v1/tasks/t1", body: `{"slots":5}`,
			},
			{
				name:   "CloseTask",
				call:   func() (any, error) { return c.CloseTask(ctx, "t1") },
				answer: api.Task{ID: "t1", Status: api.TaskClosed}, method: "POST", path: "/v1/tasks/t1/close", body: `{}`, key: "*",
			},
			{
				name:   "Claim sends {} with its key",
				call:   func() (any, error) { return c.Claim(ctx, "t1", IdempotencyKey("claim-t1")) },
				answer: claim, method: "POST", path: "/v1/tasks/t1/claims", body: `{}`, key: "claim-t1",
			},
			{
				name:   "Assign",
				call:   func() (any, error) { return c.Assign(ctx, "t1", "u2") },
				answer: claim, method: "POST", path: "/v1/tasks/t1/assignments", body: `{"user_id":"u2"}`, key: "*",
			},
			{
				name:   "Extend any version",
				call:   func() (any, error) { return c.Extend(ctx, "c1", nil) },
				answer: claim, method: "POST", path: "/v1/claims/c1/extend", body: `{}`, key: "*",
			},
			{
				name:   "Extend at a version",
				call:   func() (any, error) { return c.Extend(ctx, "c1", ptr(2)) },
				answer: claim, method: "POST", path: "/v1/claims/c1/extend", body: `{"version":2}`, key: "*",
			},
			{
				name:   "Release",
				call:   func() (any, error) { return c.Release(ctx, "c 1", ptr(1)) },
				answer: claim, method: "POST", path: "/v1/claims/c%201/release", body: `{"version":1}`, key: "*",
			},
			{
				name: "Complete",
				call: func() (any, error) {
					return c.Complete(ctx, "c1", api.CompleteRequest{Outcome: "content_gone", Note: "video sudah dihapus"})
				},
				answer: claim, method: "POST", path: "/v1/claims/c1/complete", key: "*",
				body: `{"outcome":"content_gone","note":"video sudah dihapus"}`,
			},
		}
	})
}

func TestTaskCallsRefuseBadIDs(t *testing.T) {
	f := newFakeServer(t)
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()
	calls := map[string]func() error{
		"Task":     func() error { _, err := c.Task(ctx, ""); return err },
		"Claim":    func() error { _, err := c.Claim(ctx, ".."); return err },
		"Assign":   func() error { _, err := c.Assign(ctx, ".", "u1"); return err },
		"Extend":   func() error { _, err := c.Extend(ctx, "", nil); return err },
		"Complete": func() error { _, err := c.Complete(ctx, "..", api.CompleteRequest{Outcome: "done"}); return err },
		"Report":   func() error { _, err := c.Report(ctx, ""); return err },
		"Evidence": func() error { _, _, err := c.Evidence(ctx, "r1", ".."); return err },
		"Retract":  func() error { _, err := c.Retract(ctx, "", "salah kirim"); return err },
		"Upload":   func() error { _, err := c.UploadEvidence(ctx, "", "a.png", nil); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	if n := len(f.all()); n != 0 {
		t.Errorf("got %d requests, want none", n)
	}
}
