package task

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

// Create makes a task: coordinators for their accredited org, officers for
// the national pool (limited to their region or below). Who may create it
// is decided before its fields are checked.
func (s *Service) Create(ctx context.Context, p auth.Principal, req api.CreateTaskRequest) (api.Task, error) {
	var out api.Task
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.mayCreate(ctx, tx, p, req); err != nil {
			return err
		}
		if err := problem.Validate(&req); err != nil {
			return err
		}
		if req.RegionCode != nil && region.Validate(*req.RegionCode) != nil {
			return problem.Validation(api.FieldError{Field: "region_code", Message: region.Message(*req.RegionCode, "must be a Kemendagri region code, or absent for national")})
		}
		if req.OrgID != nil {
			if _, err := s.orgs.Accredited(ctx, tx, *req.OrgID); err != nil {
				return err
			}
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if req.DueAt != nil && !req.DueAt.After(now) {
			return problem.Validation(api.FieldError{Field: "due_at", Message: "must be in the future"})
		}
		t := &Task{ID: auth.NewID(), OrgID: req.OrgID, Title: req.Title, Description: req.Description,
			Kind: req.Kind, Platform: req.Platform, Target: req.Target, RegionCode: req.RegionCode,
			StartsAt: micro(req.StartsAt), DueAt: micro(req.DueAt), Slots: deref(req.Slots, 1),
			LeaseMinutes: deref(req.LeaseMinutes, 120), Status: api.TaskOpen, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("insert task: %w", err)
		}
		out = t.API()
		return publish(ctx, tx, "task.created", t)
	})
	if err != nil {
		return api.Task{}, fmt.Errorf("create task: %w", err)
	}
	return out, nil
}

func micro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func deref(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// mayCreate checks who may create this task: an officer covering its
// region for the national pool (a regional officer covers no code that is
// not a region code), an active coordinator for an org's.
func (s *Service) mayCreate(ctx context.Context, tx bun.Tx, p auth.Principal, req api.CreateTaskRequest) error {
	if req.OrgID == nil {
		if !p.IsOfficer() && !p.IsAdmin() {
			return problem.Errorf(problem.Forbidden, "only Bawaslu officers create national-pool tasks; coordinators give org_id")
		}
		code := ""
		if req.RegionCode != nil {
			code = *req.RegionCode
		}
		if !p.Covers(code) {
			return auth.OutsideRegion.New("you create tasks only within your region")
		}
		return nil
	}
	if !api.ValidID(*req.OrgID) { // names nothing: an unknown org's answer
		return problem.Validation(api.FieldError{Field: "org_id", Message: "no such organisation"})
	}
	role, active, err := s.orgs.Role(ctx, tx, *req.OrgID, p.UserID)
	if err != nil {
		return err
	}
	if !active || role != api.RoleCoordinator {
		if _, err := s.orgs.Load(ctx, tx, *req.OrgID); err != nil {
			return problem.Validation(api.FieldError{Field: "org_id", Message: "no such organisation"})
		}
		return problem.Errorf(problem.Forbidden, "only this organisation's coordinators create its tasks")
	}
	return nil
}

// Update changes a task's title, description, due date, slots or lease
// (the org's coordinators, covering officers). Slots cannot go below the
// slots already taken.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, req api.UpdateTaskRequest) (api.Task, error) {
	return s.manage(ctx, p, id, func(ctx context.Context, tx bun.Tx, t *Task, now time.Time) (string, error) {
		if err := problem.Validate(&req); err != nil {
			return "", err
		}
		if t.Status != api.TaskOpen {
			return "", Closed.New("a closed task does not change")
		}
		if req.DueAt != nil && (!req.DueAt.After(now) || t.StartsAt != nil && !req.DueAt.After(*t.StartsAt)) {
			return "", problem.Validation(api.FieldError{Field: "due_at", Message: "must be in the future and after starts_at"})
		}
		if req.Slots != nil && *req.Slots < t.SlotsTaken {
			return "", problem.Validation(api.FieldError{Field: "slots", Message: fmt.Sprintf("must be at least the %d slots already taken", t.SlotsTaken)})
		}
		if req.Title != nil {
			t.Title = *req.Title
		}
		if req.Description != nil {
			t.Description = *req.Description
		}
		t.DueAt = firstTime(micro(req.DueAt), t.DueAt)
		t.Slots, t.LeaseMinutes = deref(req.Slots, t.Slots), deref(req.LeaseMinutes, t.LeaseMinutes)
		return "task.updated", nil
	})
}

func firstTime(a, b *time.Time) *time.Time {
	if a != nil {
		return a
	}
	return b
}

// Close stops a task from taking claims; active claims may still complete.
func (s *Service) Close(ctx context.Context, p auth.Principal, id string) (api.Task, error) {
	return s.manage(ctx, p, id, func(ctx context.Context, tx bun.Tx, t *Task, now time.Time) (string, error) {
		if t.Status == api.TaskClosed {
			return "", nil
		}
		t.Status = api.TaskClosed
		return "task.closed", nil
	})
}

// manage runs a manager's change on a locked task and publishes it.
func (s *Service) manage(ctx context.Context, p auth.Principal, id string, fn func(context.Context, bun.Tx, *Task, time.Time) (string, error)) (api.Task, error) {
	var out api.Task
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		acc, err := s.accessOf(ctx, tx, p, t)
		if err != nil {
			return err
		}
		if !acc.see {
			return notFound()
		}
		if !acc.manage {
			return problem.Errorf(problem.Forbidden, "only the task's coordinators and covering officers change it")
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		name, err := fn(ctx, tx, t, now)
		out = t.API()
		if err != nil || name == "" {
			return err
		}
		t.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(t).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update task: %w", err)
		}
		out = t.API()
		return publish(ctx, tx, name, t)
	})
	if err != nil {
		return api.Task{}, fmt.Errorf("task: %w", err)
	}
	return out, nil
}

// Get reads a task the caller may see, with their own claim on it.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (api.Task, error) {
	t, err := s.load(ctx, s.db, id, false)
	if err != nil {
		return api.Task{}, err
	}
	acc, err := s.accessOf(ctx, s.db, p, t)
	if err != nil {
		return api.Task{}, err
	}
	if !acc.see {
		return api.Task{}, notFound()
	}
	out, err := s.views(ctx, p, []Task{*t})
	if err != nil {
		return api.Task{}, err
	}
	return out[0], nil
}
