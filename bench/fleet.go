package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// fleet is a scenario's crowd of phones: connected from this process, or
// (Procs above 1) split over worker processes that report every receipt
// back, so the bookkeeping (clients' receipts, the tally) is the same.
type fleet struct {
	clients []*feedClient
	workers []*worker // none: the clients connect here
	lost    lostCount
}

// startWorkers splits f's clients over procs worker processes, each
// getting its options and its clients; connect connects them.
func (e *Env) startWorkers(f *fleet, procs int, o FeedOptions) error {
	if e.Worker == nil {
		return errors.New("bench: more than one process needs Env.Worker")
	}
	n := len(f.clients)
	for k := range procs {
		w := &worker{n: k + 1, lo: k * n / procs, hi: (k + 1) * n / procs,
			replies: make(chan report, 4), done: make(chan struct{})}
		err := w.start(e, f.clients, o, max(1, o.Parallel/procs))
		if w.cmd != nil { // started
			f.workers = append(f.workers, w)
		}
		if err != nil {
			return errors.Join(err, f.close())
		}
	}
	return nil
}

// cpu is the CPU time the load generator's clients have used so far: this
// process's, or with workers the sum of theirs (the parent then only
// waits and counts).
func (f *fleet) cpu() (time.Duration, error) {
	if len(f.workers) == 0 {
		return cpuTime(os.Getpid())
	}
	var sum time.Duration
	for _, w := range f.workers {
		d, err := cpuTime(w.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// connect opens every client's feed (again) and returns how long it took
// and how many failed.
func (f *fleet) connect(ctx context.Context, parallel int, p *progress) (time.Duration, int, error) {
	if len(f.workers) == 0 {
		took, failed := connectAll(ctx, f.clients, parallel, p)
		return took, failed, nil
	}
	start := time.Now()
	for _, w := range f.workers {
		if err := w.send("connect\n"); err != nil {
			return 0, 0, err
		}
	}
	failed, done := 0, 0
	for _, w := range f.workers {
		m, err := w.await(ctx, "connected")
		if err != nil {
			return 0, 0, err
		}
		for _, c := range f.clients[w.lo:w.hi] {
			c.up = true
			c.mu.Lock()
			c.found()
			c.mu.Unlock()
		}
		for _, i := range m.failedIndex {
			f.clients[i].up = false
		}
		failed += m.failed
		done += m.ok + m.failed
		p.show(done)
	}
	return time.Since(start), failed, nil
}

// drop drops every connection, as phones losing signal.
func (f *fleet) drop(ctx context.Context) error {
	if len(f.workers) == 0 {
		dropAll(f.clients)
		return nil
	}
	for _, w := range f.workers {
		if err := w.send("drop\n"); err != nil {
			return err
		}
	}
	for _, w := range f.workers {
		if _, err := w.await(ctx, "dropped"); err != nil {
			return err
		}
		for _, c := range f.clients[w.lo:w.hi] {
			c.up = false
		}
	}
	return nil
}

// err is the failure of a worker that ended before close, if any.
func (f *fleet) err() error {
	for _, w := range f.workers {
		select {
		case <-w.done:
			return w.failure()
		default:
		}
	}
	return nil
}

// close waits for the clients' delayed acks, drops every connection and
// ends the workers: their input ends (each waits for its clients' acks
// too), and one that has not exited 30 s later is killed. The error is of
// a worker that failed (exited with an error, or before).
func (f *fleet) close() error {
	settleAcks(f.clients)
	dropAll(f.clients)
	for _, w := range f.workers {
		w.closing.Store(true)
		w.stdin.Close()
	}
	for _, w := range f.workers {
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			w.cmd.Process.Kill()
			<-w.done
		}
	}
	var errs []error
	for _, w := range f.workers {
		errs = append(errs, w.err)
	}
	return errors.Join(errs...)
}

// closeFleet closes f when a scenario returns, making its error the
// scenario's when it had none.
func closeFleet(f *fleet, err *error) {
	if cerr := f.close(); *err == nil {
		*err = cerr
	}
}

// worker is the parent's end of one worker process, which holds the
// clients lo to hi (not included).
type worker struct {
	n       int // 1, 2, ...: names it in errors
	lo, hi  int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	in      *bufio.Writer
	replies chan report   // connected and dropped
	done    chan struct{} // closed when its output ended and it exited
	err     error         // why it ended, set before done is closed
	closing atomic.Bool   // close ended its input: exiting is no failure
}

// start runs the worker process, reads its output in the background and
// sends it its options and clients.
func (w *worker) start(e *Env, clients []*feedClient, o FeedOptions, parallel int) error {
	cmd := e.Worker()
	log := e.Progress
	if log == nil {
		log = os.Stderr
	}
	cmd.Stderr = &prefixWriter{w: log, prefix: fmt.Sprintf("bench worker %d: ", w.n)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench worker %d: %w", w.n, err)
	}
	w.cmd, w.stdin, w.in = cmd, stdin, bufio.NewWriterSize(stdin, 64<<10)
	// The process is running: from here on close ends it.
	go w.read(stdout, clients)
	a := 0
	if o.Ack {
		a = 1
	}
	fmt.Fprintf(w.in, "opt %d %d %s\n", a, parallel, o.AckDelay)
	for _, c := range clients[w.lo:w.hi] {
		fmt.Fprintf(w.in, "c %d %s %s %s\n", c.index, c.userID, c.token, c.url)
	}
	return w.flush()
}

// send writes a command line.
func (w *worker) send(line string) error {
	w.in.WriteString(line)
	return w.flush()
}

func (w *worker) flush() error {
	if err := w.in.Flush(); err != nil {
		select {
		case <-w.done:
			return w.failure()
		case <-time.After(5 * time.Second):
			return fmt.Errorf("bench worker %d: %w", w.n, err)
		}
	}
	return nil
}

// await waits for the reply verb; a reply the worker sent before it ended
// still counts.
func (w *worker) await(ctx context.Context, verb string) (report, error) {
	var m report
	select {
	case m = <-w.replies:
	case <-w.done:
		select {
		case m = <-w.replies:
		default:
			return report{}, w.failure()
		}
	case <-ctx.Done():
		return report{}, ctx.Err()
	}
	if m.verb != verb {
		return report{}, fmt.Errorf("bench worker %d: got %q, want %q", w.n, m.verb, verb)
	}
	return m, nil
}

// failure is why the worker ended; only after done.
func (w *worker) failure() error {
	if w.err != nil {
		return w.err
	}
	return fmt.Errorf("bench worker %d: closed", w.n)
}

// read takes the worker's output until it ends: receipts into the clients
// and the tally, replies to w.replies. A line it cannot read kills the
// worker. Then it waits for the process and says why it ended.
func (w *worker) read(r io.Reader, clients []*feedClient) {
	defer close(w.done)
	var failed []int
	var bad error
	sc := bufio.NewScanner(r)
	for bad == nil && sc.Scan() {
		m, err := parseReport(sc.Text())
		if err == nil && (m.verb == "r" || m.verb == "f" || m.verb == "e") && (m.index < w.lo || m.index >= w.hi) {
			err = fmt.Errorf("client %d is not this worker's", m.index)
		}
		switch {
		case err != nil:
			bad = err
		case m.verb == "r":
			num := received.add(m.alertID)
			c := clients[m.index]
			c.mu.Lock()
			c.receipts = append(c.receipts, receipt{num, time.Unix(0, m.at)})
			c.mu.Unlock()
		case m.verb == "f":
			failed = append(failed, m.index)
		case m.verb == "e":
			c := clients[m.index]
			c.mu.Lock()
			c.lose(m.why)
			c.mu.Unlock()
		default:
			m.failedIndex, failed = failed, nil
			w.replies <- m
		}
	}
	if bad == nil {
		bad = sc.Err()
	}
	if bad != nil {
		w.cmd.Process.Kill()
	}
	exit := w.cmd.Wait()
	switch {
	case bad != nil:
		w.err = fmt.Errorf("bench worker %d: %w", w.n, bad)
	case !w.closing.Load():
		w.err = fmt.Errorf("bench worker %d ended during the run (%v)", w.n, exit)
	case exit != nil:
		w.err = fmt.Errorf("bench worker %d: %w", w.n, exit)
	}
}

// prefixWriter writes each whole line with a prefix (a worker's stderr).
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}
