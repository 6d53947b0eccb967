package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
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
	URLs      []string
	Minter    Minter
	Seeder    Seeder
	ServerPID int       // read RSS from /proc when > 0
	Progress  io.Writer // progress bars (stderr); nil for none
	HTTP      *http.Client
	once      sync.Once
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

// receipt is one event a client got.
type receipt struct {
	alertID string
	at      time.Time
}

// feedClient is one simulated phone: a websocket, the seqs it saw, and the
// alerts it received.
type feedClient struct {
	userID, token, url string
	ws                 *websocket.Conn
	last               map[string]int64
	mu                 sync.Mutex
	receipts           []receipt
	done               chan struct{}
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
func (c *feedClient) connect(ctx context.Context, i int) error {
	ws, _, err := dialer(i).DialContext(ctx, wsURL(c.url), nil)
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
	c.mu.Unlock()
	c.ws, c.done = ws, make(chan struct{})
	go c.read(ws, c.done)
	return nil
}

// read records alert receipts and acks them, until the connection ends.
func (c *feedClient) read(ws *websocket.Conn, done chan struct{}) {
	defer close(done)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
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
			continue
		}
		c.mu.Lock()
		if f.Seq > c.last[f.Stream] {
			c.last[f.Stream] = f.Seq
			if f.Event == "alert.published" {
				c.receipts = append(c.receipts, receipt{f.Data.ID, now})
			}
		}
		c.mu.Unlock()
	}
}

// got reports whether the client received alert id.
func (c *feedClient) got(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.receipts) - 1; i >= 0; i-- {
		if c.receipts[i].alertID == id {
			return true
		}
	}
	return false
}

// drop closes the connection abruptly (no close frame): a phone losing signal.
func (c *feedClient) drop() {
	if c.ws != nil {
		c.ws.NetConn().Close()
		<-c.done
		c.ws = nil
	}
}

// connectAll opens every client's feed with bounded parallelism and
// returns how long it took and how many failed.
func connectAll(ctx context.Context, clients []*feedClient, parallel int, p *progress) (time.Duration, int) {
	start := time.Now()
	var failed, done atomic.Int64
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, c := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.connect(ctx, i); err != nil {
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
