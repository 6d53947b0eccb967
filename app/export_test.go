package app

import (
	"context"

	"github.com/jarimu/jarimu/realtime"
)

// FeedAccess is feedAccess, for the tests of package app_test.
func (a *App) FeedAccess(ctx context.Context, userID string) (realtime.Grant, error) {
	return a.feedAccess(ctx, userID)
}
