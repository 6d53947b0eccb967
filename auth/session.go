package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
)

// refreshToken is a stored refresh token. Only its SHA-256 is kept. Tokens
// rotated from one sign-in share a family; reuse of a spent token outside
// the grace window revokes the whole family.
type refreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	ID        string     `bun:"id,pk"`
	FamilyID  string     `bun:"family_id"`
	UserID    string     `bun:"user_id"`
	TokenHash string     `bun:"token_hash"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	SpentAt   *time.Time `bun:"spent_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newOpaqueToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issue makes an access token and a new refresh token in family.
func (s *Service) issue(ctx context.Context, tx bun.Tx, u *User, family string) (api.Tokens, error) {
	access, exp, err := s.tokens.Issue(u.ID, u.Role)
	if err != nil {
		return api.Tokens{}, fmt.Errorf("issue access token: %w", err)
	}
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return api.Tokens{}, err
	}
	refresh := newOpaqueToken()
	row := &refreshToken{ID: NewID(), FamilyID: family, UserID: u.ID, TokenHash: hashToken(refresh),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return api.Tokens{}, fmt.Errorf("store refresh token: %w", err)
	}
	return api.Tokens{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(time.Until(exp).Round(time.Second) / time.Second)}, nil
}

func refreshRefused() error {
	return InvalidRefreshToken.New("the refresh token is invalid, expired or revoked; sign in again")
}

// Refresh spends a refresh token and returns a new pair in the same family.
// Presenting a token spent more than RefreshGrace ago is reuse: the family
// is revoked (committed) and the answer is 401. Within the grace window a
// second presentation (two tabs refreshing at once) gets its own new token
// in the same family, so there is never a second live family.
func (s *Service) Refresh(ctx context.Context, token string) (api.Tokens, error) {
	var tokens api.Tokens
	var refused error
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		rt, u, err := s.lockRefresh(ctx, tx, token)
		if err != nil || rt == nil {
			refused = refreshRefused()
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		switch {
		case rt.RevokedAt != nil || now.After(rt.ExpiresAt) || u.Status != api.UserActive:
			refused = refreshRefused()
			return nil
		case rt.SpentAt != nil && now.Sub(*rt.SpentAt) > s.cfg.RefreshGrace:
			refused = refreshRefused()
			return s.revokeFamily(ctx, tx, rt.FamilyID, now)
		case rt.SpentAt == nil:
			if _, err := tx.NewUpdate().Model((*refreshToken)(nil)).Set("spent_at = ?", now).Where("id = ?", rt.ID).Exec(ctx); err != nil {
				return fmt.Errorf("spend refresh token: %w", err)
			}
		}
		if tokens, err = s.issue(ctx, tx, u, rt.FamilyID); err != nil {
			return err
		}
		return s.seen(ctx, tx, u.ID)
	})
	if err != nil {
		return api.Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	if refused != nil {
		return api.Tokens{}, refused
	}
	return tokens, nil
}

// lockRefresh finds a refresh token and its user, locking on PostgreSQL
// the user's row first (lockLive) and then the token's row (SQLite
// transactions already hold the write lock). rt is nil when no such token
// exists.
func (s *Service) lockRefresh(ctx context.Context, tx bun.Tx, token string) (*refreshToken, *User, error) {
	if token == "" || len(token) > 256 {
		return nil, nil, nil
	}
	rt := new(refreshToken)
	find := tx.NewSelect().Model(rt).Where("token_hash = ?", hashToken(token))
	if s.db.Postgres() {
		// Whose token it is, without a lock: the account's row is locked
		// before the token's, in the order of a suspension.
		if err := find.Scan(ctx); err != nil {
			if db.IsNoRows(err) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("load refresh token: %w", err)
		}
		if _, err := s.lockLive(ctx, tx, rt.UserID); err != nil {
			return nil, nil, err
		}
		rt = new(refreshToken)
		find = s.db.ForUpdate(tx.NewSelect().Model(rt).Where("token_hash = ?", hashToken(token)))
	}
	if err := find.Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("load refresh token: %w", err)
	}
	u := new(User)
	if err := tx.NewSelect().Model(u).Where("id = ?", rt.UserID).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load user: %w", err)
	}
	return rt, u, nil
}

func (s *Service) revokeFamily(ctx context.Context, q bun.IDB, family string, now time.Time) error {
	_, err := q.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now).
		Where("family_id = ? AND revoked_at IS NULL", family).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// revokeUser ends every session of a user and forgets every client trusted
// to sign in as them (suspension, deletion).
func (s *Service) revokeUser(ctx context.Context, q bun.IDB, userID string, now time.Time) error {
	_, err := q.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now).
		Where("user_id = ? AND revoked_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return s.revokeDevices(ctx, q, userID)
}

// Logout revokes the session (the family) the refresh token belongs to. An
// unknown token changes nothing and is not an error: logging out twice is fine.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > 256 {
		return nil
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	rt := new(refreshToken)
	err = s.db.NewSelect().Model(rt).Column("family_id").Where("token_hash = ?", hashToken(token)).Scan(ctx)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return s.revokeFamily(ctx, s.db, rt.FamilyID, now)
}
