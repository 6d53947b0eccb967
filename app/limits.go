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
	// Login, when set, replaces the login throttles' defaults.
	LoginAccount, LoginIP *ratelimit.Rule
}

// limiter builds the limiter of one rule.
func (a *App) limiter(name string, rule *ratelimit.Rule, prefix string) ratelimit.Limiter {
	if rule == nil {
		return nil
	}
	if a.Redis != nil {
		return ratelimit.NewRedis(a.Redis, *rule, prefix+"rl:"+name+":")
	}
	return ratelimit.NewMemory(*rule, nil)
}

// limits builds the server's throttles and fills in the login throttles.
func (a *App) limits(r LimitRules, prefix string, login *auth.Config) server.Limits {
	if login.LoginPerAccount == nil {
		rule := auth.DefaultLoginRules.Account
		if r.LoginAccount != nil {
			rule = *r.LoginAccount
		}
		login.LoginPerAccount = a.limiter("login-account", &rule, prefix)
	}
	if login.LoginPerIP == nil {
		rule := auth.DefaultLoginRules.IP
		if r.LoginIP != nil {
			rule = *r.LoginIP
		}
		login.LoginPerIP = a.limiter("login-ip", &rule, prefix)
	}
	return server.Limits{UserWrites: a.limiter("user-writes", r.UserWrites, prefix),
		IPWrites: a.limiter("ip-writes", r.IPWrites, prefix), FeedIP: a.limiter("feed-ip", r.FeedIP, prefix)}
}
