package realtime

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// A poller is an epoll instance that hears the sockets of some of the
// hub's connections (edge-triggered, for readable). Its goroutine waits in
// the runtime's own netpoller (the epoll descriptor is itself pollable),
// so no thread blocks on it; woken, it takes every ready socket and reads
// it in a pass (reader.go). The runtime keeps hearing the same sockets for
// the writes.
type poller struct {
	file   *os.File // the epoll descriptor, for the netpoller
	epfd   int      // used by add and remove without file's lock: the pollers close after every connection ended
	dead   atomic.Bool
	mu     sync.Mutex
	conns  map[int32]*conn // by socket descriptor
	gen    int32           // registrations so far, under mu: an event names its own (Pad)
	buf    []byte          // the passes' read buffer
	events []unix.EpollEvent
}

// pollers spread the connections over GOMAXPROCS pollers (by socket).
type pollers struct {
	ps  []*poller
	log *slog.Logger
}

// errWouldBlock is a read of an empty socket.
var errWouldBlock = unix.EAGAIN

// errSocketClosed is a socket closed before a poller could hear it.
var errSocketClosed = errors.New("socket closed")

// newPollers makes n pollers; an error (goroutine readers) when the
// system refuses.
func newPollers(n int, log *slog.Logger) (*pollers, error) {
	ps := &pollers{log: log}
	for range n {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			ps.close()
			return nil, err
		}
		ps.ps = append(ps.ps, &poller{file: os.NewFile(uintptr(fd), "feed-epoll"), epfd: fd,
			conns: map[int32]*conn{}, buf: make([]byte, passBuf), events: make([]unix.EpollEvent, 256)})
	}
	return ps, nil
}

// run serves the pollers until close; one goroutine each.
func (ps *pollers) run(start func(func())) {
	for _, p := range ps.ps {
		start(func() { p.run(ps) })
	}
}

// close stops the pollers (their connections have ended).
func (ps *pollers) close() {
	for _, p := range ps.ps {
		p.file.Close()
	}
}

func (p *poller) run(ps *pollers) {
	rc, err := p.file.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(uintptr) bool {
		for {
			n, err := unix.EpollWait(p.epfd, p.events, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				// Not seen; should it happen, the poller's connections go
				// silent and the watch ends them (their clients come back
				// to goroutine readers: add refuses).
				p.dead.Store(true)
				ps.log.Error("feed poller stopped", slog.String("error", err.Error()))
				return true
			}
			for _, ev := range p.events[:n] {
				p.mu.Lock()
				c := p.conns[ev.Fd]
				if c != nil && c.pollGen != ev.Pad {
					// For the socket that had this number before: it
					// closed after this batch was taken.
					c = nil
				}
				p.mu.Unlock()
				if c == nil {
					continue
				}
				if ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
					c.rstate.Or(rHup)
				}
				if c.claim() {
					c.pass(p.buf, true)
				}
			}
			if n < len(p.events) {
				return false // wait for the netpoller
			}
		}
	})
}

// add has a poller hear c's socket: errSocketClosed when it is closed
// already, another error when the poller cannot take it.
func (ps *pollers) add(c *conn, raw syscall.RawConn) error {
	c.raw = raw
	var err error
	cerr := raw.Control(func(f uintptr) {
		fd := int32(f)
		p := ps.ps[int(fd)%len(ps.ps)]
		if p.dead.Load() {
			err = errors.New("its poller stopped")
			return
		}
		c.pollFD = fd
		p.mu.Lock()
		p.gen++
		c.pollGen = p.gen
		p.conns[fd] = c
		p.mu.Unlock()
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd),
			&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: fd, Pad: c.pollGen})
		if err != nil {
			p.mu.Lock()
			delete(p.conns, fd)
			p.mu.Unlock()
		}
	})
	if cerr != nil {
		return errSocketClosed
	}
	return err
}

// remove stops hearing c's socket, before it closes. (A closed socket
// leaves the epoll set by itself; its number may be a new connection's
// by then, hence the check.)
func (ps *pollers) remove(c *conn) {
	p := ps.ps[int(c.pollFD)%len(ps.ps)]
	c.raw.Control(func(f uintptr) {
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(f), nil)
	})
	p.mu.Lock()
	if p.conns[c.pollFD] == c {
		delete(p.conns, c.pollFD)
	}
	p.mu.Unlock()
}

// readRaw reads what the socket holds, without waiting (errWouldBlock when
// it holds nothing).
func (c *conn) readRaw(b []byte) (int, error) {
	var n int
	var err error
	if cerr := c.raw.Read(func(fd uintptr) bool {
		for {
			n, err = unix.Read(int(fd), b)
			if err != unix.EINTR {
				return true
			}
		}
	}); cerr != nil {
		return 0, cerr
	}
	return n, err
}
