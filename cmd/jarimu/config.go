package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/privacy"
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
	JWTKeysReload       time.Duration
	VAPIDKeysFile       string
	PushHosts           []string
	PushSubject         string
	PushRate            int
	AllowedOrigins      []string
	ShutdownTimeout     time.Duration
	MaxActiveClaims     int
	EventRetention      time.Duration
	OpenCache           time.Duration
	FeedReaders         string
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
	EvidenceURL         string // s3://...: evidence in a bucket
	EvidenceDir         string // "" means <data dir>/evidence
	EvidenceDirShared   bool   // the operator declares EvidenceDir a shared mount
	S3AccessKey         string
	S3SecretKey         string
	SMTPURL             string // smtp://...: mail (password reset links)
	MailFrom            string
	PublicURL           string
	Retention           privacy.Retention
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
		{"JARIMU_DATA_DIR", "data-dir", "./data", "directory for the SQLite database, signing keys, evidence files (without JARIMU_EVIDENCE_URL) and uploads in progress (created if missing)", false, func(c *Config, v string) error { c.DataDir = v; return nil }},
		{"JARIMU_DATABASE_URL", "database-url", "", "postgres:// URL; empty means SQLite in the data dir", true, setDatabaseURL},
		{"JARIMU_REDIS_URL", "redis-url", "", "redis:// URL, several nodes for a Redis Cluster, or redis+sentinel://host:26379,host:26379/MASTER for Redis Sentinel; empty means the in-process broker", true, setRedisURL},
		{"JARIMU_JWT_KEYS_FILE", "jwt-keys-file", "", "signing key file shared by all instances (made by `jarimu keys new`, rotated by `jarimu keys rotate`, re-read on change and on SIGHUP); empty in embedded mode means <data dir>/jwt-keys.json, generated on first start", false, func(c *Config, v string) error { c.JWTKeysFile = v; return nil }},
		{"JARIMU_JWT_KEYS_RELOAD", "jwt-keys-reload", "10s", "how often the signing key file is checked for changes (new keys are published at once, sign after their not_before); 0 = only on SIGHUP", false, durationSetter(func(c *Config) *time.Duration { return &c.JWTKeysReload }, 0, time.Hour)},
		{"JARIMU_VAPID_KEYS_FILE", "vapid-keys-file", "", "Web Push (VAPID) key file shared by all instances (made by `jarimu keys new` beside the signing keys); empty in embedded mode means <data dir>/vapid-keys.json, generated on first start", false, func(c *Config, v string) error { c.VAPIDKeysFile = v; return nil }},
		{"JARIMU_PUSH_HOSTS", "push-hosts", strings.Join(push.DefaultHosts, ","), "comma-separated push services that subscription endpoints may point at (a host, host:port, or *.domain for its subdomains); https only", false, setPushHosts},
		{"JARIMU_PUSH_SUBJECT", "push-subject", "mailto:push@jarimu.invalid", "the contact push services see in every push (VAPID sub): a mailto: or https: URL of the operator", false, setPushSubject},
		{"JARIMU_PUSH_RATE", "push-rate", "5000", "pushes per second one instance sends to one push service at most", false, intSetter(func(c *Config) *int { return &c.PushRate }, 1, 100000)},
		{"JARIMU_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated browser origins of other sites allowed to open the feed and call the API (the server's own origin always is)", false, setOrigins},
		{"JARIMU_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long a graceful shutdown may take", false, durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, time.Second, time.Hour)},
		{"JARIMU_MAX_ACTIVE_CLAIMS", "max-active-claims", "3", "active task claims one volunteer may hold", false, intSetter(func(c *Config) *int { return &c.MaxActiveClaims }, 1, 1000)},
		{"JARIMU_EVENT_RETENTION", "event-retention", "720h", "how long feed events are kept for resume (alerts and accreditation changes are kept forever; on PostgreSQL whole months go, once wholly older)", false, durationSetter(func(c *Config) *time.Duration { return &c.EventRetention }, time.Hour, 10*365*24*time.Hour)},
		{"JARIMU_OPEN_CACHE", "open-cache", "10s", "how long an instance serves the transparency datasets it built (takedowns, verified findings, alerts issued, ClaimReview) before building them again; 0 builds them for every request", false, durationSetter(func(c *Config) *time.Duration { return &c.OpenCache }, 0, time.Hour)},
		{"JARIMU_FEED_READERS", "feed-readers", "poll", "how the feed waits for its clients' frames: poll (a few epoll loops hear every connection; an idle one has no goroutine) or goroutine (one waiting goroutine per connection, about 3 KiB more each; the only way on systems other than Linux)", false, setFeedReaders},
		{"JARIMU_LOG_FORMAT", "log-format", "", "json or text; empty means text on a terminal, json otherwise", false, setLogFormat},
		{"JARIMU_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false, setLogLevel},
		{"JARIMU_ACCESS_TOKEN_TTL", "access-token-ttl", "15m", "access token lifetime (at most 15m)", false, durationSetter(func(c *Config) *time.Duration { return &c.AccessTokenTTL }, 10*time.Second, 15*time.Minute)},
		{"JARIMU_REFRESH_TOKEN_TTL", "refresh-token-ttl", "720h", "refresh token lifetime", false, durationSetter(func(c *Config) *time.Duration { return &c.RefreshTokenTTL }, time.Minute, 365*24*time.Hour)},
		{"JARIMU_TOKEN_ISSUER", "token-issuer", "jarimu", "the iss claim of access tokens", false, nonEmpty(func(c *Config) *string { return &c.TokenIssuer })},
		{"JARIMU_TOKEN_AUDIENCE", "token-audience", "jarimu-api", "the aud claim of access tokens", false, nonEmpty(func(c *Config) *string { return &c.TokenAudience })},
		{"JARIMU_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For is believed (the client IP for throttles and logs)", false, setProxies},
		{"JARIMU_REDIS_PREFIX", "redis-prefix", "jarimu:", "prefix of every Redis key and channel (several installations may share one Redis)", false, nonEmpty(func(c *Config) *string { return &c.RedisPrefix })},
		{"JARIMU_DB_MAX_CONNS", "db-max-conns", "32", "PostgreSQL connections per instance (SQLite uses its own 8); every instance holds up to this many, so keep instances x this under the server's max_connections; at least 8 (background jobs and Web Push senders each hold one while they need another)", false, intSetter(func(c *Config) *int { return &c.DBMaxConns }, 8, 1000)},
		{"JARIMU_METRICS_ADDR", "metrics-addr", "", "separate, private address for GET /metrics (Prometheus) and the Go profiler (/debug/pprof/); empty serves /metrics on JARIMU_ADDR and no profiler", false, func(c *Config, v string) error { c.MetricsAddr = v; return nil }},
		{"JARIMU_RATE_USER_WRITES", "rate-user-writes", "120/1m", "writes (POST, PATCH, DELETE) per account: BURST/PERIOD, refilled evenly; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.UserWrites })},
		{"JARIMU_RATE_IP_WRITES", "rate-ip-writes", "3000/1m", "writes per client address (mobile carriers put many volunteers behind one address); 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.IPWrites })},
		{"JARIMU_RATE_FEED_IP", "rate-feed-ip", "1200/1m", "feed handshakes per client address; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.FeedIP })},
		{"JARIMU_RATE_FEED_USER", "rate-feed-user", "30/1m", "feed connections opened per account; 0 = no limit", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.FeedUser })},
		{"JARIMU_RATE_LOGIN_ACCOUNT", "rate-login-account", "10/10m", "login attempts per account from one client address, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginAccount })},
		{"JARIMU_RATE_LOGIN_IP", "rate-login-ip", "50/25s", "login attempts per client address, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginIP })},
		{"JARIMU_RATE_LOGIN_ACCOUNT_ALL", "rate-login-account-all", "100/1h", "login attempts per account from all addresses together, without a device token; 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginAccountAll })},
		{"JARIMU_RATE_LOGIN_DEVICE", "rate-login-device", "10/10m", "login attempts per device token (clients that signed in before); 0 = the default", false, ruleSetter(func(c *Config) **ratelimit.Rule { return &c.Limits.LoginDevice })},
		{"JARIMU_EVIDENCE_URL", "evidence-url", "", "keep evidence files in an S3-compatible bucket: s3://BUCKET/PREFIX?endpoint=https://HOST:PORT&region=REGION (no endpoint: Amazon S3; http:// only to loopback, or with &allow_http=true); empty keeps them in JARIMU_EVIDENCE_DIR", false, setEvidenceURL},
		{"AWS_ACCESS_KEY_ID", "s3-access-key-id", "", "access key of the evidence bucket (with JARIMU_EVIDENCE_URL)", true, secretSetter(func(c *Config) *string { return &c.S3AccessKey })},
		{"AWS_SECRET_ACCESS_KEY", "s3-secret-access-key", "", "secret key of the evidence bucket (with JARIMU_EVIDENCE_URL)", true, secretSetter(func(c *Config) *string { return &c.S3SecretKey })},
		{"JARIMU_EVIDENCE_DIR", "evidence-dir", "", "directory of evidence files when there is no JARIMU_EVIDENCE_URL; empty means <data dir>/evidence", false, func(c *Config, v string) error { c.EvidenceDir = v; return nil }},
		{"JARIMU_EVIDENCE_DIR_SHARED", "evidence-dir-shared", "false", "true declares JARIMU_EVIDENCE_DIR a mount shared by every instance, which scaled mode then accepts instead of a bucket", false, setEvidenceDirShared},
		{"JARIMU_SMTP_URL", "smtp-url", "", "SMTP server for mail (password reset links): smtp://HOST:PORT (a local relay, no TLS or login), smtp://USER:PASS@HOST:587?starttls=true or smtps://USER:PASS@HOST:465; empty sends no mail and refuses password resets by email (`jarimu admin reset-password` makes links)", true, setSMTPURL},
		{"JARIMU_MAIL_FROM", "mail-from", "", "sender of mail, such as \"Jarimu <noreply@example.org>\" (required with JARIMU_SMTP_URL)", false, func(c *Config, v string) error { c.MailFrom = v; return nil }},
		{"JARIMU_PUBLIC_URL", "public-url", "", "address people open the console at, such as https://jarimu.example.org: the base of links in mail (required with JARIMU_SMTP_URL) and of `jarimu admin reset-password` links (else http://JARIMU_ADDR)", false, setPublicURL},
		{"JARIMU_RETENTION_ELECTION_DATE", "retention-election-date", "", "voting day (YYYY-MM-DD) the JARIMU_RETENTION_* periods count from; empty deletes nothing by age", false, setElectionDate},
		{"JARIMU_RETENTION_REPORTS", "retention-reports", "90d", "how long after the election day reports never verified (with their evidence files) are kept; 0 keeps them", false, retentionSetter(func(c *Config) *time.Duration { return &c.Retention.Reports })},
		{"JARIMU_RETENTION_CLAIMS", "retention-claims", "90d", "how long after the election day ended task claims are kept (claims a report was filed under stay with it); 0 keeps them", false, retentionSetter(func(c *Config) *time.Duration { return &c.Retention.Claims })},
		{"JARIMU_RETENTION_ACCOUNTS", "retention-accounts", "365d", "how long after the election day volunteer accounts unused since that day are kept before they are erased (staff accounts never are); 0 keeps them", false, retentionSetter(func(c *Config) *time.Duration { return &c.Retention.Accounts })},
		{"JARIMU_MAX_CONCURRENT_HASHES", "max-concurrent-hashes", "0", "password hashes run at once (19 MiB each); 0 means twice the CPUs", false, intSetter(func(c *Config) *int { return &c.MaxConcurrentHashes }, 0, 1024)},
	}
}

// loadConfig reads settings for a subcommand from its flags (args) and
// getenv. Each bad value is an error naming the variable and its flag.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	rows := settings()
	vals := make([]*string, len(rows))
	secrets := map[string]string{} // flag: the value of its variable
	for i, s := range rows {
		def := s.def
		if v, ok := lookup(getenv, s); ok && s.secret {
			secrets[s.flag] = v // not a flag default, which --help would print
		} else if ok {
			def = v
		}
		vals[i] = fs.String(s.flag, def, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return Config{}, err
	} else if err != nil {
		return Config{}, usageError{fmt.Errorf("%w (see jarimu %s --help)", err, fs.Name())}
	}
	fs.Visit(func(f *flag.Flag) { delete(secrets, f.Name) }) // a flag wins
	var c Config
	var errs []error
	for i, s := range rows {
		v, ok := secrets[s.flag]
		if !ok {
			v = *vals[i]
		}
		if err := s.set(&c, strings.TrimSpace(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s (-%s): %w", s.env, s.flag, err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, c.checkEvidence(), c.checkMail())
	}
	return c, errors.Join(errs...)
}

// checkEvidence checks the evidence settings together.
func (c Config) checkEvidence() error {
	if c.EvidenceURL != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return errors.New("JARIMU_EVIDENCE_URL needs the bucket's keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE)")
	}
	if c.EvidenceDirShared && c.EvidenceDir == "" {
		return errors.New("JARIMU_EVIDENCE_DIR_SHARED=true needs JARIMU_EVIDENCE_DIR set to the shared mount")
	}
	return nil
}

// checkMail checks the mail settings together.
func (c Config) checkMail() error {
	if c.SMTPURL == "" {
		return nil
	}
	if c.MailFrom == "" {
		return errors.New("JARIMU_SMTP_URL needs JARIMU_MAIL_FROM, the sender of mail (such as \"Jarimu <noreply@example.org>\")")
	}
	if c.PublicURL == "" {
		return errors.New("JARIMU_SMTP_URL needs JARIMU_PUBLIC_URL, the address people open the console at (links in mail point there)")
	}
	return nil
}

// checkScaledEvidence refuses scaled mode (JARIMU_DATABASE_URL) with the
// evidence files on one instance's disk, where the other instances cannot
// read them.
func (c Config) checkScaledEvidence() error {
	if c.DatabaseURL == "" || c.EvidenceURL != "" || c.EvidenceDir != "" && c.EvidenceDirShared {
		return nil
	}
	return errors.New("JARIMU_DATABASE_URL (scaled mode) needs evidence files that every instance reads: set JARIMU_EVIDENCE_URL " +
		"(an S3-compatible bucket, with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or JARIMU_EVIDENCE_DIR on a mount shared by " +
		"every instance together with JARIMU_EVIDENCE_DIR_SHARED=true")
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

func setEvidenceURL(c *Config, v string) error {
	if v != "" {
		if _, err := evidence.ParseURL(v); err != nil {
			return err
		}
	}
	c.EvidenceURL = v
	return nil
}

func setEvidenceDirShared(c *Config, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New(`must be "true" or "false"`)
	}
	c.EvidenceDirShared = b
	return nil
}

// secretSetter sets a secret, refusing the marker lookup leaves for a
// *_FILE it could not read.
func secretSetter(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if strings.HasPrefix(v, "\x00") {
			return errors.New(v[1:])
		}
		*field(c) = v
		return nil
	}
}

func setRedisURL(c *Config, v string) error {
	if strings.HasPrefix(v, "\x00") {
		return errors.New(v[1:])
	}
	schemes := []string{"redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://"}
	if v != "" && !slices.ContainsFunc(schemes, func(s string) bool { return strings.HasPrefix(v, s) }) {
		return errors.New("must be a redis://, rediss:// or redis+sentinel:// URL (or empty for the in-process broker)")
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

func setFeedReaders(c *Config, v string) error {
	if v != "poll" && v != "goroutine" {
		return errors.New(`must be "poll" or "goroutine"`)
	}
	c.FeedReaders = v
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

func setSMTPURL(c *Config, v string) error {
	if strings.HasPrefix(v, "\x00") {
		return errors.New(v[1:])
	}
	if v != "" {
		if _, err := mail.ParseURL(v); err != nil {
			return err
		}
	}
	c.SMTPURL = v
	return nil
}

func setPublicURL(c *Config, v string) error {
	v = strings.TrimRight(v, "/")
	if v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") || strings.Count(v, "/") > 2 {
		return fmt.Errorf("%q is not an address like https://jarimu.example.org", v)
	}
	c.PublicURL = v
	return nil
}

func setElectionDate(c *Config, v string) error {
	c.Retention.ElectionDate = time.Time{}
	if v == "" {
		return nil
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return errors.New("must be a date like 2029-02-14")
	}
	c.Retention.ElectionDate = d
	return nil
}

// retentionSetter reads a period in days ("90d") or as a Go duration
// ("2160h"); "0" keeps things forever.
func retentionSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDays(v)
		if err != nil || d < 0 || d > 20*365*24*time.Hour {
			return fmt.Errorf("%q is not a period like 90d or 2160h (at most 20 years; 0 keeps forever)", v)
		}
		*field(c) = d
		return nil
	}
}

func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		return time.Duration(days) * 24 * time.Hour, err
	}
	if v == "0" {
		return 0, nil
	}
	return time.ParseDuration(v)
}
