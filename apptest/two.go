package apptest

import (
	"testing"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/realtime"
)

// Two starts two apps on one database of backend b, as two instances of a
// deployment: one signing key set (a token of one is good on the other) and
// one broker and one Web Push key pair, a shared in-process broker, or on PostgreSQL with
// JARIMU_TEST_REDIS_URL the same Redis under one prefix.
func Two(t testing.TB, b dbtest.Backend, opts ...Option) (*Env, *Env) {
	t.Helper()
	dbo := dbtest.Options(t, b)
	if dbo.DataDir == "" {
		dbo.DataDir = t.TempDir()
	}
	keys, vapid := NewKeys(t), NewVAPID(t)
	mem := realtime.NewMemory()
	prefix := "test:" + auth.NewID() + ":"
	shared := func(o *app.Options) {
		o.DatabaseURL, o.DataDir, o.MaxOpenConns, o.Keys, o.VAPID = dbo.URL, dbo.DataDir, dbo.MaxOpenConns, keys, vapid
		if o.RedisURL != "" {
			o.RedisPrefix = prefix
		} else {
			o.Broker = mem
		}
	}
	all := append([]Option{shared}, opts...)
	return Start(t, b, all...), Start(t, b, all...)
}
