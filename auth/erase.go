package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/problem"
)

// VerifyPassword checks a password the signed-in owner of userID re-entered
// (to erase the account, say), throttled as logins are: 403 wrong-password.
func (s *Service) VerifyPassword(ctx context.Context, userID, password, clientIP string) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	return s.checkOwnPassword(ctx, u, password, clientIP)
}

// ErasedEmail is the email an erased account is left with: not an address
// anybody has, unique, and free for the person to sign up with again.
func ErasedEmail(userID string) string { return "erased:" + userID }

// LockForErasure loads and locks the account to erase inside tx: a 404 when
// there is none, a 409 account-erased when it is erased already. The
// account's work lock comes first, as a claim or a join takes it (LockWork).
func (s *Service) LockForErasure(ctx context.Context, tx bun.Tx, userID string) (*User, error) {
	if err := LockWork(ctx, s.db, tx, userID); err != nil {
		return nil, err
	}
	u := new(User)
	err := s.db.ForUpdate(tx.NewSelect().Model(u).Where("id = ?", userID)).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, problem.Errorf(problem.NotFound, "no such user")
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if u.Erased() {
		return nil, AccountErased.New("this account was erased already")
	}
	return u, nil
}

// Erase, inside tx, leaves of the account u (locked by LockForErasure) a
// row without personal data: no name, no email (the address is free again),
// no password, region or consent; its sessions, trusted devices, reset
// links and consents are deleted, and its own stream's events with them.
// Its open feed connections close (account.updated, 4401), on every
// instance. What the person did that is kept points at the row.
func (s *Service) Erase(ctx context.Context, tx bun.Tx, u *User, now time.Time) error {
	before := *u
	u.Email, u.Name, u.PasswordHash, u.RegionCode = ErasedEmail(u.ID), "", "", nil
	u.Status, u.PrivacyVersion, u.LastSeenAt, u.ErasedAt, u.UpdatedAt = api.UserDeleted, nil, nil, &now, now
	u.Language = api.Languages[0]
	_, err := tx.NewUpdate().Model(u).Column("email", "name", "password_hash", "region_code", "status", "privacy_version",
		"last_seen_at", "erased_at", "updated_at", "language").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("erase account: %w", err)
	}
	for _, m := range []any{(*refreshToken)(nil), (*deviceToken)(nil), (*resetRow)(nil), (*consentRow)(nil)} {
		if _, err := tx.NewDelete().Model(m).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("erase account: %w", err)
		}
	}
	if _, err := event.Forget(ctx, tx, UserStream(u.ID)); err != nil {
		return err
	}
	if before.Status == api.UserActive {
		if err := s.Revoke(ctx, tx, u.ID, restricted(AccountStreams(before.Role, before.Region()))...); err != nil {
			return err
		}
	}
	d := accountUpdated{Status: api.UserErased, Role: before.Role, Feed: &api.FeedChange{End: "account erased"}}
	_, err = event.Append(ctx, tx, UserStream(u.ID), api.EventAccountUpdated, d)
	return err
}
