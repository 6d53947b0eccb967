package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
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
	secret []byte
}

var _ Limiter = (*Redis)(nil)

// NewRedis makes a shared limiter for rule. A bucket's key in Redis is
// prefix followed by the keyed hash of the caller's key (see KeyHash):
// keys name people (an email, an address, an account), and Redis holds
// none of them, and nothing outside prefix.
func NewRedis(rdb redis.UniversalClient, rule Rule, prefix string, secret []byte) *Redis {
	return &Redis{lim: redis_rate.NewLimiter(bare{rdb}), prefix: prefix, secret: secret,
		limit: redis_rate.Limit{Rate: rule.Burst, Burst: rule.Burst, Period: rule.Every * time.Duration(rule.Burst)}}
}

// KeyHash is the stored form of a bucket's key: the first 128 bits of
// HMAC-SHA-256 of key under secret, in hex, or of plain SHA-256 when there
// is no secret. With a secret (one per deployment) the hash cannot be
// checked against a list of guessed emails or addresses.
func KeyHash(secret []byte, key string) string {
	var sum []byte
	if len(secret) == 0 {
		s := sha256.Sum256([]byte(key))
		sum = s[:]
	} else {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(key))
		sum = m.Sum(nil)
	}
	return hex.EncodeToString(sum[:16])
}

// Allow implements Limiter.
// A decision waits at most decisionTimeout: when Redis is unreachable the
// caller lets the request through rather than holding it while go-redis
// retries.
func (r *Redis) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, decisionTimeout)
	defer cancel()
	res, err := r.lim.Allow(ctx, r.prefix+KeyHash(r.secret, key), r.limit)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, res.RetryAfter, nil
}

// libraryPrefix is what redis_rate puts before every key it is given.
const libraryPrefix = "rate:"

// bare passes redis_rate's commands on with its own "rate:" taken off the
// keys again, so that every key starts with the deployment's prefix
// (JARIMU_REDIS_PREFIX) like every other key of Jarimu.
type bare struct{ redis.UniversalClient }

func (b bare) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return b.UniversalClient.Eval(ctx, script, unprefix(keys), args...)
}

func (b bare) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return b.UniversalClient.EvalSha(ctx, sha1, unprefix(keys), args...)
}

func (b bare) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return b.UniversalClient.EvalRO(ctx, script, unprefix(keys), args...)
}

func (b bare) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return b.UniversalClient.EvalShaRO(ctx, sha1, unprefix(keys), args...)
}

func (b bare) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return b.UniversalClient.Del(ctx, unprefix(keys)...)
}

func unprefix(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, libraryPrefix)
	}
	return out
}

// decisionTimeout bounds one shared rate-limit decision.
const decisionTimeout = 250 * time.Millisecond

// Off is a Limiter that allows everything (a rule set to 0).
type Off struct{}

// Allow implements Limiter.
func (Off) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }
