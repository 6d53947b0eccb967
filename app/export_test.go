package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
// of streams and of grant, the streams the grant is expected to give) with
// the owners' composed queries and with feedReadSQL (PostgreSQL), each
// sorted and printed; feedReadSQL's head rows of streams without events
// (seq 0) and of streams beyond those are left out of its print (the
// composed read has none), and missing lists the streams of grant it gave
// no head row for.
func (a *App) FeedReadBoth(ctx context.Context, userID string, streams, grant []string) (composed, prepared string, missing []string, err error) {
	asked := slices.Clone(streams)
	for _, s := range grant {
		if !slices.Contains(asked, s) {
			asked = append(asked, s)
		}
	}
	c, err := a.feedReadComposed(ctx, userID, asked)
	if err != nil {
		return "", "", nil, err
	}
	p, err := a.feedReadPostgres(ctx, []string{userID}, streams, nil, nil, 1)
	if err != nil {
		return "", "", nil, err
	}
	missing = slices.Clone(grant)
	p = slices.DeleteFunc(p, func(r feedRow) bool {
		if r.Part != "head" {
			return false
		}
		missing = slices.DeleteFunc(missing, func(s string) bool { return s == r.A })
		return r.Seq == 0 || !slices.Contains(asked, r.A)
	})
	show := func(rows []feedRow) string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = fmt.Sprintf("%s|%s|%s|%s|%d", r.Part, r.A, r.B, r.C, r.Seq)
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	return show(c), show(p), missing, nil
}

// HoldHellos makes the feed's reads of hellos (PostgreSQL) wait until
// release is called; held says how many hellos the held reads took.
func (a *App) HoldHellos() (held func() int, release func()) {
	gate := make(chan struct{})
	var n atomic.Int64
	read := a.hellos.read
	a.hellos.mu.Lock()
	a.hellos.read = func(ctx context.Context, asks []*helloAsk) {
		n.Add(int64(len(asks)))
		<-gate
		read(ctx, asks)
	}
	a.hellos.mu.Unlock()
	return func() int { return int(n.Load()) }, sync.OnceFunc(func() { close(gate) })
}

// HellosWaiting is how many hellos wait for a read.
func (a *App) HellosWaiting() int {
	a.hellos.mu.Lock()
	defer a.hellos.mu.Unlock()
	return len(a.hellos.queue)
}

// HelloStatements is how many reads of hellos ran.
func (a *App) HelloStatements() int64 { return a.hellos.statements.Load() }

// HelloAsk is one hello for ReadHellos.
type HelloAsk struct {
	UserID string
	From   map[string]int64
	Limit  int
}

// ReadHellos reads asks with one statement (PostgreSQL), as the feed's
// hellos waiting at once are.
func (a *App) ReadHellos(ctx context.Context, asks []HelloAsk) ([]realtime.Start, error) {
	qs := make([]*helloAsk, len(asks))
	for i, q := range asks {
		qs[i] = &helloAsk{ctx: ctx, userID: q.UserID, from: q.From, limit: q.Limit}
	}
	a.readHellos(ctx, qs)
	out := make([]realtime.Start, len(qs))
	for i, q := range qs {
		if q.err != nil {
			return nil, q.err
		}
		out[i] = q.st
	}
	return out, nil
}
