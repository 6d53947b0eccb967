package server_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/ratelimit"
)

// Addresses of the login tests, told to the server through X-Forwarded-For
// by a trusted proxy (the test's own loopback address).
const (
	attackerIP = "203.0.113.66"
	ownerIP    = "198.51.100.7"
	elsewhere  = "192.0.2.44"
)

// behindProxy believes X-Forwarded-For from loopback, so tests can send
// from several client addresses.
func behindProxy(o *app.Options) {
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// loginFrom sends a login from client address ip; device "" sends none.
func loginFrom(t *testing.T, e *apptest.Env, ip, email, password, device string) apptest.Response {
	t.Helper()
	body := api.LoginRequest{Email: email, Password: password, DeviceToken: device}
	return e.Do(t, "POST", "/v1/auth/login", body, "X-Forwarded-For", ip)
}

// mustLogin logs in from ip and returns the answer, which must be 200 with
// a device token.
func mustLogin(t *testing.T, e *apptest.Env, ip, email, device, why string) api.AuthResponse {
	t.Helper()
	r := loginFrom(t, e, ip, email, apptest.Password, device)
	if r.Status != 200 {
		t.Fatalf("%s: got %d %s, want 200", why, r.Status, r.Body)
	}
	var resp api.AuthResponse
	r.Decode(t, &resp)
	if len(resp.DeviceToken) != 43 {
		t.Fatalf("%s: got device token %q, want 43 base64url characters", why, resp.DeviceToken)
	}
	return resp
}

// wantThrottled checks that r is the login throttle's 429.
func wantThrottled(t *testing.T, r apptest.Response, what string) {
	t.Helper()
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.Problem(t).Type != "/v1/problems/rate-limited" {
		t.Fatalf("%s: got %d %s (Retry-After %q), want 429 rate-limited with Retry-After", what, r.Status, r.Body, r.Header.Get("Retry-After"))
	}
}

// guess sends n wrong passwords for email from ip without a device token,
// each of which must be answered 401.
func guess(t *testing.T, e *apptest.Env, ip, email string, n int) {
	t.Helper()
	for i := range n {
		if r := loginFrom(t, e, ip, email, "wrong-password-1", ""); r.Status != 401 {
			t.Fatalf("guess %d from %s: got %d %s, want 401", i+1, ip, r.Status, r.Body)
		}
	}
}

// Someone guessing an officer's password from one address is throttled,
// right password or not, but the owner still gets in: with their device
// token from that very address, or without one from another address.
func TestLoginGuessingDoesNotLockOutOwner(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		owner := signup(t, e, "officer@bawaslu.example.org").User.Email
		first := mustLogin(t, e, ownerIP, owner, "", "the owner's first login")

		guess(t, e, attackerIP, owner, 10)
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, "wrong-password-1", ""), "the 11th guess")
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, apptest.Password, ""), "the right password from the guessing address")

		second := mustLogin(t, e, attackerIP, owner, first.DeviceToken, "the owner with their device token, from the guessing address")
		if second.DeviceToken == first.DeviceToken {
			t.Fatal("a login with a device token answered the same token, want it rotated")
		}
		// The rotated-out copy counts as none: a thief holding it is a stranger.
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, apptest.Password, first.DeviceToken), "the rotated-out device token from the guessing address")

		mustLogin(t, e, elsewhere, owner, "", "the owner from another address, without a device token")
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, "wrong-password-1", ""), "guessing again after the owner's logins")
	}, behindProxy)
}

// A device token is worth something only for its own account: another
// account's, a made-up one or an over-long one count as none.
func TestLoginDeviceTokenOfAnotherAccountDoesNotHelp(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		victim := signup(t, e, "victim@example.org").User.Email
		attacker := signup(t, e, "mallory@example.org").User.Email
		own := mustLogin(t, e, attackerIP, attacker, "", "the attacker's own login")

		guess(t, e, attackerIP, victim, 10)
		for name, tok := range map[string]string{
			"the attacker's own device token": own.DeviceToken,
			"a made-up device token":          strings.Repeat("A", 43),
			"an over-long device token":       strings.Repeat("A", 300),
		} {
			wantThrottled(t, loginFrom(t, e, attackerIP, victim, apptest.Password, tok), name+" for the victim")
		}
		// The token is valid, for its own account.
		mustLogin(t, e, attackerIP, attacker, own.DeviceToken, "the attacker's device token for their own account")
	}, behindProxy)
}

// A device token under guessing gets its own small allowance; once spent,
// it counts as none, and the account is not locked for anyone else.
func TestLoginDeviceTokenBruteForceThrottled(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		owner := signup(t, e, "ana@example.org").User.Email
		stolen := mustLogin(t, e, ownerIP, owner, "", "the owner's login").DeviceToken

		guess(t, e, attackerIP, owner, 10) // the thief's address is spent without the token
		for i := range 10 {
			if r := loginFrom(t, e, attackerIP, owner, "wrong-password-1", stolen); r.Status != 401 {
				t.Fatalf("guess %d with the stolen device token: got %d %s, want 401", i+1, r.Status, r.Body)
			}
		}
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, "wrong-password-1", stolen), "the 11th guess with the stolen device token")
		wantThrottled(t, loginFrom(t, e, attackerIP, owner, apptest.Password, stolen), "the right password with the spent device token from the thief's address")

		mustLogin(t, e, elsewhere, owner, "", "the owner from another address")
	}, behindProxy)
}

// A device token skips the per-address throttle too: a busy (or hostile)
// shared address does not keep its trusted users out.
func TestLoginDeviceLaneSkipsAddressThrottle(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		owner := signup(t, e, "budi@example.org").User.Email
		device := mustLogin(t, e, ownerIP, owner, "", "the owner's login").DeviceToken
		for i := range 5 {
			if r := loginFrom(t, e, ownerIP, "nobody"+string(rune('a'+i))+"@example.org", "wrong-password-1", ""); r.Status != 401 {
				t.Fatalf("guess %d: got %d, want 401", i+1, r.Status)
			}
		}
		wantThrottled(t, loginFrom(t, e, ownerIP, owner, apptest.Password, ""), "the owner without a device token from the spent address")
		mustLogin(t, e, ownerIP, owner, device, "the owner with their device token from the spent address")
	}, behindProxy, func(o *app.Options) {
		o.Limits.LoginIP = &ratelimit.Rule{Burst: 6, Every: time.Hour}
	})
}

// Guessing spread over many addresses meets the per-account limit, which
// stops every login without a device token to the account, and none with one.
func TestLoginGuessingFromManyAddresses(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		owner := signup(t, e, "citra@example.org").User.Email
		device := mustLogin(t, e, ownerIP, owner, "", "the owner's login").DeviceToken // 1 of the account's 15
		guess(t, e, "203.0.113.1", owner, 10)
		guess(t, e, "203.0.113.2", owner, 4)
		wantThrottled(t, loginFrom(t, e, "203.0.113.3", owner, "wrong-password-1", ""), "the 16th attempt, from a third address")
		wantThrottled(t, loginFrom(t, e, elsewhere, owner, apptest.Password, ""), "the owner from a fresh address without a device token")
		mustLogin(t, e, elsewhere, owner, device, "the owner with their device token")
	}, behindProxy, func(o *app.Options) {
		o.Limits.LoginAccountAll = &ratelimit.Rule{Burst: 15, Every: time.Hour}
	})
}

// Suspending (or deleting) an account forgets its device tokens: after
// reactivation the old token no longer lets its holder past a throttle.
func TestLoginSuspensionRevokesDeviceTokens(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		su := signup(t, e, "dewi@example.org")
		device := mustLogin(t, e, ownerIP, su.User.Email, "", "the login before suspension").DeviceToken
		if n := devices(t, e, su.User.ID); n != 2 {
			t.Fatalf("got %d device tokens after signup and a login, want 2", n)
		}
		setStatus := func(status string) {
			t.Helper()
			if r := e.Do(t, "PATCH", "/v1/admin/users/"+su.User.ID, map[string]string{"status": status}, apptest.Bearer(admin.Tokens.AccessToken)...); r.Status != 200 {
				t.Fatalf("%s: got %d %s", status, r.Status, r.Body)
			}
		}
		setStatus(api.UserSuspended)
		if n := devices(t, e, su.User.ID); n != 0 {
			t.Fatalf("got %d device tokens after suspension, want 0", n)
		}
		if r := loginFrom(t, e, ownerIP, su.User.Email, apptest.Password, device); r.Status != 401 {
			t.Fatalf("suspended account's login with its device token: got %d, want 401", r.Status)
		}
		setStatus(api.UserActive)
		guess(t, e, attackerIP, su.User.Email, 10)
		wantThrottled(t, loginFrom(t, e, attackerIP, su.User.Email, apptest.Password, device), "the revoked device token from a spent address")
		mustLogin(t, e, elsewhere, su.User.Email, "", "the reactivated owner from another address")
	}, behindProxy)
}

// An account keeps its 20 most recently used device tokens; signing in from
// yet another client forgets the one unused longest.
func TestLoginKeepsTwentyDevices(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "fajar@example.org") // the first device
		var last string
		for i := range 21 {
			last = mustLogin(t, e, fmt.Sprintf("198.51.100.%d", i+1), su.User.Email, "", "a login from a new client").DeviceToken
		}
		if n := devices(t, e, su.User.ID); n != 20 {
			t.Fatalf("got %d device tokens after 22 clients, want 20", n)
		}
		// The signup's token went; the newest stays (rotated on use).
		guess(t, e, attackerIP, su.User.Email, 10)
		wantThrottled(t, loginFrom(t, e, attackerIP, su.User.Email, apptest.Password, su.DeviceToken), "the forgotten device token from a spent address")
		mustLogin(t, e, attackerIP, su.User.Email, last, "the newest device token from a spent address")
	}, behindProxy)
}

// Every rate limit's Redis keys start with the installation's prefix
// (JARIMU_REDIS_PREFIX) and hold no email, no address and no account id:
// after logins, writes and feed handshakes, a SCAN of Redis finds a key for
// each rule, all under the prefix, none with an '@' or a client address.
func TestRateLimitKeysInRedis(t *testing.T) {
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) || os.Getenv("JARIMU_TEST_REDIS_URL") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run this with JARIMU_TEST_DATABASE_URL and JARIMU_TEST_REDIS_URL")
		}
		t.Skip("needs JARIMU_TEST_DATABASE_URL and JARIMU_TEST_REDIS_URL: without them the throttles are in memory")
	}
	var prefix string
	e := apptest.Start(t, dbtest.Postgres, behindProxy, func(o *app.Options) {
		prefix = o.RedisPrefix
		o.Limits = app.LimitRules{UserWrites: rule(100, time.Minute), IPWrites: rule(100, time.Minute),
			FeedIP: rule(100, time.Minute), FeedUser: rule(100, time.Minute)}
	})
	su := signup(t, e, "eko@example.org")
	owner := su.User.Email
	device := mustLogin(t, e, ownerIP, owner, "", "a login").DeviceToken
	mustLogin(t, e, ownerIP, owner, device, "a login with the device token")
	loginFrom(t, e, attackerIP, owner, "not-the-password-at-all", "")
	e.Do(t, "POST", "/v1/tasks", map[string]any{"title": "x"}, apptest.Bearer(su.Tokens.AccessToken)...)
	openFeed(t, e, su.Tokens.AccessToken, nil).ws.Close()

	var keys []string
	iter := e.App.Redis.Scan(context.Background(), 0, "*", 1000).Iterator()
	for iter.Next(context.Background()) {
		if k := iter.Val(); strings.Contains(k, prefix) {
			keys = append(keys, k)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q does not start with the prefix %q", k, prefix)
		}
		for _, personal := range []string{"@", "eko", "example.org", ownerIP, attackerIP, "127.0.0.1", su.User.ID} {
			if strings.Contains(k, personal) {
				t.Errorf("key %q holds %q", k, personal)
			}
		}
		for _, rule := range []string{"login-ip", "login-account", "login-account-all", "login-device", "ip-writes", "user-writes", "feed-ip", "feed-user"} {
			if strings.HasPrefix(k, prefix+"rl:"+rule+":") {
				seen[rule] = true
			}
		}
	}
	if len(seen) != 8 {
		t.Fatalf("got keys %q, want one of each of the 8 rules under %srl:", keys, prefix)
	}
}

// devices counts the device tokens of a user.
func devices(t *testing.T, e *apptest.Env, userID string) int {
	t.Helper()
	n, err := e.App.DB.NewSelect().Table("device_tokens").Where("user_id = ?", userID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// Two instances share the throttle (through Redis, in scaled mode):
// guesses spread over both are counted together, and the owner still gets
// in through either, with the device token one of them issued. Embedded
// mode is one process with its throttle in memory, so this runs on
// PostgreSQL with Redis only (CI always has them).
func TestLoginThrottleAcrossInstances(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		if b != dbtest.Postgres || os.Getenv("JARIMU_TEST_REDIS_URL") == "" {
			continue
		}
		t.Run(string(b), func(t *testing.T) {
			a, bb := apptest.Two(t, b, behindProxy)
			owner := a.User(t, "officer", "pemilik", "31")
			first := mustLogin(t, a, ownerIP, owner.User.Email, "", "the owner's first login, through A")
			guess(t, a, attackerIP, owner.User.Email, 5)
			guess(t, bb, attackerIP, owner.User.Email, 5)
			wantThrottled(t, loginFrom(t, bb, attackerIP, owner.User.Email, apptest.Password, ""), "an eleventh guess, through B")
			wantThrottled(t, loginFrom(t, a, attackerIP, owner.User.Email, apptest.Password, ""), "a twelfth, through A")
			mustLogin(t, bb, attackerIP, owner.User.Email, first.DeviceToken, "the owner with A's device token, through B")
			mustLogin(t, a, elsewhere, owner.User.Email, "", "the owner from another address, through A")
		})
	}
}
