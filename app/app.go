// Package app wires Jarimu's parts into one running service: database (and
// migrations), Redis, signing keys, the capability services, background jobs
// and the HTTP server. cmd/jarimu builds it from flags and environment; tests
// build the very same thing in-process, so what they test is what runs.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/chore"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/metrics"
	"github.com/jarimu/jarimu/migrations"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/privacy"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/realtime"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/server"
	"github.com/jarimu/jarimu/stats"
	"github.com/jarimu/jarimu/task"
	"github.com/jarimu/jarimu/web"
)

// Options are the settings the app is built from (cmd/jarimu's Config).
type Options struct {
	DatabaseURL  string
	DataDir      string
	MaxOpenConns int
	RedisURL     string
	RedisPrefix  string // prefix of every Redis key and channel (DefaultRedisPrefix)
	// Limits are the request throttles; the zero value limits nothing but
	// logins (tests), cmd/jarimu fills them from the settings.
	Limits LimitRules
	// Broker, when set, is used instead of one made from RedisURL (tests
	// share a Memory broker between two apps to act as two instances).
	Broker      realtime.Broker
	JWTKeysFile string
	Keys        *auth.KeySet // used instead of JWTKeysFile when set (tests), never reloaded
	// KeysReload is how often the key file is looked at for changes (0:
	// auth.DefaultKeyReload, 10 s; negative: never, only Keys.Reload).
	KeysReload time.Duration
	// VAPIDKeysFile is the Web Push key pair shared by every instance
	// (JARIMU_VAPID_KEYS_FILE); VAPID, when set, is used instead (tests).
	VAPIDKeysFile string
	VAPID         *push.VAPID
	// Push tunes Web Push: allowed push services, VAPID subject, rates.
	Push            push.Config
	TokenIssuer     string
	TokenAudience   string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// HashParams default to auth.DefaultHashParams (OWASP's minimum).
	HashParams          *auth.HashParams
	MaxConcurrentHashes int
	Login               auth.Config // throttles; zero means defaults
	MaxActiveClaims     int
	// FeedSync is how often the feed checks the event log for events the
	// broker missed (0: 5 s). Drills lengthen it to see what the broker's
	// own heals (after a resubscription) deliver.
	FeedSync time.Duration
	// FeedReaderGoroutines: a goroutine per feed connection waits for its
	// frames instead of the hub's pollers (realtime.Options).
	FeedReaderGoroutines bool
	EventRetention       time.Duration
	ShutdownTimeout      time.Duration
	// UploadIdle and UploadTotal are the deadlines of an evidence upload's
	// body (server.Deps); 0: the server's defaults (tests shorten them).
	UploadIdle, UploadTotal time.Duration
	// OpenCache is how long an instance serves the transparency datasets
	// it built again (server.Deps.OpenCache); 0: built per request.
	OpenCache      time.Duration
	AllowedOrigins []string
	TrustedProxies []netip.Prefix
	// MetricsAddr, when set, is where /metrics is served instead of the
	// API's own address (cmd/jarimu listens there).
	MetricsAddr string
	// EvidenceURL, when set, keeps evidence files in an S3-compatible
	// bucket, s3://BUCKET/PREFIX?endpoint=URL&region=R (evidence.ParseURL),
	// signed in with EvidenceAccessKey and EvidenceSecretKey; uploads are
	// spooled in <DataDir>/tmp on their way. Otherwise the files go under
	// EvidenceDir, by default <DataDir>/evidence.
	EvidenceURL       string
	EvidenceAccessKey string
	EvidenceSecretKey string
	EvidenceDir       string
	// Notice is the privacy notice in force; nil means the compiled-in one
	// (notice.Current). Tests stand in a new version with it.
	Notice *api.PrivacyNotice
	// SMTPURL (JARIMU_SMTP_URL, mail.ParseURL) is where mail goes; empty
	// sends no mail, and password reset by email is refused. MailFrom is
	// the sender; PublicURL the base of links in mail (JARIMU_PUBLIC_URL).
	SMTPURL   string
	MailFrom  string
	PublicURL string
	// Mail tunes the outbox worker (tests shorten its backoff).
	Mail mail.Options
	// Retention is how long unverified reports, ended claims and inactive
	// accounts are kept after the election (JARIMU_RETENTION_*).
	Retention privacy.Retention
	// ResetMinDuration is the least time a reset request takes (0: 400 ms).
	ResetMinDuration time.Duration
	Log              *slog.Logger
}

// App is a built service.
type App struct {
	Log     *slog.Logger
	DB      *db.DB
	Redis   redis.UniversalClient // a *redis.ClusterClient when JARIMU_REDIS_URL names a cluster
	Keys    *auth.KeyRing         // re-read from JARIMU_JWT_KEYS_FILE on change and on Keys.Reload (SIGHUP)
	Auth    *auth.Service
	Idem    *idempotency.Store
	Events  *event.Log
	Orgs    *org.Service
	Tasks   *task.Service
	Reports *report.Service
	Alerts  *alert.Service
	Stats   *stats.Service
	Acks    *alert.Acks // feed acks, written once a second
	Chores  *chore.Runner
	VAPID   *push.VAPID
	Push    *push.Service
	Privacy *privacy.Service
	Mail    *mail.Outbox // nil without JARIMU_SMTP_URL
	Notice  api.PrivacyNotice
	Hub     *realtime.Hub
	Metrics *metrics.Registry
	Broker  realtime.Broker
	Server  *server.Server

	hellos     helloBatcher     // the feed's hellos, read in batches on PostgreSQL
	bucket     *evidence.Bucket // the evidence store when it is a bucket
	temp       tempPurger       // where this instance spools uploads
	retention  time.Duration
	shutdown   time.Duration
	keysReload time.Duration
	revoke     []byte // RevokeKey
	closers    []func()
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// DefaultRedisPrefix prefixes every Redis key and channel unless the
// options name another (JARIMU_REDIS_PREFIX).
const DefaultRedisPrefix = "jarimu:"

// defaults fills the options left zero, once, before anything is built.
func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.EventRetention == 0 {
		o.EventRetention = 30 * 24 * time.Hour
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 15 * time.Second
	}
	if o.KeysReload == 0 {
		o.KeysReload = auth.DefaultKeyReload
	}
	if o.RedisPrefix == "" {
		o.RedisPrefix = DefaultRedisPrefix
	}
}

// New builds the app, each part once with everything it needs, in
// dependency order: the stores (database, migrated; Redis; keys), the
// feed (a broker and a hub that read the event log), the event log that
// publishes to them, then the capability services and the HTTP server.
// Close undoes it in reverse. The hub calls back into the app to check
// tokens and read a user's streams (feedAuth, feedVerify, feedAccess):
// those read services built further down, and the hub serves nothing
// before Start.
func New(ctx context.Context, o Options) (*App, error) {
	o.defaults()
	a := &App{Log: o.Log, retention: o.EventRetention, shutdown: o.ShutdownTimeout, keysReload: o.KeysReload}
	if err := a.open(ctx, o); err != nil {
		a.Close()
		return nil, err
	}
	tokens := auth.NewTokens(a.Keys, auth.TokenConfig{Issuer: o.TokenIssuer, Audience: o.TokenAudience, TTL: o.AccessTokenTTL}, nil)
	params := auth.DefaultHashParams()
	if o.HashParams != nil {
		params = *o.HashParams
	}
	hasher := auth.NewHasher(params, o.MaxConcurrentHashes, 2*time.Second)
	cfg := o.Login
	cfg.RefreshTTL = o.RefreshTokenTTL
	a.Notice = notice.Current()
	if o.Notice != nil {
		a.Notice = *o.Notice
	}
	cfg.PrivacyVersion = a.Notice.Version
	if err := a.openMail(o, &cfg); err != nil {
		a.Close()
		return nil, err
	}
	cfg.OnStaffCreated = func(ctx context.Context, q bun.IDB, actor auth.Principal, u *auth.User) error {
		return audit.Record(ctx, q, audit.Actor{ID: actor.UserID, Role: actor.Role}, "user.create", "user", u.ID, nil, u.API())
	}
	limits := a.limits(o.Limits, o.RedisPrefix, &cfg)
	a.Acks = alert.NewAcks(a.DB, o.Log)
	cfg.OnDeleted = push.DeleteAccount
	// a.Orgs is made below, before any account can be deactivated.
	cfg.OnDeactivated = func(ctx context.Context, tx bun.Tx, userID, status string) error {
		return a.Orgs.Deactivated(ctx, tx, userID, status)
	}
	cfg.RevokeKey = a.RevokeKey()
	a.startFeed(o)
	a.Events = event.NewLog(a.DB, realtime.Fanout{Hub: a.Hub, Broker: a.Broker})
	a.Auth = auth.NewService(a.DB, a.Events, hasher, tokens, cfg, o.Log)
	a.Push = push.NewService(a.DB, a.VAPID, a.Auth.ActiveIDs, o.Push, o.Log)
	a.Idem = idempotency.NewStore(a.DB)
	// Losing access to an org's tasks ends the claims on them, in the
	// transaction of the change; task provides that, org calls it.
	a.Orgs = org.NewService(a.DB, a.Events, a.Auth, task.EndClaims(a.DB))
	a.Tasks = task.NewService(a.DB, a.Events, a.Orgs, a.Auth, task.Config{MaxActiveClaims: o.MaxActiveClaims,
		OnAssigned: func(ctx context.Context, q bun.IDB, c api.Claim, t api.Task) error {
			return a.Push.Queue(ctx, q, push.AssignmentJob(c, t))
		}})
	files, err := a.evidenceStore(o)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.temp = files
	a.Reports = report.NewService(a.DB, a.Events, a.Orgs, a.Tasks, files)
	a.Alerts = alert.NewService(a.DB, a.Events, a.Auth, a.Reports, a.pushAlert)
	a.Stats = stats.NewService(a.DB, a.Orgs.Role)
	a.Privacy = privacy.New(privacy.Deps{DB: a.DB, Events: a.Events, Auth: a.Auth, Orgs: a.Orgs, Tasks: a.Tasks,
		Reports: a.Reports, Idempotency: a.Idem, Log: o.Log, Retention: o.Retention})
	a.Chores = a.chores()
	a.registerChoreMetrics()
	a.Server = server.New(server.Deps{Log: o.Log, Auth: a.Auth, Keys: a.Keys, Idempotency: a.Idem,
		Metrics: a.Metrics, MetricsRoute: o.MetricsAddr == "",
		Orgs: a.Orgs, Tasks: a.Tasks, Push: a.Push, Reports: a.Reports, Alerts: a.Alerts, Audit: audit.NewTrail(a.DB), Privacy: a.Privacy, Stats: a.Stats, Notice: a.Notice, Feed: a.Hub, Console: web.Handler(), TrustedProxies: o.TrustedProxies, AllowedOrigins: o.AllowedOrigins, Limits: limits, Ready: a.ready, Degraded: a.degraded, OpenCache: o.OpenCache,
		UploadIdle: o.UploadIdle, UploadTotal: o.UploadTotal})
	return a, nil
}

// open connects the stores and loads the keys.
func (a *App) open(ctx context.Context, o Options) error {
	d, err := db.Open(ctx, db.Options{URL: o.DatabaseURL, DataDir: o.DataDir, MaxOpenConns: o.MaxOpenConns})
	if err != nil {
		return err
	}
	a.DB = d
	a.closers = append(a.closers, func() { d.Close() })
	applied, err := migrations.Up(ctx, d)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		a.Log.Info("migrated", slog.Any("applied", applied))
	}
	if o.RedisURL != "" {
		rdb, err := realtime.NewRedisClient(o.RedisURL)
		if err != nil {
			return fmt.Errorf("JARIMU_REDIS_URL: %w", err)
		}
		a.Redis = rdb
		// go-redis has one logger per process: its lines (pool dial
		// failures during an outage, say) go through this app's logger,
		// so the JSON log stays JSON.
		redis.SetLogger(redisLog{a.Log})
		a.closers = append(a.closers, func() { a.Redis.Close() })
	}
	if a.Keys, err = loadKeys(o, a.Log); err != nil {
		return err
	}
	if a.VAPID, err = loadVAPID(o, a.Log); err != nil {
		return err
	}
	a.revoke, err = installationSecret(ctx, d, RevokePurpose)
	return err
}

// tempPurger removes what uploads left behind in this instance's spool.
type tempPurger interface {
	PurgeTemp(olderThan time.Duration) (int64, error)
}

// evidenceFiles is an evidence store (a directory or a bucket) with the
// spool of this instance's uploads.
type evidenceFiles interface {
	report.Files
	tempPurger
}

// evidenceStore opens the bucket of EvidenceURL, or the directory.
func (a *App) evidenceStore(o Options) (evidenceFiles, error) {
	if o.EvidenceURL == "" {
		setting := "JARIMU_EVIDENCE_DIR"
		if o.EvidenceDir == "" {
			setting = "JARIMU_DATA_DIR"
		}
		files, err := evidence.NewDir(cmp.Or(o.EvidenceDir, filepath.Join(o.DataDir, "evidence")))
		if err != nil {
			return nil, fmt.Errorf("%s: evidence store: %w", setting, err)
		}
		return files, nil
	}
	c, err := evidence.ParseURL(o.EvidenceURL)
	if err != nil {
		return nil, fmt.Errorf("JARIMU_EVIDENCE_URL: %w", err)
	}
	c.AccessKey, c.SecretKey = o.EvidenceAccessKey, o.EvidenceSecretKey
	a.bucket, err = evidence.NewBucket(c, filepath.Join(o.DataDir, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("JARIMU_EVIDENCE_URL: %w", err)
	}
	return a.bucket, nil
}

// loadKeys reads the signing keys: the shared file in scaled mode, or a file
// in the data dir generated on first start in embedded mode. Either file is
// re-read when it changes (Start) and on Keys.Reload.
func loadKeys(o Options, log *slog.Logger) (*auth.KeyRing, error) {
	switch {
	case o.Keys != nil:
		return auth.NewKeyRing(o.Keys), nil
	case o.JWTKeysFile != "":
		ring, err := auth.OpenKeyRing(o.JWTKeysFile, log)
		if err != nil {
			return nil, fmt.Errorf("JARIMU_JWT_KEYS_FILE: %w", err)
		}
		return ring, nil
	case o.DatabaseURL != "":
		return nil, errors.New("JARIMU_JWT_KEYS_FILE (-jwt-keys-file): required with JARIMU_DATABASE_URL, so every instance signs and verifies alike; make one with `jarimu keys new --file FILE`")
	}
	path := filepath.Join(o.DataDir, "jwt-keys.json")
	_, created, err := auth.EnsureKeyFile(path, time.Now())
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated signing keys", slog.String("file", path))
	}
	return auth.OpenKeyRing(path, log)
}

// ready checks that the database and, when set, Redis answer.
func (a *App) ready(ctx context.Context) error {
	if err := a.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// degraded names the dependencies that are down but do not stop this
// instance from serving: without Redis the API and local feeds go on, and
// other instances' events are healed from the database when it returns;
// without the evidence bucket only evidence uploads and downloads fail
// (503), and every instance would fail them alike.
func (a *App) degraded(ctx context.Context) []string {
	var down []string
	if a.Redis != nil && a.Redis.Ping(ctx).Err() != nil {
		down = append(down, "redis")
	}
	if a.bucket != nil && a.bucket.Ping(ctx) != nil {
		down = append(down, "evidence")
	}
	return down
}

// RevokePurpose names the installation secret that names users in
// access.revoked (installationSecret): kept in the database, so every
// instance has it, and not derived from a key that rotates. One derived
// from the Web Push keys changed with them, and during a rolling restart
// instances with the old and the new pair ignored each other's
// revocations.
const RevokePurpose = "access.revoked tokens"

// RevokeKey is the key that names users in access.revoked (api.RevokeToken),
// the same on every instance of the deployment.
func (a *App) RevokeKey() []byte { return a.revoke }

// startFeed makes the hub (reading the event log) and the broker; the
// event log built next publishes to both, so every committed event reaches
// the feed.
func (a *App) startFeed(o Options) {
	acks := func(id realtime.Identity, stream string, from, seq int64, at time.Time) {
		a.Acks.Record(id.UserID, id.Role, id.Region, stream, from, seq, at)
	}
	var helloLimit realtime.HelloLimit
	if l := a.limiter("feed-user", o.Limits.FeedUser, o.RedisPrefix); l != nil {
		helloLimit = func(ctx context.Context, userID string) (bool, time.Duration) {
			ok, retry, err := l.Allow(ctx, "feed:user:"+userID)
			return ok || err != nil, retry // a failing limiter lets the hello through
		}
	}
	a.hellos = helloBatcher{read: a.readHellos, atOnce: helloReadsAtOnce, most: helloMost}
	a.Hub = realtime.NewHub(realtime.Options{Log: event.NewLog(a.DB, nil), Auth: a.feedAuth, Verify: a.feedVerify, Access: a.feedAccess, Hello: a.feedHello, Acks: acks,
		HelloLimit: helloLimit, AllowedOrigins: o.AllowedOrigins, Logger: o.Log, SyncInterval: o.FeedSync,
		ReaderGoroutines: o.FeedReaderGoroutines, RevokeKey: a.RevokeKey()})
	switch {
	case o.Broker != nil:
		a.Broker = o.Broker
	case a.Redis != nil:
		a.Broker = realtime.NewRedisBroker(a.Redis, o.RedisPrefix, o.Log) // sharded pub/sub on a cluster
	default:
		a.Broker = realtime.NewMemory()
	}
	a.registerMetrics()
}

// registerMetrics exposes the feed's, the broker's and the database pool's
// counters.
func (a *App) registerMetrics() {
	a.Metrics = metrics.New()
	m := a.Hub.Metrics()
	load := func(v interface{ Load() int64 }) func() float64 { return func() float64 { return float64(v.Load()) } }
	a.Metrics.Gauge("jarimu_feed_connections", "Open feed connections on this instance.", load(&m.Connections))
	acks := func(field func(alert.AckStats) int64) func() float64 {
		return func() float64 { return float64(field(a.Acks.Stats())) }
	}
	a.Metrics.Counter("jarimu_acks_flushes_total", "Writes of the feed acks gathered in memory (at most one a second; each one read of the acked alerts and one insert of their counts).", acks(func(s alert.AckStats) int64 { return s.Flushes }))
	a.Metrics.Counter("jarimu_acks_statements_total", "Database statements the ack writes ran.", acks(func(s alert.AckStats) int64 { return s.Statements }))
	a.Metrics.Counter("jarimu_acks_rows_total", "Count rows the ack writes inserted (one per alert and delay bucket per write).", acks(func(s alert.AckStats) int64 { return s.Rows }))
	a.Metrics.Counter("jarimu_acks_counted_total", "Acknowledgements of alerts counted (one per alert and volunteer).", acks(func(s alert.AckStats) int64 { return s.Counted }))
	a.Metrics.Counter("jarimu_acks_dropped_total", "Acks lost to a failed write (reach undercounts them; delivery is not affected).", acks(func(s alert.AckStats) int64 { return s.Dropped }))
	a.Metrics.Counter("jarimu_feed_events_routed_total", "Events fanned out by this instance's hub.", load(&m.Routed))
	a.Metrics.Counter("jarimu_feed_events_delivered_total", "Event frames written to feed connections.", load(&m.Delivered))
	a.Metrics.Counter("jarimu_feed_event_writes_total", "Socket writes of a connection's frames, fanned-out events and those built for it (several frames queued for one connection go in one write).", load(&m.EventWrites))
	a.Metrics.Counter("jarimu_feed_events_coalesced_total", "Frames written in the same socket write as an earlier one.", load(&m.Coalesced))
	a.Metrics.Counter("jarimu_feed_events_healed_total", "Events read back from the database to fill gaps.", load(&m.Healed))
	a.Metrics.Counter("jarimu_feed_slow_disconnects_total", "Feed connections closed with 4429 (too slow).", load(&m.SlowKicked))
	a.Metrics.Counter("jarimu_feed_input_dropped_total", "Deliveries dropped at a full hub input (healed from the database).", load(&m.DroppedInput))
	a.Metrics.Counter("jarimu_feed_hello_reads_total", "Database reads of feed hellos (PostgreSQL: the hellos waiting at once are read by one statement).", func() float64 { return float64(a.hellos.statements.Load()) })
	a.Metrics.Counter("jarimu_feed_hellos_read_total", "Feed hellos and access checks those reads answered.", func() float64 { return float64(a.hellos.hellos.Load()) })
	a.Metrics.Counter("jarimu_feed_heal_reads_total", "Reads of the event log to fill gaps (once per stream and gap; per connection only where one connection alone is behind).", load(&m.HealReads))
	a.Metrics.Counter("jarimu_feed_unavailable_total", "Hellos, token frames and feed starts that could not be checked because a dependency was down (answered 1013 or kept open, never 4401).", load(&m.Unavailable))
	a.Metrics.Counters("jarimu_feed_closes_total", "Feed connections closed by the server, by close code (4429 too slow, 4401 token or account, 1013 a dependency down, 1001 shutdown, 1011 write failed, 4400 bad frame, 4408 no hello, 1002 or 1007 a websocket protocol error, 1000 the client went away).", "code", func() map[string]float64 {
		out := map[string]float64{}
		for code, n := range m.Closed() {
			out[strconv.Itoa(code)] = float64(n)
		}
		return out
	})
	if c, ok := a.Broker.(realtime.Counting); ok {
		a.Metrics.Counter("jarimu_broker_subscriptions_total", "Redis subscriptions (re)established; each may have lost events and triggers a heal.", func() float64 { return float64(c.Counts().Subscriptions) })
		a.Metrics.Counter("jarimu_broker_publish_dropped_total", "Events not published to Redis (queue full or Redis down).", func() float64 { return float64(c.Counts().Dropped) })
	}
	a.registerPushMetrics()
	if a.Mail != nil {
		ms := &a.Mail.Stats
		a.Metrics.Counter("jarimu_mail_sent_total", "Mail messages the SMTP server took from this instance's outbox worker.", load(&ms.Sent))
		a.Metrics.Counter("jarimu_mail_retries_total", "Mail sending attempts that failed and will be retried (the SMTP server down or refusing for now).", load(&ms.Failed))
		a.Metrics.Counter("jarimu_mail_dropped_total", "Mail messages given up: refused for good by the SMTP server, or expired unsent (a reset link past its 30 minutes).", load(&ms.Dropped))
	}
	a.Metrics.DB(a.DB.DB.DB)
}

// Start runs the feed and the background jobs until Close.
func (a *App) Start(ctx context.Context) {
	ctx, a.stop = context.WithCancel(context.WithoutCancel(ctx))
	a.Hub.Run()
	a.wg.Go(func() { a.Broker.Run(ctx, a.Hub) })
	a.wg.Go(func() { a.Acks.Run(ctx) })
	a.wg.Go(func() { a.Chores.Run(ctx) })
	a.wg.Go(func() { a.Keys.Watch(ctx, a.keysReload) })
	a.wg.Go(func() { a.Push.Run(ctx) })
	if a.Mail != nil {
		a.wg.Go(func() { a.Mail.Run(ctx) })
	}
}

// Close ends the feed's connections (1001, so clients resume elsewhere),
// stops the background jobs, then closes Redis and the database.
func (a *App) Close() {
	if a.stop != nil {
		a.Hub.Close(a.shutdown)
		a.stop()
		a.wg.Wait()
		a.stop = nil
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// redisLog writes go-redis's log lines to the service's logger, at warn.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// loadVAPID reads the Web Push key pair: the shared file in scaled mode, or
// a file in the data dir generated on first start in embedded mode.
func loadVAPID(o Options, log *slog.Logger) (*push.VAPID, error) {
	switch {
	case o.VAPID != nil:
		return o.VAPID, nil
	case o.VAPIDKeysFile != "":
		v, err := push.LoadVAPIDFile(o.VAPIDKeysFile)
		if err != nil {
			return nil, fmt.Errorf("JARIMU_VAPID_KEYS_FILE: %w", err)
		}
		return v, nil
	case o.DatabaseURL != "":
		return nil, errors.New("JARIMU_VAPID_KEYS_FILE (-vapid-keys-file): required with JARIMU_DATABASE_URL, so every instance signs pushes alike; `jarimu keys new --file FILE` makes one beside the signing keys")
	}
	path := filepath.Join(o.DataDir, "vapid-keys.json")
	v, created, err := push.EnsureVAPIDFile(path, time.Now())
	if created {
		log.Info("generated Web Push (VAPID) keys", slog.String("file", path))
	}
	return v, err
}

// pushAlert queues the Web Push job of an alert event, in its transaction.
func (a *App) pushAlert(ctx context.Context, q bun.IDB, name string, al api.Alert) error {
	switch name {
	case alert.EventPublished:
		return a.Push.Queue(ctx, q, push.AlertJob(al))
	case alert.EventRetracted:
		return a.Push.Queue(ctx, q, push.RetractionJob(al))
	}
	return nil
}
