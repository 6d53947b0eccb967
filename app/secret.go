package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/db"
)

// installationSecret is the installation's 32-byte random key named name
// (installation_secrets): made and stored by the first instance that asks
// for it, read by every other, so that every instance of a deployment
// holds the same key without a setting of its own, and no rotation of the
// signing or Web Push keys changes it. Two instances starting at once keep
// the one stored first.
func installationSecret(ctx context.Context, d *db.DB, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if _, err := d.NewRaw("INSERT INTO installation_secrets (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		name, fresh, time.Now().UTC()).Exec(ctx); err != nil {
		return nil, fmt.Errorf("installation secret %q: %w", name, err)
	}
	var secret []byte
	if err := d.NewRaw("SELECT secret FROM installation_secrets WHERE name = ?", name).Scan(ctx, &secret); err != nil {
		return nil, fmt.Errorf("installation secret %q: %w", name, err)
	}
	if len(secret) != 32 {
		return nil, fmt.Errorf("installation secret %q: %d bytes stored, want 32", name, len(secret))
	}
	return secret, nil
}
