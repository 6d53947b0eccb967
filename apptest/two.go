package apptest

import (
	"testing"
	"time"

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
	return TwoOf(t, b, opts, opts)
}

// TwoOf is Two with options of each instance's own: first's and second's
// (two releases side by side during a rolling upgrade, say).
func TwoOf(t testing.TB, b dbtest.Backend, first, second []Option) (*Env, *Env) {
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
	one := append([]Option{shared}, first...)
	two := append([]Option{shared}, second...)
	return Start(t, b, one...), Start(t, b, two...)
}

// KeyFile makes the app read its signing keys from the key file at path, as
// `jarimu serve` does with JARIMU_JWT_KEYS_FILE, and look at it for
// changes every reload (negative: only on App.Keys.Reload), instead of
// using an in-memory key set. The file must exist (auth.AddKeyToFile).
func KeyFile(path string, reload time.Duration) Option {
	return func(o *app.Options) {
		o.Keys, o.JWTKeysFile, o.KeysReload = nil, path, reload
	}
}
