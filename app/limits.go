package app

import (
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/ratelimit"
	"github.com/jarimu/jarimu/server"
)

// LimitRules are the request throttles; a nil rule does not limit. With
// Redis they are shared by every instance, else kept in this process.
type LimitRules struct {
	UserWrites, IPWrites, FeedIP, FeedUser *ratelimit.Rule
	// The login rules, when set, replace the login throttles' defaults
	// (auth.DefaultLoginRules): per account and client address, per client
	// address, per account over every address, per device token.
	LoginAccount, LoginIP, LoginAccountAll, LoginDevice *ratelimit.Rule
}

// limiter builds the limiter of one rule.
func (a *App) limiter(name string, rule *ratelimit.Rule, prefix string) ratelimit.Limiter {
	if rule == nil {
		return nil
	}
	if a.Redis != nil {
		var secret []byte // keys are hashed with it: see ratelimit.KeyHash
		if a.VAPID != nil {
			secret = a.VAPID.DerivedKey("rate limit keys")
		}
		return ratelimit.NewRedis(a.Redis, *rule, prefix+"rl:"+name+":", secret)
	}
	return ratelimit.NewMemory(*rule, nil)
}

// limits builds the server's throttles and fills in the login throttles.
func (a *App) limits(r LimitRules, prefix string, login *auth.Config) server.Limits {
	d := auth.DefaultLoginRules
	for _, l := range []struct {
		l     *ratelimit.Limiter
		name  string
		rule  *ratelimit.Rule
		byDef ratelimit.Rule
	}{
		{&login.LoginPerAccountIP, "login-account", r.LoginAccount, d.AccountIP},
		{&login.LoginPerIP, "login-ip", r.LoginIP, d.IP},
		{&login.LoginPerAccount, "login-account-all", r.LoginAccountAll, d.Account},
		{&login.LoginPerDevice, "login-device", r.LoginDevice, d.Device},
	} {
		if *l.l != nil {
			continue
		}
		rule := l.byDef
		if l.rule != nil {
			rule = *l.rule
		}
		*l.l = a.limiter(l.name, &rule, prefix)
	}
	return server.Limits{UserWrites: a.limiter("user-writes", r.UserWrites, prefix),
		IPWrites: a.limiter("ip-writes", r.IPWrites, prefix), FeedIP: a.limiter("feed-ip", r.FeedIP, prefix)}
}
