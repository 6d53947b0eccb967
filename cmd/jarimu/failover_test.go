package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/notice"
)

// phone is a raw feed client that, when its instance dies, reconnects to
// the next one with resume, and records every event frame it gets.
type phone struct {
	token string
	mu    sync.Mutex
	last  map[string]int64
	seen  []string // "stream seq" of every event frame, in arrival order
}

func (ph *phone) connect(url string) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"/v1/feed", http.Header{})
	if err != nil {
		return nil, err
	}
	ph.mu.Lock()
	hello := api.ClientFrame{Type: "hello", Token: ph.token, Resume: map[string]int64{}}
	for s, seq := range ph.last {
		hello.Resume[s] = seq
	}
	ph.mu.Unlock()
	ws.WriteJSON(hello)
	var w api.Welcome
	if err := ws.ReadJSON(&w); err != nil {
		ws.Close()
		return nil, err
	}
	ph.mu.Lock()
	for _, s := range w.Streams {
		if _, ok := ph.last[s.Name]; !ok {
			ph.last[s.Name] = s.Seq
		}
	}
	ph.mu.Unlock()
	return ws, nil
}

// run reads events, and on any disconnect moves to the other instance.
func (ph *phone) run(ctx context.Context, urls []string, connected chan<- struct{}) {
	i := 1 // start on the second instance, the one that will die
	first := true
	for ctx.Err() == nil {
		ws, err := ph.connect(urls[i%len(urls)])
		if err != nil {
			i++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if first {
			connected <- struct{}{}
			first = false
		}
		stop := context.AfterFunc(ctx, func() { ws.Close() })
		for {
			var f api.EventFrame
			if err := ws.ReadJSON(&f); err != nil {
				break
			}
			if f.Type != "event" {
				continue
			}
			ph.mu.Lock()
			ph.seen = append(ph.seen, fmt.Sprintf("%s %d", f.Stream, f.Seq))
			ph.last[f.Stream] = f.Seq
			ph.mu.Unlock()
		}
		stop()
		ws.Close()
		i++
	}
}

// An instance is killed (SIGKILL, no goodbye) while phones are connected to
// it and alerts are being published through the other: every phone moves to
// the surviving instance with resume and ends with every alert exactly
// once, in order.
func TestFailoverAfterSIGKILL(t *testing.T) {
	if !contains(dbtest.Backends(t), dbtest.Postgres) || os.Getenv("JARIMU_TEST_REDIS_URL") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run this with JARIMU_TEST_DATABASE_URL and JARIMU_TEST_REDIS_URL")
		}
		t.Skip("needs JARIMU_TEST_DATABASE_URL and JARIMU_TEST_REDIS_URL (always set in CI)")
	}
	ctx := context.Background()
	o := dbtest.Options(t, dbtest.Postgres)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := run(ctx, []string{"keys", "new", "--file", keys}, envFunc(nil), nil, nopWriter{}, nopWriter{}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_JWT_KEYS_FILE": keys, "JARIMU_VAPID_KEYS_FILE": vapidBeside(keys),
		"JARIMU_REDIS_URL": os.Getenv("JARIMU_TEST_REDIS_URL"), "JARIMU_REDIS_PREFIX": fmt.Sprintf("failover%d:", time.Now().UnixNano()),
		"JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true"}
	args := []string{"admin", "create-user", "--email", "officer@bawaslu.go.id", "--name", "Officer", "--role", "officer"}
	if err := run(ctx, args, envFunc(env), strings.NewReader("kawal-pemilu-jujur\n"), nopWriter{}, nopWriter{}); err != nil {
		t.Fatal(err)
	}
	a, b := startServe(t, env, freeAddr(t)), startServe(t, env, freeAddr(t))
	urls := []string{a.URL, b.URL}
	officer := client.New(a.URL)
	if _, err := officer.Login(ctx, "officer@bawaslu.go.id", "kawal-pemilu-jujur"); err != nil {
		t.Fatal(err)
	}
	const phones, alerts = 12, 30
	feedCtx, stopFeeds := context.WithCancel(ctx)
	defer stopFeeds()
	connected := make(chan struct{}, phones)
	var all []*phone
	var wg sync.WaitGroup
	for i := range phones {
		c := client.New(a.URL)
		resp, err := c.Signup(ctx, api.SignupRequest{Email: fmt.Sprintf("hp%d@example.org", i), Password: "kawal-pemilu-jujur", Name: "HP", RegionCode: ptr("3171"), PrivacyVersion: notice.Version})
		if err != nil {
			t.Fatal(err)
		}
		ph := &phone{token: resp.Tokens.AccessToken, last: map[string]int64{}}
		all = append(all, ph)
		wg.Go(func() { ph.run(feedCtx, urls, connected) })
	}
	for range phones {
		<-connected
	}
	for n := range alerts {
		if n == alerts/3 {
			b.kill() // the phones' instance dies mid-stream
		}
		region := "31"
		if _, err := officer.CreateAlert(ctx, api.CreateAlertRequest{Title: fmt.Sprintf("Peringatan %d", n), Body: "uji", Severity: "info", RegionCode: &region}); err != nil {
			t.Fatalf("alert %d: %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := make([]string, alerts)
	for i := range want {
		want[i] = fmt.Sprintf("region:31 %d", i+1)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, ph := range all {
		for {
			ph.mu.Lock()
			got := ph.last["region:31"]
			ph.mu.Unlock()
			if got >= alerts || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	stopFeeds()
	wg.Wait()
	for i, ph := range all {
		var got []string
		for _, s := range ph.seen {
			if strings.HasPrefix(s, "region:31 ") {
				got = append(got, s)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("phone %d: got %v, want every alert once in order: %v", i, got, want)
		}
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
