package push_test

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// seedDevices makes n volunteers of region with perUser devices each at
// ps, subscribed through the service, and returns the devices.
func seedDevices(t testing.TB, e *apptest.Env, ps *pushtest.Service, users, perUser int, region string) []*pushtest.Device {
	t.Helper()
	ctx := context.Background()
	ids, err := e.App.Auth.SeedUsers(ctx, users, "volunteer", region, "push-"+region)
	if err != nil {
		t.Fatal(err)
	}
	var devs []*pushtest.Device
	for _, id := range ids {
		for range perUser {
			d := ps.NewDevice(t)
			req := api.SubscribeRequest{Endpoint: d.Endpoint, Keys: api.PushKeys{P256dh: d.P256dh(), Auth: d.Auth()}}
			if _, _, err := e.App.Push.Subscribe(ctx, id, req); err != nil {
				t.Fatal(err)
			}
			devs = append(devs, d)
		}
	}
	return devs
}

// Two instances work one national alert's batches together; one of them
// is stopped while its batches are locked and its pushes are in flight
// (held unanswered by the push service). The other takes its batches over:
// every device gets the alert exactly once, and the pushes the stopped
// instance never got an answer for are sent again, not lost.
func TestTwoInstancesPushEachDeviceOnce(t *testing.T) {
	if !contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("SQLite runs one push worker; set JARIMU_TEST_DATABASE_URL for PostgreSQL")
	}
	ps := pushtest.New(t, "")
	tune := func(c *push.Config) { c.BatchSize, c.Concurrency, c.Workers, c.ExpandRound = 20, 4, 2, 90 }
	a, b := apptest.Two(t, dbtest.Postgres, withPushService(ps, tune))
	ps.SetVAPIDKey(a.App.VAPID.PublicKey())
	devs := seedDevices(t, a, ps, 40, 10, "31")
	officer := a.User(t, "officer", "pusat", "")

	// The push service answers the first 100 pushes, then holds every
	// push until both instances have all their senders in flight.
	createAlert(t, a, officer.Tokens.AccessToken, map[string]any{"title": "Nasional", "body": "Semua relawan.", "severity": "critical"})
	ps.Wait(t, 20*time.Second, "100 pushes", func(ms []pushtest.Message) bool {
		if len(ms) >= 100 {
			ps.Hold()
			return true
		}
		return false
	})
	// Every sender of both instances ends up waiting on a held push: there
	// are batches enough for all of them.
	held := settle(t, ps)
	// Every answered push's outcome is written (flushed every 50 ms, later
	// on a loaded machine) before A stops: those are not sent again.
	answered := len(ps.Messages())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := a.App.DB.NewRaw("SELECT count(*) FROM push_deliveries").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n >= answered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outcomes written of %d answered pushes", n, answered)
		}
	}
	a.HTTP.Close()
	a.App.Close() // A's workers stop mid-batch: their transactions roll back, their locks go
	// The push service sees A's held pushes go (their connections close)
	// before it answers the rest: one answered after its sender gave up
	// would be sent again by B, rightly (A never learnt it was accepted).
	if n := settle(t, ps); n >= held {
		t.Fatalf("%d pushes held after A stopped, %d before: A's senders were not waiting", n, held)
	}
	ps.Release()

	ms := ps.Wait(t, 60*time.Second, "the alert on every device", func(ms []pushtest.Message) bool { return len(ms) >= len(devs) })
	idle(t, b)
	time.Sleep(300 * time.Millisecond)
	ms = ps.Messages()
	got := byDevice(ms)
	for _, d := range devs {
		if got[d.ID] != 1 {
			t.Errorf("device %s got the alert %d times, want once", d.ID, got[d.ID])
		}
	}
	if len(ms) != len(devs) {
		t.Fatalf("got %d pushes for %d devices", len(ms), len(devs))
	}
	if ps.Abandoned() == 0 {
		t.Fatalf("no push of the stopped instance was in flight: the test did not stop it mid-batch")
	}
	if errs := ps.Errors(); len(errs) > 0 {
		t.Fatalf("push service refused pushes: %v", errs[:min(len(errs), 3)])
	}
	if st := b.App.Push.Stats(); st.Sent == 0 || st.Sent == int64(len(devs)) {
		t.Fatalf("instance B sent %d pushes: want a share, with A's part before it stopped", st.Sent)
	}
}

// settle waits until the number of held pushes has not changed for 300 ms
// (and is not zero), and returns it.
func settle(t *testing.T, ps *pushtest.Service) int {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n := ps.Held(); n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > 300*time.Millisecond {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("held pushes did not settle (%d)", last)
		}
	}
}

func contains(bs []dbtest.Backend, b dbtest.Backend) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}
