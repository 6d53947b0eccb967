package org

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
)

// invite is an invite row; only the code's hash is kept.
type invite struct {
	bun.BaseModel `bun:"table:invites"`

	ID        string    `bun:"id,pk"`
	OrgID     string    `bun:"org_id"`
	CodeHash  string    `bun:"code_hash"`
	MaxUses   int       `bun:"max_uses"`
	Uses      int       `bun:"uses"`
	ExpiresAt time.Time `bun:"expires_at"`
	CreatedBy string    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// codeAlphabet has no 0/O or 1/I, so a code read out over the phone survives.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// MaxInviteLifetime bounds how far ahead an invite may expire.
const MaxInviteLifetime = 90 * 24 * time.Hour

// newCode makes a code of 20 symbols (100 random bits), shown in groups of 5.
func newCode() string {
	b := make([]byte, 20)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String()
}

// hashCode normalises a code as typed (case, dashes, spaces) and hashes it.
func hashCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// CreateInvite makes an invite code for an accredited org; only its active
// coordinators may. The code is in the answer once and never again.
func (s *Service) CreateInvite(ctx context.Context, p auth.Principal, orgID string, req api.InviteRequest) (api.Invite, error) {
	var out api.Invite
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := load(ctx, tx, s.db, orgID, false)
		if err != nil {
			return err
		}
		if ok, err := s.isCoordinator(ctx, tx, orgID, p.UserID); err != nil || !ok {
			return firstErr(err, problem.Errorf(problem.Forbidden, "only this organisation's coordinators make invites"))
		}
		if err := problem.Validate(&req); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if o.StatusAt(now) != api.OrgAccredited {
			return notAccredited(o, now)
		}
		if !req.ExpiresAt.After(now) || req.ExpiresAt.After(now.Add(MaxInviteLifetime)) {
			return problem.Validation(api.FieldError{Field: "expires_at", Message: "must be in the future and within 90 days"})
		}
		code := newCode()
		inv := &invite{ID: auth.NewID(), OrgID: orgID, CodeHash: hashCode(code), MaxUses: req.MaxUses,
			ExpiresAt: req.ExpiresAt.UTC(), CreatedBy: p.UserID, CreatedAt: now}
		if _, err := tx.NewInsert().Model(inv).Exec(ctx); err != nil {
			return fmt.Errorf("insert invite: %w", err)
		}
		out = api.Invite{ID: inv.ID, OrgID: orgID, Code: code, MaxUses: inv.MaxUses, ExpiresAt: inv.ExpiresAt}
		return audit.Record(ctx, tx, actorOf(p), "invite.create", "org", orgID, nil,
			map[string]any{"invite_id": inv.ID, "max_uses": inv.MaxUses, "expires_at": inv.ExpiresAt})
	})
	if err != nil {
		return api.Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return out, nil
}

// useInvite takes one use of a code for orgID, atomically: under any
// concurrency no code is used more than its max_uses.
func useInvite(ctx context.Context, tx bun.Tx, orgID, code string, now time.Time) error {
	inv := new(invite)
	err := tx.NewSelect().Model(inv).Where("code_hash = ? AND org_id = ?", hashCode(code), orgID).Scan(ctx)
	switch {
	case err != nil && isNoRows(err):
		return InviteUnknown.New("this invite code is not valid for this organisation")
	case err != nil:
		return fmt.Errorf("load invite: %w", err)
	case !inv.ExpiresAt.After(now):
		return InviteExpired.New("this invite code has expired; ask the coordinator for a new one")
	}
	res, err := tx.NewUpdate().Model((*invite)(nil)).Set("uses = uses + 1").
		Where("id = ? AND uses < max_uses", inv.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("use invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return InviteUsedUp.New("this invite code has been used as often as allowed")
	}
	return nil
}

// firstErr returns err when set, else fallback.
func firstErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
