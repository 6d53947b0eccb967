package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// A worker process holds part of a feed scenario's clients, so that the
// crowd is not bounded by one process's open files. It speaks lines over
// its standard input and output.
//
// From the parent, in this order:
//
//	opt ACK PARALLEL DELAY    ack 0 or 1; connections opened at once; the
//	                          acks' delay (a Go duration, 0s: each at once)
//	c INDEX USERID TOKEN URL  a client (any number)
//	connect                   connect every client (again: with resume)
//	drop                      drop every connection
//
// and the end of the input: drop everything and exit. From the worker:
//
//	r ALERTID INDEX UNIXNANO  client INDEX received alert ALERTID then
//	f INDEX                   client INDEX failed to connect
//	e INDEX WHY...            client INDEX's connection ended by itself
//	connected OK FAILED       after connect
//	dropped                   after drop

// command is one line from the parent.
type command struct {
	verb     string // opt, c, connect, drop
	ack      bool
	parallel int
	ackDelay time.Duration
	// a c line's client
	index              int
	userID, token, url string
}

// parseCommand reads a line from the parent.
func parseCommand(line string) (command, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return command{}, errors.New("empty line")
	}
	cmd := command{verb: f[0]}
	var err error
	switch {
	case f[0] == "opt" && len(f) == 4:
		cmd.ack = f[1] == "1"
		if f[1] != "0" && f[1] != "1" {
			return command{}, fmt.Errorf("opt: ack %q is not 0 or 1", f[1])
		}
		cmd.parallel, err = count(f[2])
		if err == nil && cmd.parallel == 0 {
			err = errors.New("opt: parallel 0")
		}
		if err == nil {
			cmd.ackDelay, err = time.ParseDuration(f[3])
			if err == nil && cmd.ackDelay < 0 {
				err = errors.New("opt: negative ack delay")
			}
		}
	case f[0] == "c" && len(f) == 5:
		cmd.userID, cmd.token, cmd.url = f[2], f[3], f[4]
		cmd.index, err = count(f[1])
	case (f[0] == "connect" || f[0] == "drop") && len(f) == 1:
	default:
		return command{}, fmt.Errorf("unknown command %q", short(line))
	}
	if err != nil {
		return command{}, fmt.Errorf("%q: %w", short(line), err)
	}
	return cmd, nil
}

// report is one line from a worker.
type report struct {
	verb        string // r, f, e, connected, dropped
	alertID     string
	why         string // with e
	index       int
	at          int64 // unix nanoseconds
	ok, failed  int
	failedIndex []int // with connected: the f lines before it
}

// parseReport reads a line from a worker.
func parseReport(line string) (report, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return report{}, errors.New("empty line")
	}
	m := report{verb: f[0]}
	var err, err2 error
	switch {
	case f[0] == "r" && len(f) == 4:
		m.alertID = f[1]
		m.index, err = count(f[2])
		m.at, err2 = strconv.ParseInt(f[3], 10, 64)
	case f[0] == "f" && len(f) == 2:
		m.index, err = count(f[1])
	case f[0] == "e" && len(f) >= 3:
		m.index, err = count(f[1])
		m.why = strings.Join(f[2:], " ")
	case f[0] == "connected" && len(f) == 3:
		m.ok, err = count(f[1])
		m.failed, err2 = count(f[2])
	case f[0] == "dropped" && len(f) == 1:
	default:
		return report{}, fmt.Errorf("unknown report %q", short(line))
	}
	if err = errors.Join(err, err2); err != nil {
		return report{}, fmt.Errorf("%q: %w", short(line), err)
	}
	return m, nil
}

// count reads a non-negative decimal.
func count(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return n, nil
}

// short cuts a line for an error message (a token is long and no one's
// business).
func short(line string) string {
	if len(line) > 40 {
		return line[:40] + "..."
	}
	return line
}

// Work is a worker process (`jarimu bench feed-worker`): it reads its
// clients and commands from in and writes receipts and replies to out,
// until in ends; then it drops every connection and returns.
func Work(ctx context.Context, in io.Reader, out io.Writer) error {
	sink := newLineSink(out)
	var clients []*feedClient
	defer func() {
		settleAcks(clients)
		dropAll(clients)
		sink.close()
	}()
	ack, parallel, ackDelay := false, 200, time.Duration(0)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		cmd, err := parseCommand(sc.Text())
		if err != nil {
			return fmt.Errorf("bench worker: %w", err)
		}
		switch cmd.verb {
		case "opt":
			ack, parallel, ackDelay = cmd.ack, cmd.parallel, cmd.ackDelay
		case "c":
			clients = append(clients, &feedClient{index: cmd.index, userID: cmd.userID, token: cmd.token, url: cmd.url, ack: ack, ackDelay: ackDelay, sink: sink})
		case "connect":
			_, failed := connectAll(ctx, clients, parallel, newProgress(nil, "", 0))
			for _, c := range clients {
				if c.ws == nil {
					sink.line(fmt.Sprintf("f %d\n", c.index))
				}
			}
			sink.line(fmt.Sprintf("connected %d %d\n", len(clients)-failed, failed))
		case "drop":
			dropAll(clients)
			sink.line("dropped\n")
		}
	}
	return sc.Err()
}

// lineSink writes lines to a worker's output from many goroutines: one
// writer, flushing whenever it has caught up, so a burst of receipts goes
// out in few writes and a lone reply at once.
type lineSink struct {
	ch   chan []byte
	done chan struct{}
}

func newLineSink(w io.Writer) *lineSink {
	s := &lineSink{ch: make(chan []byte, 8192), done: make(chan struct{})}
	go s.run(w)
	return s
}

func (s *lineSink) run(w io.Writer) {
	defer close(s.done)
	bw := bufio.NewWriterSize(w, 64<<10)
	for b := range s.ch {
		bw.Write(b) // after an error (the parent gone) it only drains
		if len(s.ch) == 0 {
			bw.Flush()
		}
	}
	bw.Flush()
}

// line sends one line (with its newline).
func (s *lineSink) line(l string) { s.ch <- []byte(l) }

// receipt sends client index's receipt of alert id at at.
func (s *lineSink) receipt(id string, index int, at time.Time) {
	b := make([]byte, 0, 24+len(id)+40)
	b = append(append(append(b, "r "...), id...), ' ')
	b = append(strconv.AppendInt(b, int64(index), 10), ' ')
	s.ch <- append(strconv.AppendInt(b, at.UnixNano(), 10), '\n')
}

// close sends what is queued and stops the writer; no line may follow.
func (s *lineSink) close() {
	close(s.ch)
	<-s.done
}
