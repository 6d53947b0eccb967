package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/ratelimit"
)

// Config is every setting of the jarimu binary, read once at start from
// flags and environment variables (a flag wins over its variable, which wins
// over the default) and never changed afterwards.
type Config struct {
	Addr                string
	DataDir             string
	DatabaseURL         string
	RedisURL            string
	JWTKeysFile         string
	VAPIDKeysFile       string
	PushHosts           []string
	PushSubject         string
	PushRate            int
	AllowedOrigins      []string
	ShutdownTimeout     time.Duration
	MaxActiveClaims     int
	EventRetention      time.Duration
	LogFormat           string
	LogLevel            string
	AccessTokenTTL      time.Duration
	RefreshTokenTTL     time.Duration
	TokenIssuer         string
	TokenAudience       string
	MaxConcurrentHashes int
	DBMaxConns          int
	TrustedProxies      []netip.Prefix
	RedisPrefix         string
	MetricsAddr         string
	Limits              app.LimitRules
}

// setting is one row of the settings table: a variable, its flag twin, its
// default and how it lands in Config.
type setting struct {
	env, flag, def, help string
	secret               bool // may also come from <env>_FILE
	set                  func(c *Config, v string) error
}

func settings() []setting {
	return []setting{
		{"JARIMU_ADDR", "addr", "127.0.0.1:8080", "address to listen on", false, func(c *Config, v string) error { c.Addr = v; return nil }},
		{"JARIMU_DATA_DIR", "data-dir", "./data", "directory for the SQLite database, signing keys and evidence files (created if missing)", false, func(c *Config, v string) error { c.DataDir = v; return nil }},
		{"JARIMU_DATABASE_URL", "database-url", "", "postgres:// URL; empty means SQLite in the data dir", true, setDatabaseURL},
		{"JARIMU_REDIS_URL", "redis-url", "", "redis:// URL; empty means the in-process broker", true, setRedisURL},
		{"JARIMU_JWT_KEYS_FILE", "jwt-keys-file", "", "signing key file shared by all instances (made by `jarimu keys new`); empty in embedded mode means <data dir>/jwt-keys.json, generated on first start", false, func(c *Config, v string) error { c.JWTKeysFile = v; return nil }},
		{"JARIMU_VAPID_KEYS_FILE", "vapid-keys-file", "", "Web Push (VAPID) key file shared by all instances (made by `jarimu keys new` beside the signing keys); empty in embedded mode means <data dir>/vapid-keys.json, generated on first start", false, func(c *Config, v string) error { c.VAPIDKeysFile = v; return nil }},
		{"JARIMU_PUSH_HOSTS", "push-hosts", strings.Join(push.DefaultHosts, ","), "comma-separated push services that subscription endpoints may point at (a host, host:port, or *.domain for its subdomains); https only", false, setPushHosts},
		{"JARIMU_PUSH_SUBJECT", "push-subject", "mailto:push@jarimu.invalid", "the contact push services see in every push (VAPID sub): a mailto: or https: URL of the operator", false, setPushSubject},
		{"JARIMU_PUSH_RATE", "push-rate", "5000", "pushes per second one instance sends to one push service at most", false, intSetter(func(c *Config) *int { return &c.PushRate }, 1, 100000)},
		{"JARIMU_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated browser origins allowed to open the feed and call the API", false, setOrigins},
		{"JARIMU_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long a graceful shutdown may take", false, durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, time.Second, time.Hour)},
		{"JARIMU_MAX_ACTIVE_CLAIMS", "max-active-claims", "3", "active task claims one volunteer may hold", false, intSetter(func(c *Config) *int { return &c.MaxActiveClaims }, 1, 1000)},
		{"JARIMU_EVENT_RETENTION", "event-retention", "720h", "how long feed events are kept for resume (alerts are kept forever)", false, durationSetter(func(c *Config) *time.Duration { return &c.EventRetention }, time.Hour, 10*365*24*time.Hour)},
		{"JARIMU_LOG_FORMAT", "log-format", "", "json or text; empty means text on a terminal, json otherwise", false, setLogFormat},
		{"JARIMU_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false, setLogLevel},
		{"JARIMU_ACCESS_TOKEN_TTL", "access-token-ttl", "15m", "access token lifetime (at most 15m)", false, durationSetter(func(c *Config) *time.Duration { return &c.AccessTokenTTL }, 10*time.Second, 15*time.Minute)},
		{"JARIMU_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "refresh token lifetime", false, durationSetter(func(c *Config) *time.Duration { return &c.RefreshTokenTTL }, time.Minute, 365*24*time.Hour)},
		{"JARIMU_TOKEN_ISSUER", "token-issuer", "jarimu", "the iss claim of access tokens", false, nonEmpty(func(c *Config) *string { return &c.TokenIssuer })},
		{"JARIMU_TOKEN_AUDIENCE", "token-audience", "jarimu-api", "the aud claim of access tokens", false, nonEmpty(func(c *Config) *string { return &c.TokenAudience })},
		{"JARIMU_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For is believed (the client IP for throttles and logs)", false, setProxies},
		{"JARIMU_REDIS_PREFIX", "redis-prefix", "jarimu:", "prefix of every Redis key and channel (several installations may share one Redis)", false, nonEmpty(func(c *Config) *string { return &c.RedisPrefix })},
		{"JARIMU_DB_MAX_CONNS", "db-max-conns", "32", "PostgreSQL connections per instance (SQLite uses its own 8); every instance holds up to this many, so keep instances x this under the server's max_connections", false, intSetter(func(c *Config) *int { return &c.DBMaxConns }, 1, 1000)},
		{"JARIMU_METRICS_ADDR", "metrics-addr", "", "separate, private address for GET /metrics (Prometheus) and the Go profiler (/debug/pprof/); empty serves /metrics on JARIMU_ADDR and no profiler", false, func(c *Config, v string) error { c.MetricsAddr = v; return nil }},
		{"JARIMU_RATE_USER_WRITES", "rate-user-writes", "120/1m", "writes (POST, PATCH, DELETE) per account: BURST/PERIOD, refilled evenly; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.UserWrites })},
		{"JARIMU_RATE_IP_WRITES", "rate-ip-writes", "3000/1m", "writes per client address (mobile carriers put many volunteers behind one address); 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.IPWrites })},
		{"JARIMU_RATE_FEED_IP", "rate-feed-ip", "1200/1m", "feed handshakes per client address; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.FeedIP })},
		{"JARIMU_RATE_FEED_USER", "rate-feed-user", "30/1m", "feed connections opened per account; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.FeedUser })},
		{"JARIMU_RATE_LOGIN_ACCOUNT", "rate-login-account", "10/10m", "login attempts per account from one client address, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginAccount })},
		{"JARIMU_RATE_LOGIN_IP", "rate-login-ip", "50/25s", "login attempts per client address, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginIP })},
		{"JARIMU_RATE_LOGIN_ACCOUNT_ALL", "rate-login-account-all", "100/1h", "login attempts per account from all addresses together, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginAccountAll })},
		{"JARIMU_RATE_LOGIN_DEVICE", "rate-login-device", "10/10m", "login attempts per device token (clients that signed in before); 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginDevice })},
		{"JARIMU_MAX_CONCURRENT_HASHES", "max-concurrent-hashes", "0", "password hashes run at once (19 MiB each); 0 means twice the CPUs", false, intSetter(func(c *Config) *int { return &c.MaxConcurrentHashes }, 0, 1024)},
	}
}

// loadConfig reads settings for a subcommand from its flags (args) and
// getenv. Each bad value is an error naming the variable and its flag.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	rows := settings()
	vals := make([]*string, len(rows))
	for i, s := range rows {
		def := s.def
		if v, ok := lookup(getenv, s); ok {
			def = v
		}
		vals[i] = fs.String(s.flag, def, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	var c Config
	var errs []error
	for i, s := range rows {
		if err := s.set(&c, strings.TrimSpace(*vals[i])); err != nil {
			errs = append(errs, fmt.Errorf("%s (-%s): %w", s.env, s.flag, err))
		}
	}
	return c, errors.Join(errs...)
}

// lookup reads a setting's variable, or for a secret the file named by
// <env>_FILE.
func lookup(getenv func(string) string, s setting) (string, bool) {
	if v := getenv(s.env); v != "" {
		return v, true
	}
	if !s.secret {
		return "", false
	}
	if path := getenv(s.env + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "\x00unreadable " + path, true
		}
		return strings.TrimSpace(string(b)), true
	}
	return "", false
}

func setDatabaseURL(c *Config, v string) error {
	if strings.HasPrefix(v, "\x00") {
		return errors.New(v[1:])
	}
	if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("must be a postgres:// URL (or empty for SQLite)")
	}
	c.DatabaseURL = v
	return nil
}

func setRedisURL(c *Config, v string) error {
	if strings.HasPrefix(v, "\x00") {
		return errors.New(v[1:])
	}
	if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
		return errors.New("must be a redis:// or rediss:// URL (or empty for the in-process broker)")
	}
	c.RedisURL = v
	return nil
}

func setPushHosts(c *Config, v string) error {
	c.PushHosts = nil
	for _, h := range strings.Split(v, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/@ ") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			return fmt.Errorf("%q is not a host, host:port or *.domain", h)
		}
		c.PushHosts = append(c.PushHosts, h)
	}
	if len(c.PushHosts) == 0 {
		return errors.New("name at least one push service")
	}
	return nil
}

func setPushSubject(c *Config, v string) error {
	if !strings.HasPrefix(v, "mailto:") && !strings.HasPrefix(v, "https://") {
		return errors.New("must be a mailto: or https:// URL")
	}
	c.PushSubject = v
	return nil
}

func setOrigins(c *Config, v string) error {
	c.AllowedOrigins = nil
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
			return fmt.Errorf("%q is not an origin like https://example.org", o)
		}
		c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimSuffix(o, "/"))
	}
	return nil
}

func setLogFormat(c *Config, v string) error {
	if v != "" && v != "json" && v != "text" {
		return errors.New(`must be "json" or "text"`)
	}
	c.LogFormat = v
	return nil
}

func setLogLevel(c *Config, v string) error {
	switch v {
	case "debug", "info", "warn", "error":
		c.LogLevel = v
		return nil
	}
	return errors.New("must be debug, info, warn or error")
}

func durationSetter(field func(*Config) *time.Duration, min, max time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 15s or 2h", v)
		}
		if d < min || d > max {
			return fmt.Errorf("must be between %s and %s", min, max)
		}
		*field(c) = d
		return nil
	}
}

func intSetter(field func(*Config) *int, min, max int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return fmt.Errorf("must be a whole number from %d to %d", min, max)
		}
		*field(c) = n
		return nil
	}
}

func nonEmpty(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*field(c) = v
		return nil
	}
}

// printSettings writes the settings table (for help and the README).
func printSettings(w io.Writer) {
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  %-30s -%-22s default %-16s %s\n", s.env, s.flag, def, s.help)
	}
}

func setProxies(c *Config, v string) error {
	c.TrustedProxies = nil
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return fmt.Errorf("%q is not an IP address or CIDR", p)
			}
			p = netip.PrefixFrom(a, a.BitLen()).String()
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("%q is not an IP address or CIDR", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, pre.Masked())
	}
	return nil
}

func ruleSetter(field func(*Config) **ratelimit.Rule) func(*Config, string) error {
	return func(c *Config, v string) error {
		rule, ok, err := ratelimit.ParseRule(v)
		if err != nil {
			return err
		}
		if ok {
			*field(c) = &rule
		} else {
			*field(c) = nil
		}
		return nil
	}
}
