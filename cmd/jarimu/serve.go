package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/requestid"
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
		return slog.New(requestid.NewHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(requestid.NewHandler(slog.NewJSONHandler(w, opts)))
}

// options turns the Config into the app's options.
func options(c Config, log *slog.Logger) app.Options {
	return app.Options{
		DatabaseURL: c.DatabaseURL, DataDir: c.DataDir, RedisURL: c.RedisURL, JWTKeysFile: c.JWTKeysFile, KeysReload: keysReload(c.JWTKeysReload),
		VAPIDKeysFile: c.VAPIDKeysFile, Push: push.Config{Hosts: c.PushHosts, Subject: c.PushSubject, RatePerHost: float64(c.PushRate)},
		TokenIssuer: c.TokenIssuer, TokenAudience: c.TokenAudience, AccessTokenTTL: c.AccessTokenTTL,
		RefreshTokenTTL: c.RefreshTokenTTL, MaxConcurrentHashes: c.MaxConcurrentHashes, MaxOpenConns: c.DBMaxConns,
		MaxActiveClaims: c.MaxActiveClaims, EventRetention: c.EventRetention, OpenCache: c.OpenCache, FeedReaderGoroutines: c.FeedReaders == "goroutine", ShutdownTimeout: c.ShutdownTimeout,
		AllowedOrigins: c.AllowedOrigins, TrustedProxies: c.TrustedProxies, RedisPrefix: c.RedisPrefix, MetricsAddr: c.MetricsAddr, Limits: c.Limits, Log: log,
		EvidenceURL: c.EvidenceURL, EvidenceAccessKey: c.S3AccessKey, EvidenceSecretKey: c.S3SecretKey, EvidenceDir: c.EvidenceDir,
		SMTPURL: c.SMTPURL, MailFrom: c.MailFrom, PublicURL: c.PublicURL, Retention: c.Retention,
	}
}

// keysReload maps JARIMU_JWT_KEYS_RELOAD to app.Options.KeysReload, where
// 0 is the default and "never" is negative.
func keysReload(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if err := c.checkScaledEvidence(); err != nil {
		return err
	}
	log := newLogger(c, stderr)
	raiseFileLimit(log)
	a, err := app.New(ctx, options(c, log))
	if err != nil {
		return err
	}
	defer a.Close()
	srv := a.Server
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("JARIMU_ADDR: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// The whole body of a request, and its answer; evidence uploads
		// extend both on their connection (server.DefaultUploadIdle and
		// DefaultUploadTotal), so slow links still get a file through.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	a.Start(ctx)
	stopGC := onSignal(syscall.SIGUSR1, func() { freeMemory(log) })
	defer stopGC()
	stopReload := onSignal(syscall.SIGHUP, func() { reloadKeys(a) })
	defer stopReload()
	if c.MetricsAddr != "" {
		stop, err := serveMetrics(c.MetricsAddr, a, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Bool("postgres", a.DB.Postgres()),
		slog.Bool("redis", a.Redis != nil), slog.Bool("evidence_bucket", c.EvidenceURL != ""), slog.Int("cpus", runtime.GOMAXPROCS(0)))
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		err = shutdown(srv, hs, c.ShutdownTimeout, log)
	}
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

// raiseFileLimit lifts the open-file soft limit to the hard limit: each feed
// connection holds a socket, and the default soft limit (often 1024) would
// cap an instance at about a thousand volunteers.
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("read open-file limit", slog.String("error", err.Error()))
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("raise open-file limit", slog.String("error", err.Error()))
		}
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	log.Info("open-file limit", slog.Uint64("limit", lim.Cur),
		slog.Uint64("feed_connections_possible", lim.Cur-min(lim.Cur, 200)))
}

// serveMetrics serves GET /metrics on its own address (kept off the public
// listener); stop closes it.
func serveMetrics(addr string, a *app.App, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("JARIMU_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	// The Go profiler, for operators (this listener is internal): e.g.
	// go tool pprof http://ADDR/debug/pprof/profile?seconds=10
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	log.Info("metrics", slog.String("addr", ln.Addr().String()))
	return func() { hs.Close() }, nil
}

// onSignal runs fn each time the process gets sig, until stop.
func onSignal(sig os.Signal, fn func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ch:
				fn()
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// reloadKeys re-reads the signing key file (on SIGHUP; the ring logs what
// it found, and a bad file keeps the keys in force).
func reloadKeys(a *app.App) {
	a.Log.Info("SIGHUP: reloading the signing keys", slog.String("file", a.Keys.Path()))
	a.Keys.Reload()
}

// freeMemory runs a garbage collection and returns freed memory to the
// operating system (on SIGUSR1), logging the heap before and after: for
// operators checking memory, and for `jarimu bench` measuring memory per
// connection "after a GC".
func freeMemory(log *slog.Logger) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// Each collection halves the stacks of goroutines that use little of
	// theirs (idle feed connections); a few in a row bring them down to
	// size before memory is returned.
	for range 3 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	log.Info("freed memory", slog.Uint64("heap_inuse_before", before.HeapInuse),
		slog.Uint64("heap_inuse_after", after.HeapInuse), slog.Uint64("stack_inuse", after.StackInuse))
}
