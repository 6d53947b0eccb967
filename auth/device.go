package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
)

// deviceToken is a client that has signed in to an account before. The
// client holds the token (32 random bytes, base64url) and sends it back with
// its next login; the server keeps only its SHA-256. A login carrying a
// valid device token of the account it names is throttled in a lane of its
// own, so that strangers guessing the password cannot lock the owner out
// (see throttleLogin).
type deviceToken struct {
	bun.BaseModel `bun:"table:device_tokens,alias:dt"`

	ID         string    `bun:"id,pk"`
	UserID     string    `bun:"user_id"`
	TokenHash  string    `bun:"token_hash"`
	CreatedAt  time.Time `bun:"created_at"`   // when this client was first trusted
	LastUsedAt time.Time `bun:"last_used_at"` // its last successful sign-in
}

// maxDevices is how many trusted clients an account keeps; a sign-in from
// one more forgets the one unused longest.
const maxDevices = 20

// maxDeviceToken bounds the device token a login looks up; issued ones are
// 43 characters.
const maxDeviceToken = 256

// trustedDevice finds the device token sent with a login to email: nil when
// none was sent, or it is unknown, revoked, or another account's (all of
// which count as none, and the answer never tells them apart).
func (s *Service) trustedDevice(ctx context.Context, email, token string) (*deviceToken, error) {
	if token == "" || len(token) > maxDeviceToken {
		return nil, nil
	}
	d := new(deviceToken)
	err := s.db.NewSelect().Model(d).
		Join("JOIN users AS u ON u.id = dt.user_id").
		Where("dt.token_hash = ?", hashToken(token)).
		Where("u.email = ?", loginEmail(email)).
		Where("u.status = ?", api.UserActive).
		Scan(ctx)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load device token: %w", err)
	}
	return d, nil
}

// issueDevice gives u's client a device token with a sign-in. The token the
// client came with (prev, when it was valid) is replaced by a new one on the
// same row, so a copy taken earlier stops counting from the owner's next
// sign-in; a client without one gets a new row, and the account's rows past
// maxDevices are forgotten, least recently used first.
func (s *Service) issueDevice(ctx context.Context, tx bun.Tx, u *User, prev *deviceToken) (string, error) {
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return "", err
	}
	token := newOpaqueToken()
	if prev != nil {
		// Another sign-in with the same token may have rotated it first
		// (two at once): then this client gets a row of its own.
		res, err := tx.NewUpdate().Model((*deviceToken)(nil)).
			Set("token_hash = ?", hashToken(token)).Set("last_used_at = ?", now).
			Where("id = ? AND token_hash = ?", prev.ID, prev.TokenHash).Exec(ctx)
		if err != nil {
			return "", fmt.Errorf("rotate device token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return token, nil
		}
	}
	row := &deviceToken{ID: NewID(), UserID: u.ID, TokenHash: hashToken(token), CreatedAt: now, LastUsedAt: now}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("store device token: %w", err)
	}
	keep := tx.NewSelect().Model((*deviceToken)(nil)).Column("id").Where("user_id = ?", u.ID).
		Order("last_used_at DESC", "id DESC").Limit(maxDevices)
	_, err = tx.NewDelete().Model((*deviceToken)(nil)).
		Where("user_id = ?", u.ID).Where("id NOT IN (?)", keep).Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("forget old device tokens: %w", err)
	}
	return token, nil
}

// revokeDevices forgets every trusted client of a user: their next logins
// are throttled as strangers' are. It runs with the end of every session
// (suspension, deletion, a password change or reset; see revokeUser), since
// whoever knew the old password may have signed in and been given a device
// token.
func (s *Service) revokeDevices(ctx context.Context, q bun.IDB, userID string) error {
	if _, err := q.NewDelete().Model((*deviceToken)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke device tokens: %w", err)
	}
	return nil
}
