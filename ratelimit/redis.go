package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter shared by every instance through Redis, built on
// github.com/go-redis/redis_rate (GCRA in one Lua script per decision), so a
// client cannot multiply its allowance by spreading over instances.
type Redis struct {
	lim    *redis_rate.Limiter
	limit  redis_rate.Limit
	prefix string
}

var _ Limiter = (*Redis)(nil)

// NewRedis makes a shared limiter for rule; every key starts with prefix.
func NewRedis(rdb redis.UniversalClient, rule Rule, prefix string) *Redis {
	return &Redis{lim: redis_rate.NewLimiter(rdb), prefix: prefix,
		limit: redis_rate.Limit{Rate: rule.Burst, Burst: rule.Burst, Period: rule.Every * time.Duration(rule.Burst)}}
}

// Allow implements Limiter.
// A decision waits at most decisionTimeout: when Redis is unreachable the
// caller lets the request through rather than holding it while go-redis
// retries.
func (r *Redis) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, decisionTimeout)
	defer cancel()
	res, err := r.lim.Allow(ctx, r.prefix+key, r.limit)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, res.RetryAfter, nil
}

// decisionTimeout bounds one shared rate-limit decision.
const decisionTimeout = 250 * time.Millisecond

// Off is a Limiter that allows everything (a rule set to 0).
type Off struct{}

// Allow implements Limiter.
func (Off) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }
