package auth

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/problem"
)

// CreateUser makes an account of any role on behalf of an admin (staff
// accounts: officers, admins). actor nil means the operator's command line.
func (s *Service) CreateUser(ctx context.Context, actor *Principal, req api.CreateUserRequest) (api.User, error) {
	if actor != nil && !actor.IsAdmin() {
		return api.User{}, problem.Errorf(problem.Forbidden, "only admins create accounts here")
	}
	if err := checkAccount(req.Password, req.RegionCode); err != nil {
		return api.User{}, err
	}
	if req.Role == api.RoleAdmin && req.RegionCode != nil {
		return api.User{}, problem.Validation(api.FieldError{Field: "region_code", Message: "an admin has no region"})
	}
	hash, err := s.hash(ctx, req.Password)
	if err != nil {
		return api.User{}, err
	}
	var u *User
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if u, err = s.createUser(ctx, tx, req.Email, hash, req.Name, req.Role, req.RegionCode); err != nil {
			return err
		}
		if s.OnStaffCreated != nil {
			a := Principal{Role: "system"}
			if actor != nil {
				a = *actor
			}
			if err := s.OnStaffCreated(ctx, tx, a, u); err != nil {
				return err
			}
		}
		return event.BeforeCommit(ctx, tx)
	})
	if err != nil {
		return api.User{}, fmt.Errorf("create user: %w", err)
	}
	return u.API(), nil
}

// SetStatus suspends, reactivates or deletes an account (admins only). A
// suspended or deleted account loses every session at once.
func (s *Service) SetStatus(ctx context.Context, actor Principal, userID, status string) (api.User, error) {
	if !actor.IsAdmin() {
		return api.User{}, problem.Errorf(problem.Forbidden, "only admins change accounts")
	}
	var c api.Check
	if !c.OneOf("status", status, api.UserActive, api.UserSuspended, api.UserDeleted) {
		return api.User{}, problem.Validation(c.Errors...)
	}
	if userID == actor.UserID && status != api.UserActive {
		return api.User{}, problem.New(problem.Conflict, "self-suspension", "admins cannot suspend or delete their own account")
	}
	var u *User
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*User)(nil)).Set("status = ?", status).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.Errorf(problem.NotFound, "no such user")
		}
		u = new(User)
		if err := tx.NewSelect().Model(u).Where("id = ?", userID).Scan(ctx); err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if status != api.UserActive {
			return s.revokeUser(ctx, tx, userID, now)
		}
		return nil
	})
	if err != nil {
		return api.User{}, fmt.Errorf("set user status: %w", err)
	}
	return u.API(), nil
}
