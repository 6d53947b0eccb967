package app

import (
	"context"

	"github.com/jarimu/jarimu/realtime"
)

// FeedAccess is feedAccess, for the tests of package app_test.
func (a *App) FeedAccess(ctx context.Context, userID string) (realtime.Grant, error) {
	return a.feedAccess(ctx, userID)
}

// FeedHello is feedHello, for the tests of package app_test.
func (a *App) FeedHello(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
	return a.feedHello(ctx, userID, from, limit)
}
