package push_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// world is an app whose pushes go to a local push service.
type world struct {
	*apptest.Env
	ps *pushtest.Service
}

// withPushService points the app's sender at ps: its host allowed, its
// certificate trusted, and workers that poll often.
func withPushService(ps *pushtest.Service, tune ...func(*push.Config)) apptest.Option {
	return func(o *app.Options) {
		o.Push = push.Config{Hosts: []string{ps.Host()}, Client: ps.Client(), Poll: 20 * time.Millisecond}
		for _, f := range tune {
			f(&o.Push)
		}
	}
}

// each runs fn on a fresh app of every backend with its own push service.
func each(t *testing.T, fn func(t *testing.T, w world), tune ...func(*push.Config)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ps := pushtest.New(t, "")
			e := apptest.Start(t, b, withPushService(ps, tune...))
			ps.SetVAPIDKey(e.App.VAPID.PublicKey())
			fn(t, world{Env: e, ps: ps})
		})
	}
}

// subscribe registers dev for the account of token.
func subscribe(t testing.TB, e *apptest.Env, token string, dev *pushtest.Device, events ...string) api.PushSubscription {
	t.Helper()
	body := map[string]any{"endpoint": dev.Endpoint, "keys": map[string]string{"p256dh": dev.P256dh(), "auth": dev.Auth()}}
	if events != nil {
		body["events"] = events
	}
	r := e.Do(t, "POST", "/v1/push/subscriptions", body, apptest.Bearer(token)...)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("subscribe: got %d %s", r.Status, r.Body)
	}
	var s api.PushSubscription
	r.Decode(t, &s)
	return s
}

// idle waits until the outbox holds no work.
func idle(t testing.TB, e *apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := e.App.Push.Backlog(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if b.Devices == 0 && b.Jobs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox not empty after 20 s: %+v", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// payload decodes a push's payload.
func payload(t testing.TB, m pushtest.Message) api.PushPayload {
	t.Helper()
	var p api.PushPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("payload %q: %v", m.Payload, err)
	}
	return p
}

// byDevice counts accepted pushes per device.
func byDevice(ms []pushtest.Message) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[m.Device]++
	}
	return out
}

func createAlert(t testing.TB, e *apptest.Env, token string, body map[string]any) api.Alert {
	t.Helper()
	r := e.Do(t, "POST", "/v1/alerts", body, apptest.Bearer(token)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create alert: got %d %s", r.Status, r.Body)
	}
	var a api.Alert
	r.Decode(t, &a)
	return a
}
