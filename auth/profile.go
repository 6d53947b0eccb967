package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

// UpdateMe changes the caller's own name, region or language. Only
// volunteers choose their region: an officer's region is the reach of their
// authority, which an admin sets. A region change is audited and announced
// on the user's own stream (account.updated), so the account's open feed
// connections follow the new region's streams at once, on every instance.
func (s *Service) UpdateMe(ctx context.Context, p Principal, req api.UpdateMeRequest) (api.User, error) {
	if req.RegionCode != nil && p.Role != api.RoleVolunteer {
		return api.User{}, RegionByAdmin.New("the region of a staff account is set by an admin")
	}
	if err := problem.Validate(&req); err != nil {
		return api.User{}, err
	}
	if req.RegionCode != nil && *req.RegionCode != "" && region.Validate(*req.RegionCode) != nil {
		return api.User{}, problem.Validation(api.FieldError{Field: "region_code", Message: region.Message(*req.RegionCode, "must be a Kemendagri province or regency code, or \"\" for national")})
	}
	var u *User
	err := s.events.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before, err := s.lockUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		after := *before
		applyMe(&after, req)
		u = &after
		if after.Name == before.Name && after.Language == before.Language && after.Region() == before.Region() {
			return nil
		}
		if after.UpdatedAt, err = s.db.Now(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&after).Column("name", "region_code", "language", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update account: %w", err)
		}
		if after.Region() == before.Region() {
			return nil
		}
		actor := audit.Actor{ID: p.UserID, Role: p.Role}
		if err := audit.Record(ctx, tx, actor, "user.region_change", "user", p.UserID,
			map[string]any{"region_code": before.RegionCode}, map[string]any{"region_code": after.RegionCode}); err != nil {
			return err
		}
		return s.announce(ctx, tx, before, &after)
	})
	if err != nil {
		return api.User{}, fmt.Errorf("update account: %w", err)
	}
	return u.API(), nil
}

// applyMe sets the request's fields on u.
func applyMe(u *User, req api.UpdateMeRequest) {
	if req.Name != nil {
		u.Name = *req.Name
	}
	if req.Language != nil {
		u.Language = *req.Language
	}
	if req.RegionCode != nil {
		u.RegionCode = nil
		if *req.RegionCode != "" {
			code := *req.RegionCode
			u.RegionCode = &code
		}
	}
}

// wrongPassword is the refusal of a password re-entered wrongly by a
// signed-in caller (not 401: their token is good, and a client must not
// sign them out for it).
func wrongPassword() error {
	return WrongPassword.New("the password is not this account's password")
}

// checkOwnPassword checks a password the signed-in owner of u re-entered,
// throttled as logins to the account are (from clientIP), so a stolen token
// cannot be used to guess the password.
func (s *Service) checkOwnPassword(ctx context.Context, u *User, password, clientIP string) error {
	if _, err := s.throttleLogin(ctx, u.Email, clientIP, nil); err != nil {
		return err
	}
	if len(password) > maxLoginPassword {
		return wrongPassword()
	}
	right, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return busy(err)
	}
	if !right {
		return wrongPassword()
	}
	return nil
}

// ChangePassword sets a new password for the caller, who re-enters the
// current one (throttled like logins). Every session and trusted device of
// the account ends, and any reset link still unused; the caller goes on
// with the new session and device token of the answer. Access tokens
// already issued run out within their lifetime (15 minutes at most).
func (s *Service) ChangePassword(ctx context.Context, p Principal, req api.ChangePasswordRequest, clientIP string) (api.SessionResponse, error) {
	if err := problem.Validate(&req); err != nil {
		return api.SessionResponse{}, err
	}
	if err := CheckPassword(req.NewPassword); err != nil {
		return api.SessionResponse{}, problem.Validation(api.FieldError{Field: "new_password", Message: passwordMessage(err)})
	}
	u, err := s.UserByID(ctx, p.UserID)
	if err != nil {
		return api.SessionResponse{}, err
	}
	if err := s.checkOwnPassword(ctx, u, req.CurrentPassword, clientIP); err != nil {
		return api.SessionResponse{}, err
	}
	if req.NewPassword == req.CurrentPassword {
		return api.SessionResponse{}, problem.Validation(api.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
	hash, err := s.hash(ctx, req.NewPassword)
	if err != nil {
		return api.SessionResponse{}, err
	}
	var out api.SessionResponse
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.lockUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, u, hash); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Actor{ID: p.UserID, Role: p.Role}, "user.password_change", "user", u.ID, nil, nil); err != nil {
			return err
		}
		if out.Tokens, err = s.issue(ctx, tx, u, NewID()); err != nil {
			return err
		}
		out.DeviceToken, err = s.issueDevice(ctx, tx, u, nil)
		return err
	})
	if err != nil {
		return api.SessionResponse{}, fmt.Errorf("change password: %w", err)
	}
	return out, nil
}

// setPassword stores a new password hash for u inside tx and ends every
// session, trusted device and unused reset link of the account: whoever
// knew the old password may have signed in with it.
func (s *Service) setPassword(ctx context.Context, tx bun.Tx, u *User, hash string) error {
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", now).Where("id = ?", u.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store password: %w", err)
	}
	if err := s.revokeUser(ctx, tx, u.ID, now); err != nil {
		return err
	}
	return endResets(ctx, tx, u.ID, now)
}

// endResets ends, inside tx, userID's reset links that are not spent, and
// withdraws the reset mail still queued for them (the SMTP server was
// down): a link that no longer works is not sent.
func endResets(ctx context.Context, tx bun.Tx, userID string, now time.Time) error {
	_, err := tx.NewUpdate().Model((*resetRow)(nil)).Set("used_at = ?", now).Where("user_id = ? AND used_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("end reset links: %w", err)
	}
	_, err = mail.Withdraw(ctx, tx, userID, mail.KindPasswordReset)
	return err
}
