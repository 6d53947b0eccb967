package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// FeedReadBoth reads userID's grant rows (account, memberships, the heads
// of streams) with the owners' composed queries and with feedReadSQL
// (PostgreSQL), each sorted and printed.
func (a *App) FeedReadBoth(ctx context.Context, userID string, streams []string) (composed, prepared string, err error) {
	c, err := a.feedReadComposed(ctx, userID, streams)
	if err != nil {
		return "", "", err
	}
	p, err := a.feedReadPostgres(ctx, userID, streams, nil, nil, 1)
	if err != nil {
		return "", "", err
	}
	show := func(rows []feedRow) string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = fmt.Sprintf("%s|%s|%s|%s|%d", r.Part, r.A, r.B, r.C, r.Seq)
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	return show(c), show(p), nil
}
