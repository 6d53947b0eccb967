package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"time"

	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/ratelimit"
)

// DefaultLoginRules are the login throttles (see throttleLogin):
//   - AccountIP: per account and client address, 10 attempts then one per
//     minute;
//   - IP: per client address, 50 attempts then two per second (an office or
//     a carrier NAT shares one address);
//   - Account: per account over every address, 100 attempts then one per
//     36 s (100 an hour), against guessing spread over many addresses;
//   - Device: per device token, 10 attempts then one per minute.
var DefaultLoginRules = struct{ AccountIP, IP, Account, Device ratelimit.Rule }{
	AccountIP: ratelimit.Rule{Burst: 10, Every: time.Minute},
	IP:        ratelimit.Rule{Burst: 50, Every: 500 * time.Millisecond},
	Account:   ratelimit.Rule{Burst: 100, Every: 36 * time.Second},
	Device:    ratelimit.Rule{Burst: 10, Every: time.Minute},
}

// throttleLogin decides whether a login attempt may go on to the password
// check, and counts it. There are two lanes:
//
//   - Trusted: the attempt carries a valid device token of the account it
//     names (device not nil). It counts only against that token's bucket,
//     never against the account's or the address's, so nobody without the
//     token can spend it. A token over its allowance counts as none: the
//     attempt falls to the other lane, where it would have been without one.
//   - Untrusted: every other attempt counts against the client address, the
//     account at that address, and the account as a whole, in that order;
//     the first one spent refuses, and the ones after it are not charged.
//     Someone guessing from one address thus locks out that address only,
//     and, since one address refills the account's bucket more slowly than
//     it drains, can never empty it alone.
//
// trusted tells which lane let the attempt through.
func (s *Service) throttleLogin(ctx context.Context, email, clientIP string, device *deviceToken) (trusted bool, err error) {
	if device != nil && s.allow(ctx, s.cfg.LoginPerDevice, deviceKey(device.TokenHash)) == nil {
		return true, nil
	}
	addr, account := addressKey(clientIP), accountKey(email)
	if err := s.allow(ctx, s.cfg.LoginPerIP, addr); err != nil {
		return false, err
	}
	if err := s.allow(ctx, s.cfg.LoginPerAccountIP, account+"@"+addr); err != nil {
		return false, err
	}
	return false, s.allow(ctx, s.cfg.LoginPerAccount, account)
}

// allow takes one attempt from l's bucket for key: a rate-limited problem
// when the bucket is empty.
func (s *Service) allow(ctx context.Context, l ratelimit.Limiter, key string) error {
	ok, retry, err := l.Allow(ctx, key)
	if err != nil {
		// A shared throttle that cannot be reached (Redis down) must not
		// lock everyone out: argon2id and the per-instance hash bound
		// still slow guessing down.
		s.log.WarnContext(ctx, "login throttle unavailable; allowing the attempt", slog.String("error", err.Error()))
		return nil
	}
	if !ok {
		p := problem.Errorf(problem.RateLimited, "too many login attempts; wait before trying again")
		p.RetryAfter = retry
		return p
	}
	return nil
}

// accountKey is the throttle key of the account an email names: the first
// 128 bits of the SHA-256 of the email as it is stored (lower case), in hex,
// so that the throttle store (Redis) holds no email addresses. Unknown
// emails get keys as well, and cost the same.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(loginEmail(email)))
	return hex.EncodeToString(sum[:16])
}

// addressKey is the throttle key of a client address: an IPv4 address as it
// is (also when written IPv4-mapped), an IPv6 address as its /64, the block
// one subscriber is usually given, so that stepping through one's own block
// does not buy new allowances. Anything else is kept as it is.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// deviceKey is the throttle key of a device token: a prefix of its stored
// hash, so a rotated token starts with a fresh bucket.
func deviceKey(tokenHash string) string {
	if len(tokenHash) > 32 {
		return tokenHash[:32]
	}
	return tokenHash
}
