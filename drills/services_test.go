package drills_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jarimu/jarimu/apptest"
	"github.com/redis/go-redis/v9"
)

// The drills stop and restart servers of their own, started here as child
// processes on free loopback ports: never the machine's shared PostgreSQL
// (5432) or Redis (6379), which other test packages use at the same time.

// missing skips the drill when a server binary is not installed, except in
// CI, where every drill must run.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found, and CI=true: the fault drills must run in CI", what)
	}
	t.Skipf("%s not found: install it to run this drill (CI always runs it)", what)
}

// freePort is a loopback TCP port nobody listens on now, below the
// kernel's range of ephemeral ports when it can: a server the drill stops
// and starts again must find its port still free, and while it is down an
// outgoing connection of a test running beside it (thousands, in the feed's
// tests) could otherwise be given that very port as its own.
func freePort(t testing.TB) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	if low > 12000 {
		for range 200 {
			port := 10000 + rand.IntN(low-10000)
			if portsGiven[port] {
				continue
			}
			if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				ln.Close()
				portsGiven[port] = true
				return port
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// portsGiven are the ports freePort gave this process's drills.
var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// tail is the end of s, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// child is a server process of the drill's own.
type child struct {
	cmd  *exec.Cmd
	done chan error // receives Wait's result
}

func startChild(cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// exited reports whether the process has ended, and why.
func (c *child) exited() (bool, error) {
	select {
	case err := <-c.done:
		c.done <- err
		return true, err
	default:
		return false, nil
	}
}

// signal sends sig and waits up to wait for the process to end; then it is
// killed.
func (c *child) signal(sig syscall.Signal, wait time.Duration) {
	c.cmd.Process.Signal(sig)
	select {
	case err := <-c.done:
		c.done <- err
	case <-time.After(wait):
		c.cmd.Process.Kill()
		err := <-c.done
		c.done <- err
	}
}

// ---- PostgreSQL --------------------------------------------------------------

// pgServer is a PostgreSQL cluster of the drill's own, in a temporary
// directory, listening on 127.0.0.1:port with trust authentication.
type pgServer struct {
	t    testing.TB
	bin  string // directory of initdb and postgres
	root string // temporary directory: data/ and the socket
	port int
	cred *syscall.Credential // the postgres account's, when running as root
	log  *apptest.Logs

	mu   sync.Mutex
	proc *child
}

// postgresBin finds the directory of the server binaries: Debian's
// /usr/lib/postgresql/<version>/bin (the newest), else postgres on PATH.
func postgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if isFile(filepath.Join(dirs[i], "initdb")) && isFile(filepath.Join(dirs[i], "postgres")) {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && isFile(filepath.Join(filepath.Dir(p), "postgres")) {
		return filepath.Dir(p)
	}
	missing(t, "PostgreSQL's server binaries (initdb, postgres)")
	return ""
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// startPostgres makes a fresh cluster, starts it and creates the database
// "drill". It is stopped (immediate) and removed at cleanup. PostgreSQL
// refuses to run as root: as root, the cluster belongs to the postgres
// account and its processes run as that account.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	bin := postgresBin(t)
	root, err := os.MkdirTemp("", "jarimu-drill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	p := &pgServer{t: t, bin: bin, root: root, port: freePort(t), log: &apptest.Logs{}}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and PostgreSQL refuses root; no postgres account to run it as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o700); err != nil {
		t.Fatal(err)
	}
	initdb := p.command("initdb", "-D", p.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(p.kill)
	p.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		t.Fatalf("connect to the drill's PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE drill"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return p
}

func (p *pgServer) dataDir() string { return filepath.Join(p.root, "data") }

func (p *pgServer) url(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, database)
}

// URL is the drill database's URL.
func (p *pgServer) URL() string { return p.url("drill") }

func (p *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.root
	env := []string{"LC_ALL=C", "LANG=C", "HOME=" + p.root}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Its own process group (a ^C to the test is not a shutdown request);
	// killed if this process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start starts the server and waits until it accepts connections.
func (p *pgServer) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := p.command("postgres", "-D", p.dataDir(), "-p", strconv.Itoa(p.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+p.root,
		"-c", "fsync=off", "-c", "max_connections=100", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	proc, err := startChild(cmd)
	if err != nil {
		p.t.Fatalf("start postgres: %v", err)
	}
	p.proc = proc
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ok, err := proc.exited(); ok {
			p.t.Fatalf("postgres exited at start: %v\n%s", err, tail(p.log.String(), 2000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, p.url("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("postgres did not accept connections within 30 s: %v\n%s", err, tail(p.log.String(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Shutdown modes of PostgreSQL (pg_ctl stop -m): fast ends the sessions
// with a FATAL 57P01 and rolls back open transactions, as an operator's
// restart does; immediate quits at once, as a crash or a failover looks to
// clients (connections just break; crash recovery runs at the next start).
const (
	fast      = syscall.SIGINT
	immediate = syscall.SIGQUIT
)

// Stop shuts the server down in mode (fast or immediate) and waits until
// it has exited.
func (p *pgServer) Stop(mode syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	p.proc.signal(mode, 30*time.Second)
	p.proc = nil
}

// kill ends the server at cleanup ("immediate").
func (p *pgServer) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		p.proc.signal(immediate, 10*time.Second)
		p.proc = nil
	}
}

// ---- Redis -------------------------------------------------------------------

// redisServer is a Redis of the drill's own that keeps nothing on disk.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	log  *apptest.Logs

	mu   sync.Mutex
	proc *child
}

// startRedis starts a Redis on a free port, killed at cleanup.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server")
	}
	r := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: freePort(t), log: &apptest.Logs{}}
	t.Cleanup(r.Kill)
	r.Start()
	return r
}

// URL is the server's redis:// URL.
func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Start starts the server and waits for its PONG.
func (r *redisServer) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--protected-mode", "no")
	cmd.Stdout, cmd.Stderr = r.log, r.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	proc, err := startChild(cmd)
	if err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.proc = proc
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, err := proc.exited(); ok {
			r.t.Fatalf("redis-server exited at start: %v\n%s", err, tail(r.log.String(), 2000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server did not answer within 20 s: %v\n%s", err, tail(r.log.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server (SIGKILL: an outage, not a shutdown).
func (r *redisServer) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.signal(syscall.SIGKILL, 10*time.Second)
		r.proc = nil
	}
}

// logLines are the lines of a log that contain all of words.
func logLines(log string, words ...string) []string {
	var out []string
	for line := range strings.Lines(log) {
		ok := true
		for _, w := range words {
			if !strings.Contains(line, w) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}
