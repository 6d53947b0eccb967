package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

// Minter issues access tokens for seeded accounts (auth.Tokens does).
type Minter interface {
	Issue(userID, role string) (string, time.Time, error)
}

// Seeder creates accounts in bulk (auth.Service does).
type Seeder interface {
	SeedUsers(ctx context.Context, n int, role, regionCode, prefix string) ([]string, error)
}

// Env is the running Jarimu under load and the means to set up accounts.
type Env struct {
	URLs   []string
	Minter Minter
	Seeder Seeder
	// ServerPIDs are local server processes: their resident memory and CPU
	// time (from /proc, summed) go into the feed scenario's figures.
	ServerPIDs []int
	// Worker starts one worker process (`jarimu bench feed-worker`, which
	// calls Work) for the feed scenarios' FeedOptions.Procs above 1.
	Worker func() *exec.Cmd
	// Transactions, when set, reads the database's committed and rolled
	// back transactions so far (PostgreSQL's pg_stat_database): the rate
	// mode reports the database work per second.
	Transactions func(ctx context.Context) (int64, error)
	Progress     io.Writer // progress bars (stderr); nil for none
	HTTP         *http.Client
	once         sync.Once
}

func (e *Env) url(i int) string { return e.URLs[i%len(e.URLs)] }

// httpClient is the one HTTP client of the run, so connections are reused.
func (e *Env) httpClient() *http.Client {
	e.once.Do(func() {
		if e.HTTP == nil {
			e.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
		}
	})
	return e.HTTP
}

// RaiseFileLimit lifts this process's open-file soft limit to its hard
// limit (each feed client holds a socket) and returns the limit.
func RaiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// receipt is one alert a client got: the alert by its number in the
// tally (finding one alert among a client's hundreds of receipts, for each
// of 10,000 clients, compares numbers, not 36-byte ids), and when.
type receipt struct {
	alert int32
	at    time.Time
}

// feedClient is one simulated phone: a websocket, the seqs it saw, and the
// alerts it received.
type feedClient struct {
	index              int // in the crowd: the URL and source address it uses
	userID, token, url string
	ack                bool // ack every event, as the console does
	// ackDelay, above 0, sends a client's acks as the console does: the
	// first event not yet acknowledged starts a timer of ackDelay, and
	// when it fires one ack per stream names the highest seq seen (the
	// console waits 150 ms). 0 acks each event at once.
	ackDelay time.Duration
	ws       *websocket.Conn
	// up marks a client a worker process holds as connected (Procs > 1).
	up bool
	// sink, in a worker process, takes the receipts (to the parent)
	// instead of receipts and the tally.
	sink     *lineSink
	last     map[string]int64
	mu       sync.Mutex
	receipts []receipt
	done     chan struct{}
	dropping bool       // under mu: drop is closing the connection
	lost     string     // under mu: why the connection ended by itself, if it did
	lostIn   *lostCount // the run's count of lost clients (none in a worker)
	acks     *acker     // the connection's delayed acks (ackDelay above 0)
}

// position is a stream's seq.
type position struct {
	stream string
	seq    int64
}

// dialer spreads connections over 127.0.0.x source addresses, so a single
// machine does not run out of ephemeral ports above ~28,000 connections.
func dialer(i int) *websocket.Dialer {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%250))}
	nd := &net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 15 * time.Second,
		Subprotocols: []string{api.FeedSubprotocol}, ReadBufferSize: 1024, WriteBufferSize: 1024}
}

func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/v1/feed"
}

// connect opens the feed, says hello (with resume when it has seen events)
// and waits for the welcome; then reads in the background.
func (c *feedClient) connect(ctx context.Context) error {
	ws, _, err := dialer(c.index).DialContext(ctx, wsURL(c.url), nil)
	if err != nil {
		return err
	}
	hello := api.ClientFrame{Type: "hello", Token: c.token}
	c.mu.Lock()
	if len(c.last) > 0 {
		hello.Resume = make(map[string]int64, len(c.last))
		for s, seq := range c.last {
			hello.Resume[s] = seq
		}
	}
	c.mu.Unlock()
	if err := ws.WriteJSON(hello); err != nil {
		ws.Close()
		return err
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var w api.Welcome
	if err := ws.ReadJSON(&w); err != nil || w.Type != "welcome" {
		ws.Close()
		return fmt.Errorf("no welcome: %v %q", err, w.Type)
	}
	ws.SetReadDeadline(time.Time{})
	c.mu.Lock()
	if c.last == nil {
		c.last = map[string]int64{}
	}
	for _, s := range w.Streams {
		if _, ok := c.last[s.Name]; !ok {
			c.last[s.Name] = s.Seq
		}
	}
	c.found()
	c.mu.Unlock()
	c.ws, c.done = ws, make(chan struct{})
	c.acks = nil
	if c.ack && c.ackDelay > 0 {
		c.acks = &acker{ws: ws, delay: c.ackDelay}
	}
	go c.read(ws, c.acks, c.done)
	return nil
}

// read records alert receipts, and acks every event when the client
// acks, until the connection ends; a connection that ends other than by
// drop marks the client lost.
func (c *feedClient) read(ws *websocket.Conn, acks *acker, done chan struct{}) {
	defer close(done)
	err := c.readFrames(ws, acks)
	if acks != nil {
		if why := acks.failed.Load(); why != nil && errors.Is(err, net.ErrClosed) {
			err = errors.New(*why) // the ack's failed write closed the connection
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dropping {
		c.lose(err.Error())
	}
}

// lostCount counts a run's lost clients: a connection that ended by itself
// (the server closed it, a write timed out) gets nothing more. Waiting for
// an alert does not wait for them (they count as missing), and the run
// reports them.
type lostCount struct {
	now  atomic.Int64           // lost and not connected again
	ever atomic.Int64           // lost during the run
	why  atomic.Pointer[string] // the first one's error
}

// lose marks the client lost (c.mu held), once per connection; a worker
// process tells the parent.
func (c *feedClient) lose(why string) {
	if c.lost != "" {
		return
	}
	c.lost = cmp.Or(strings.Join(strings.Fields(why), " "), "ended")
	if n := c.lostIn; n != nil {
		n.now.Add(1)
		n.ever.Add(1)
		why := c.lost
		n.why.CompareAndSwap(nil, &why)
	}
	if c.sink != nil {
		c.sink.line(fmt.Sprintf("e %d %s\n", c.index, c.lost))
	}
}

// found clears the lost mark of a client that connected again (c.mu held).
func (c *feedClient) found() {
	if c.lost != "" {
		c.lost = ""
		if c.lostIn != nil {
			c.lostIn.now.Add(-1)
		}
	}
}

// noteLost reports the clients of f lost during the run.
func noteLost(r *Result, f *fleet) {
	n := f.lost.ever.Load()
	r.set("connections_lost", n)
	if why := f.lost.why.Load(); n > 0 && why != nil {
		r.note("%d client connections ended by themselves during the run (the first: %s); what they did not get counts as missing", n, *why)
	}
}

// readFrames is read's loop; it returns why the connection ended. acks,
// when not nil, sends the acks later.
func (c *feedClient) readFrames(ws *websocket.Conn, acks *acker) error {
	var buf bytes.Buffer // reused: one frame at a time
	var ack []byte
	for {
		_, r, err := ws.NextReader()
		if err != nil {
			return err
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		b := buf.Bytes()
		now := time.Now()
		f, ok := parseEventFast(b)
		if !ok {
			if f, ok = parseEvent(b); !ok {
				continue
			}
		}
		c.mu.Lock()
		fresh := f.Seq > c.last[f.Stream]
		if fresh {
			c.last[f.Stream] = f.Seq
			if f.Event == "alert.published" {
				c.receive(f.DataID, now)
			}
		}
		c.mu.Unlock()
		if acks != nil {
			if fresh { // the console queues no ack for a repeat
				acks.later(f.Stream, f.Seq)
			}
		} else if c.ack {
			// This goroutine is the connection's only writer after hello.
			ack = appendAck(ack[:0], f.Stream, f.Seq)
			if err := ws.WriteMessage(websocket.TextMessage, ack); err != nil {
				return fmt.Errorf("ack: %w", err)
			}
		}
	}
}

// acker sends one connection's acks as the console does (feed.js
// queueAck): the first event not yet acknowledged starts a timer, and when
// it fires one ack per stream names the highest seq seen. Each connection
// has its own, so a timer of a dropped connection writes nothing on the
// next one.
type acker struct {
	ws      *websocket.Conn
	delay   time.Duration
	mu      sync.Mutex
	pending []position             // under mu
	armed   bool                   // under mu: the timer runs
	wmu     sync.Mutex             // held while the timer writes
	failed  atomic.Pointer[string] // why a write of acks failed
}

// later queues the ack of seq on stream and starts the timer if it is not
// running.
func (a *acker) later(stream string, seq int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := 0
	for i < len(a.pending) && a.pending[i].stream != stream {
		i++
	}
	if i == len(a.pending) {
		a.pending = append(a.pending, position{stream, seq})
	} else if seq > a.pending[i].seq {
		a.pending[i].seq = seq
	}
	if !a.armed {
		a.armed = true
		time.AfterFunc(a.delay, a.send)
	}
}

// send writes the queued acks, one frame per stream. wmu keeps a later
// timer from writing while this one still is. A failed write closes the
// connection, so its reader ends and the client counts as lost, as with an
// ack written at once.
func (a *acker) send() {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.mu.Lock()
	acks := append([]position(nil), a.pending...)
	a.pending, a.armed = a.pending[:0], false
	a.mu.Unlock()
	// A server that stopped reading cannot hold the write (and the end of
	// the run, which waits for it) for longer than this.
	a.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var b []byte
	for _, p := range acks {
		b = appendAck(b[:0], p.stream, p.seq)
		if err := a.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			why := "ack: " + err.Error()
			a.failed.CompareAndSwap(nil, &why)
			a.ws.Close()
			return
		}
	}
}

// settle waits until the queued acks are written, or until deadline.
func (a *acker) settle(deadline time.Time) {
	for {
		a.mu.Lock()
		armed := a.armed
		a.mu.Unlock()
		if !armed || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.wmu.Lock() // a write under way ends
	a.wmu.Unlock()
}

// receive records alert id received at (c.mu held): to the parent from a
// worker process, else in the client and the tally.
func (c *feedClient) receive(id string, at time.Time) {
	if c.sink != nil {
		c.sink.receipt(id, c.index, at)
		return
	}
	c.receipts = append(c.receipts, receipt{received.add(id), at})
}

// connected reports whether the client is on the feed, here or in a
// worker process.
func (c *feedClient) connected() bool { return c.ws != nil || c.up }

// appendAck appends the ack frame of seq on stream to b (stream names are
// plain ASCII: no escaping needed).
func appendAck(b []byte, stream string, seq int64) []byte {
	b = append(b, `{"type":"ack","stream":"`...)
	b = append(b, stream...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, '}')
}

// tally counts, per alert id, how many clients received it: waiting for
// an alert to reach everyone reads one counter instead of asking every
// client (which, every few milliseconds at 10,000 clients, would eat CPU
// the server under test needs).
// It also numbers the alerts in the order they are first received.
type tally struct {
	m    sync.Map // alert id: *tallied
	next atomic.Int32
}

// tallied is one alert's count and number.
type tallied struct {
	n   atomic.Int64
	num int32
}

// received is the tally of every client of this process (alert ids are
// unique, so scenarios running at once do not mix).
var received tally

// add counts one receipt of alert id and returns the alert's number.
func (t *tally) add(id string) int32 {
	v, ok := t.m.Load(id)
	if !ok {
		v, _ = t.m.LoadOrStore(strings.Clone(id), &tallied{num: t.next.Add(1)})
	}
	e := v.(*tallied)
	e.n.Add(1)
	return e.num
}

func (t *tally) count(id string) int64 {
	if v, ok := t.m.Load(id); ok {
		return v.(*tallied).n.Load()
	}
	return 0
}

// number is alert id's number, 0 when no client has received it.
func (t *tally) number(id string) int32 {
	if v, ok := t.m.Load(id); ok {
		return v.(*tallied).num
	}
	return 0
}

// eventFrame is what a simulated phone keeps of an event frame.
type eventFrame struct {
	Stream, Event, DataID string
	Seq                   int64
}

// parseEvent decodes an event frame with encoding/json; false for any
// other frame.
func parseEvent(b []byte) (eventFrame, bool) {
	var f struct {
		Type   string `json:"type"`
		Stream string `json:"stream"`
		Seq    int64  `json:"seq"`
		Event  string `json:"event"`
		Data   struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(b, &f) != nil || f.Type != "event" {
		return eventFrame{}, false
	}
	return eventFrame{Stream: f.Stream, Event: f.Event, DataID: f.Data.ID, Seq: f.Seq}, true
}

// parseEventFast reads an event frame laid out as the server writes it
// (api.EventFrame's fields in order; an alert's data starting with its id)
// without a full JSON decode: at 10,000 phones on the same cores as the
// server, encoding/json in the load generator took as much CPU as the
// server's fan-out. Anything else (other frames, escapes in a string, a
// different order) answers false and is decoded by parseEvent.
func parseEventFast(b []byte) (eventFrame, bool) {
	var f eventFrame
	rest, ok := bytes.CutPrefix(b, []byte(`{"type":"event","stream":"`))
	if !ok {
		return f, false
	}
	if f.Stream, rest, ok = cutString(rest); !ok {
		return f, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return f, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i < 18 {
		f.Seq = f.Seq*10 + int64(rest[i]-'0')
		i++
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"id":"`)); !ok || i == 0 {
		return f, false
	}
	if _, rest, ok = cutString(rest); !ok {
		return f, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"event":"`)); !ok {
		return f, false
	}
	if f.Event, rest, ok = cutString(rest); !ok {
		return f, false
	}
	if f.Event == "alert.published" {
		_, data, ok := bytes.Cut(rest, []byte(`,"data":{"id":"`))
		if !ok {
			return f, false
		}
		if f.DataID, _, ok = cutString(data); !ok {
			return f, false
		}
	}
	return f, bytes.HasSuffix(b, []byte("}"))
}

// cutString reads a JSON string's contents up to its closing quote; false
// when it has an escape or does not end.
func cutString(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, '"')
	if i < 0 || bytes.IndexByte(b[:i], '\\') >= 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

// got reports whether the client received alert id.
func (c *feedClient) got(id string) bool {
	num := received.number(id)
	if num == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.receipts) - 1; i >= 0; i-- {
		if c.receipts[i].alert == num {
			return true
		}
	}
	return false
}

// drop closes the connection abruptly (no close frame): a phone losing signal.
func (c *feedClient) drop() {
	if c.ws != nil {
		c.mu.Lock()
		c.dropping = true
		c.mu.Unlock()
		c.ws.NetConn().Close()
		<-c.done
		c.ws = nil
		c.mu.Lock()
		c.dropping = false
		c.mu.Unlock()
	}
}

// connectAll opens every client's feed with bounded parallelism and
// returns how long it took and how many failed.
func connectAll(ctx context.Context, clients []*feedClient, parallel int, p *progress) (time.Duration, int) {
	start := time.Now()
	var failed, done atomic.Int64
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, c := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.connect(ctx); err != nil {
				failed.Add(1)
			}
			p.show(int(done.Add(1)))
		})
	}
	wg.Wait()
	return time.Since(start), int(failed.Load())
}

// publishAlert posts an alert as the officer and returns its id and the
// database time it was published at.
func (e *Env) publishAlert(ctx context.Context, token, regionCode string, n int) (string, time.Time, error) {
	body := api.CreateAlertRequest{Title: fmt.Sprintf("Uji beban %d", n), Body: "Peringatan uji beban Jarimu", Severity: "info"}
	if regionCode != "" {
		body.RegionCode = &regionCode
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url(n)+"/v1/alerts", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.httpClient().Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	defer resp.Body.Close()
	var a api.Alert
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&a) != nil {
		msg, _ := io.ReadAll(resp.Body)
		return "", time.Time{}, fmt.Errorf("publish alert: %d %s", resp.StatusCode, msg)
	}
	return a.ID, a.PublishedAt, nil
}
