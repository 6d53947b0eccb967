package main

import (
	"context"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// Two `jarimu serve` processes over one PostgreSQL push a national alert to
// 1,000 devices at a local push service; process A is SIGKILLed while
// pushes of its locked batches are in flight (held unanswered by the push
// service, so the kill lands mid-batch). Process B takes A's batches over:
// every device gets the alert exactly once, and the pushes A never got an
// answer for (which a push service does not count as accepted) are sent by B.
func TestPushSurvivesSIGKILLMidBatch(t *testing.T) {
	o, keys := postgresWithKeys(t)
	ps := pushtest.New(t, "")
	vapid, err := push.LoadVAPIDFile(vapidBeside(keys))
	if err != nil {
		t.Fatal(err)
	}
	ps.SetVAPIDKey(vapid.PublicKey())
	// The processes trust the push service's certificate, and only it.
	ca := filepath.Join(t.TempDir(), "push-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ps.Server.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JARIMU_DATABASE_URL": o.URL, "JARIMU_JWT_KEYS_FILE": keys, "JARIMU_VAPID_KEYS_FILE": vapidBeside(keys),
		"JARIMU_DATA_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR": t.TempDir(), "JARIMU_EVIDENCE_DIR_SHARED": "true", "JARIMU_PUSH_HOSTS": ps.Host(), "SSL_CERT_FILE": ca, "JARIMU_LOG_FORMAT": "json"}

	// Seed accounts and devices, and publish the alert, with the app built
	// in this process (its workers never run: only the processes push).
	devices, alertID := seedPushWorld(t, env, ps, 100, 10)

	a := startServe(t, env, freeAddr(t))
	ps.Wait(t, 60*time.Second, "100 pushes from A", func(ms []pushtest.Message) bool {
		if len(ms) >= 100 {
			ps.Hold()
			return true
		}
		return false
	})
	waitStable(t, ps)
	if ps.Held() == 0 {
		t.Fatal("no push of A in flight")
	}
	time.Sleep(200 * time.Millisecond) // A wrote the outcomes of the pushes answered before the hold
	heldByA := ps.Held()               // all A's: B is not running yet
	startServe(t, env, freeAddr(t))
	a.kill()
	deadline := time.Now().Add(10 * time.Second)
	for ps.Abandoned() < heldByA && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the push service sees A's connections close
	}
	ps.Release()

	ps.Wait(t, 90*time.Second, "the alert on every device", func(ms []pushtest.Message) bool { return len(ms) >= len(devices) })
	time.Sleep(time.Second) // nothing more comes
	ms := ps.Messages()
	got := map[string]int{}
	for _, m := range ms {
		got[m.Device]++
	}
	for _, d := range devices {
		if got[d.ID] != 1 {
			t.Errorf("device %s got the alert %d times, want once", d.ID, got[d.ID])
		}
	}
	if len(ms) != len(devices) {
		t.Fatalf("got %d pushes for %d devices", len(ms), len(devices))
	}
	if ps.Abandoned() < heldByA {
		t.Fatalf("%d of A's %d held pushes lost their sender: A was not killed mid-batch", ps.Abandoned(), heldByA)
	}
	if errs := ps.Errors(); len(errs) > 0 {
		t.Fatalf("push service refused pushes: %v", errs[:min(len(errs), 3)])
	}
	t.Logf("A had %d pushes in flight when killed; B sent the rest; alert %s", heldByA, alertID)
}

// waitStable waits until the number of held pushes stops changing.
func waitStable(t *testing.T, ps *pushtest.Service) {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n := ps.Held(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 300*time.Millisecond {
			return
		}
	}
	t.Fatalf("held pushes did not settle (%d)", last)
}

// seedPushWorld makes users volunteers with perUser devices each and a
// national critical alert, through an app on the processes' database.
func seedPushWorld(t *testing.T, env map[string]string, ps *pushtest.Service, users, perUser int) ([]*pushtest.Device, string) {
	t.Helper()
	ctx := context.Background()
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := loadConfig(fs, nil, envFunc(env))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, options(c, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ids, err := a.Auth.SeedUsers(ctx, users, api.RoleVolunteer, "31", "push-kill")
	if err != nil {
		t.Fatal(err)
	}
	var devices []*pushtest.Device
	for _, id := range ids {
		for range perUser {
			d := ps.NewDevice(t)
			if _, _, err := a.Push.Subscribe(ctx, id, api.SubscribeRequest{Endpoint: d.Endpoint,
				Keys: api.PushKeys{P256dh: d.P256dh(), Auth: d.Auth()}}); err != nil {
				t.Fatal(err)
			}
			devices = append(devices, d)
		}
	}
	officer, err := a.Auth.CreateUser(ctx, nil, api.CreateUserRequest{Email: "pusat@bawaslu.go.id", Name: "Bawaslu RI",
		Role: api.RoleOfficer, Password: "kawal-pemilu-jujur"})
	if err != nil {
		t.Fatal(err)
	}
	al, err := a.Alerts.Create(ctx, auth.Principal{UserID: officer.ID, Role: api.RoleOfficer},
		api.CreateAlertRequest{Title: "Hoaks nasional", Body: "Untuk semua relawan.", Severity: "critical"})
	if err != nil {
		t.Fatal(err)
	}
	return devices, al.ID
}
