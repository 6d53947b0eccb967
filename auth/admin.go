package auth

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
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
		if u, err = s.createUser(ctx, tx, req.Email, hash, req.Name, req.Role, req.RegionCode, ""); err != nil {
			return err
		}
		if s.cfg.OnStaffCreated != nil {
			a := Principal{Role: "system"}
			if actor != nil {
				a = *actor
			}
			if err := s.cfg.OnStaffCreated(ctx, tx, a, u); err != nil {
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

// UpdateUser changes an account's status, role or region (admins only).
// A suspended or deleted account loses every session at once. Roles change
// only between officer and admin: a volunteer's memberships and a staff
// account's duties do not carry over. Each change is announced on the
// user's own stream (account.updated), so that the account's open feed
// connections on every instance close or change their streams at once.
func (s *Service) UpdateUser(ctx context.Context, actor Principal, userID string, req api.UpdateUserRequest) (api.User, error) {
	if !actor.IsAdmin() {
		return api.User{}, problem.Errorf(problem.Forbidden, "only admins change accounts")
	}
	if err := checkUpdate(req); err != nil {
		return api.User{}, err
	}
	if userID == actor.UserID && (req.Status != "" && req.Status != api.UserActive || req.Role != "") {
		return api.User{}, SelfSuspension.New("admins cannot suspend, delete or change the role of their own account")
	}
	var u *User
	err := s.events.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if req.Status == api.UserSuspended || req.Status == api.UserDeleted {
			// The account's claims end with it: their lock first, as a
			// claim takes it (LockWork).
			if err := LockWork(ctx, s.db, tx, userID); err != nil {
				return err
			}
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		before := new(User)
		if err := s.db.ForUpdate(tx.NewSelect().Model(before).Where("id = ?", userID)).Scan(ctx); err != nil {
			if db.IsNoRows(err) {
				return problem.Errorf(problem.NotFound, "no such user")
			}
			return fmt.Errorf("load user: %w", err)
		}
		if before.Erased() {
			return AccountErased.New("this account was erased; nothing can bring it back")
		}
		after := *before
		if err := applyUpdate(&after, req); err != nil {
			return err
		}
		if after.Status == before.Status && after.Role == before.Role && after.Region() == before.Region() {
			u = before
			return nil
		}
		after.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(&after).Column("status", "role", "region_code", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		u = &after
		if after.Status != api.UserActive {
			if err := s.revokeUser(ctx, tx, userID, now); err != nil {
				return err
			}
			if err := endResets(ctx, tx, userID, now); err != nil {
				return err
			}
		}
		if after.Status == api.UserDeleted && s.cfg.OnDeleted != nil {
			if err := s.cfg.OnDeleted(ctx, tx, userID); err != nil {
				return err
			}
		}
		return s.announce(ctx, tx, before, &after)
	})
	if err != nil {
		return api.User{}, fmt.Errorf("update user: %w", err)
	}
	return u.API(), nil
}

// checkUpdate checks an update's fields on their own.
func checkUpdate(req api.UpdateUserRequest) error {
	var c api.Check
	if req.Status == "" && req.Role == "" && req.RegionCode == nil {
		c.Fail("status", "name at least one of status, role and region_code")
	}
	if req.Status != "" {
		c.OneOf("status", req.Status, api.UserActive, api.UserSuspended, api.UserDeleted)
	}
	if req.Role != "" {
		c.OneOf("role", req.Role, api.RoleOfficer, api.RoleAdmin)
	}
	if req.RegionCode != nil && *req.RegionCode != "" {
		if err := region.Validate(*req.RegionCode); err != nil {
			c.Fail("region_code", "%s", region.Message(*req.RegionCode, "must be a Kemendagri province or regency code, or \"\" for national"))
		}
	}
	if !c.OK() {
		return problem.Validation(c.Errors...)
	}
	return nil
}

// applyUpdate sets the update's fields on u, checking the rules that need
// the account: who may change role, and that an admin has no region.
func applyUpdate(u *User, req api.UpdateUserRequest) error {
	if req.Status != "" {
		u.Status = req.Status
	}
	if req.Role != "" && req.Role != u.Role {
		if u.Role == api.RoleVolunteer {
			return problem.Validation(api.FieldError{Field: "role", Message: "a volunteer account cannot become staff: make a staff account instead"})
		}
		u.Role = req.Role
	}
	if req.RegionCode != nil {
		u.RegionCode = nil
		if *req.RegionCode != "" {
			code := *req.RegionCode
			u.RegionCode = &code
		}
	}
	if u.Role == api.RoleAdmin && u.RegionCode != nil {
		return problem.Validation(api.FieldError{Field: "region_code", Message: "an admin has no region"})
	}
	return nil
}

// accountUpdated is the data of account.updated.
type accountUpdated struct {
	Status     string          `json:"status"`
	Role       string          `json:"role"`
	RegionCode *string         `json:"region_code"`
	Feed       *api.FeedChange `json:"feed"`
}

// announce appends account.updated to the user's stream: what the account
// is now, and what its feed connections gain (from the seq committed now),
// lose, or that they end.
func (s *Service) announce(ctx context.Context, tx bun.Tx, before, after *User) error {
	feed := &api.FeedChange{}
	if after.Status != api.UserActive {
		feed.End = "account " + after.Status
		if before.Status == api.UserActive {
			// The claims end first (the account's work lock, taken at the
			// start, already keeps a claim being taken out of the way).
			if s.cfg.OnDeactivated != nil {
				if err := s.cfg.OnDeactivated(ctx, tx, after.ID, after.Status); err != nil {
					return err
				}
			}
			if err := s.Revoke(ctx, tx, after.ID, restricted(AccountStreams(before.Role, before.Region()))...); err != nil {
				return err
			}
		}
	} else {
		gained, lost := streamsDiff(AccountStreams(before.Role, before.Region()), AccountStreams(after.Role, after.Region()))
		heads, err := event.Heads(ctx, tx, gained)
		if err != nil {
			return err
		}
		if len(heads) > 0 {
			feed.Add = heads
		}
		feed.Remove = lost
		if err := s.Revoke(ctx, tx, after.ID, restricted(lost)...); err != nil {
			return err
		}
	}
	d := accountUpdated{Status: after.Status, Role: after.Role, RegionCode: after.RegionCode, Feed: feed}
	if _, err := event.Append(ctx, tx, UserStream(after.ID), api.EventAccountUpdated, d); err != nil {
		return err
	}
	// Less access than before: stored answers of its retried requests are
	// not replayed with what the old grant let it read.
	if narrowed(before, after) {
		return idempotency.Withhold(ctx, tx, after.ID)
	}
	return nil
}

// roleRank orders the roles by what they may read.
var roleRank = map[string]int{api.RoleVolunteer: 0, api.RoleOfficer: 1, api.RoleAdmin: 2}

// narrowed reports whether after may read less than before: the account is
// no longer active, its role is lower, or it is staff whose new region does
// not contain the old one. A volunteer's region (their own to change)
// decides where they work, not what they may read of others.
func narrowed(before, after *User) bool {
	switch {
	case after.Status != api.UserActive:
		return true
	case roleRank[after.Role] < roleRank[before.Role]:
		return true
	case after.Role == api.RoleVolunteer || after.Region() == before.Region() || after.Region() == "":
		return false
	}
	return before.Region() == "" || !region.Contains(after.Region(), before.Region())
}
