package auth

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/ratelimit"
)

func TestAccountKey(t *testing.T) {
	key := accountKey("Officer.Jakarta@Bawaslu.go.id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(key) {
		t.Fatalf("got key %q, want 32 hex digits", key)
	}
	if strings.Contains(strings.ToLower(key), "officer") || strings.Contains(key, "bawaslu") {
		t.Fatalf("key %q holds the email", key)
	}
	if got := accountKey("officer.jakarta@bawaslu.go.id"); got != key {
		t.Errorf("the same email in lower case: got %q, want %q (one account, one key)", got, key)
	}
	if got := accountKey("officer.bandung@bawaslu.go.id"); got == key {
		t.Error("two accounts share a key")
	}
	// Fixed: instances and restarts must agree on the key.
	if got, want := accountKey("a@b.id"), "ba2ee92fc1cdeef1de2be744f671b429"; got != want {
		t.Errorf("accountKey(a@b.id): got %q, want %q", got, want)
	}
}

func TestAddressKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"::ffff:203.0.113.9", "203.0.113.9"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"apptest", "apptest"},
		{"", ""},
	} {
		if got := addressKey(tt.in); got != tt.want {
			t.Errorf("addressKey(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeviceKey(t *testing.T) {
	h := hashToken("a device token")
	if got := deviceKey(h); got != h[:32] {
		t.Errorf("got %q, want the first 32 digits of the hash %q", got, h)
	}
	if deviceKey(hashToken("another")) == deviceKey(h) {
		t.Error("two device tokens share a key")
	}
}

// throttleService is a Service with only its login throttles, in memory on
// a clock the test moves.
func throttleService(now *time.Time) *Service {
	clock := func() time.Time { return *now }
	return &Service{log: slog.New(slog.DiscardHandler), cfg: Config{
		LoginPerAccountIP: ratelimit.NewMemory(DefaultLoginRules.AccountIP, clock),
		LoginPerIP:        ratelimit.NewMemory(DefaultLoginRules.IP, clock),
		LoginPerAccount:   ratelimit.NewMemory(DefaultLoginRules.Account, clock),
		LoginPerDevice:    ratelimit.NewMemory(DefaultLoginRules.Device, clock),
	}}
}

func rateLimited(err error) bool {
	return err != nil && problem.KindOf(err) == problem.RateLimited
}

// One address guessing day and night, at the pace its throttle allows,
// never empties the account's own bucket: the account's refill (one per
// 36 s) outpaces the address's (one a minute), and refused attempts are
// not charged to it.
func TestThrottleOneAddressCannotEmptyTheAccount(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	s := throttleService(&now)
	ctx := context.Background()
	refused := 0
	for range 24 * 60 * 6 { // every 10 s for a day
		if _, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", nil); rateLimited(err) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Second)
	}
	if want := 24*60*6 - 10 - 24*60; refused < want-1 || refused > want+1 {
		t.Errorf("the guessing address was refused %d times, want about %d (10, then one a minute)", refused, want)
	}
	for i, ip := range []string{"198.51.100.7", "2001:db8::1"} {
		if _, err := s.throttleLogin(ctx, "OWNER@example.org", ip, nil); err != nil {
			t.Errorf("the owner from a fresh address (%d): got %v, want allowed", i, err)
		}
	}
}

// A device token has its own bucket; once spent it counts as none, and the
// attempt is counted in the untrusted lane.
func TestThrottleDeviceLane(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	s := throttleService(&now)
	ctx := context.Background()
	d := &deviceToken{TokenHash: hashToken("the owner's device")}
	for i := range 10 {
		trusted, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", d)
		if err != nil || !trusted {
			t.Fatalf("attempt %d with the device token: got trusted %v, %v; want trusted", i+1, trusted, err)
		}
	}
	trusted, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", d)
	if err != nil || trusted {
		t.Fatalf("11th attempt: got trusted %v, %v; want the untrusted lane, allowed", trusted, err)
	}
	// Nothing of the device lane was charged to the address or the account.
	for i := range 9 {
		if _, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", nil); err != nil {
			t.Fatalf("untrusted attempt %d after the device lane: got %v, want allowed (10 at once)", i+2, err)
		}
	}
	if _, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", d); !rateLimited(err) {
		t.Fatalf("the spent device token at a spent address: got %v, want rate-limited", err)
	}
	now = now.Add(time.Minute)
	if trusted, err := s.throttleLogin(ctx, "owner@example.org", "203.0.113.66", d); err != nil || !trusted {
		t.Fatalf("a minute later: got trusted %v, %v; want trusted again", trusted, err)
	}
}
