package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/migrations"
	"github.com/jarimu/jarimu/server"
)

func newLogger(c Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := c.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openDatabase opens and migrates the system of record.
func openDatabase(ctx context.Context, c Config, log *slog.Logger) (*db.DB, error) {
	d, err := db.Open(ctx, db.Options{URL: c.DatabaseURL, DataDir: c.DataDir})
	if err != nil {
		return nil, err
	}
	applied, err := migrations.Up(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrated", slog.Any("applied", applied))
	}
	return d, nil
}

// loadKeys reads the signing keys: the shared file in scaled mode, or a file
// in the data dir generated on first start in embedded mode.
func loadKeys(c Config, log *slog.Logger) (*auth.KeySet, error) {
	if c.JWTKeysFile != "" {
		return auth.LoadKeyFile(c.JWTKeysFile)
	}
	if c.DatabaseURL != "" {
		return nil, errors.New("JARIMU_JWT_KEYS_FILE (-jwt-keys-file): required with JARIMU_DATABASE_URL, so every instance signs and verifies alike; make one with `jarimu keys new --file FILE`")
	}
	path := filepath.Join(c.DataDir, "jwt-keys.json")
	keys, created, err := auth.EnsureKeyFile(path, time.Now())
	if created {
		log.Info("generated signing keys", slog.String("file", path))
	}
	return keys, err
}

// app is everything serve (and the admin command) builds from a Config.
type app struct {
	log    *slog.Logger
	db     *db.DB
	redis  *redis.Client
	keys   *auth.KeySet
	auth   *auth.Service
	idem   *idempotency.Store
	closer []func()
}

func (a *app) close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
}

// build makes the app in order: database, Redis, keys, services.
func build(ctx context.Context, c Config, log *slog.Logger) (*app, error) {
	a := &app{log: log}
	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return nil, err
	}
	a.db = d
	a.closer = append(a.closer, func() { d.Close() })
	if c.RedisURL != "" {
		opt, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("JARIMU_REDIS_URL: %w", err)
		}
		a.redis = redis.NewClient(opt)
		a.closer = append(a.closer, func() { a.redis.Close() })
	}
	if a.keys, err = loadKeys(c, log); err != nil {
		a.close()
		return nil, err
	}
	tokens := auth.NewTokens(a.keys, auth.TokenConfig{Issuer: c.TokenIssuer, Audience: c.TokenAudience, TTL: c.AccessTokenTTL}, nil)
	hasher := auth.NewHasher(auth.DefaultHashParams(), c.MaxConcurrentHashes, 2*time.Second)
	a.auth = auth.NewService(d, hasher, tokens, auth.Config{RefreshTTL: c.RefreshTokenTTL}, log)
	a.idem = idempotency.NewStore(d)
	return a, nil
}

// ready checks that the database and, when set, Redis answer.
func (a *app) ready(ctx context.Context) error {
	if err := a.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if a.redis != nil {
		if err := a.redis.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.close()
	srv := server.New(server.Deps{Log: log, Auth: a.auth, Keys: a.keys, Idempotency: a.idem, Ready: a.ready})
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("JARIMU_ADDR: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { a.janitor(jobs) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Bool("postgres", a.db.Postgres()),
		slog.Bool("redis", a.redis != nil), slog.Int("cpus", runtime.GOMAXPROCS(0)))
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		err = shutdown(srv, hs, c.ShutdownTimeout, log)
	}
	stopJobs()
	wg.Wait()
	return err
}

// shutdown drains: /readyz turns 503, then in-flight requests finish within
// the timeout.
func shutdown(srv *server.Server, hs *http.Server, timeout time.Duration, log *slog.Logger) error {
	log.Info("shutting down", slog.Duration("timeout", timeout))
	srv.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// janitor purges expired idempotency answers every hour until ctx ends.
func (a *app) janitor(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.idem.Purge(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge idempotency keys", slog.String("error", err.Error()))
		} else if n > 0 {
			a.log.Info("purged idempotency keys", slog.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
