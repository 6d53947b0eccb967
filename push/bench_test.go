package push_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// BenchmarkNationalAlert publishes a national alert to 100,000 devices
// (JARIMU_PUSH_BENCH_DEVICES changes it) at the local push service, which
// checks every push's headers and decrypts one in a hundred, and measures:
// the commit of the alert with its push job against alerts committed with
// no push hook; how long after the commit the job is cut into batches
// ("queued"); how long until the push service accepted every device's
// push ("sent"); and the pushes per second. Cases: one instance, two
// instances (in this one process: they share its two cores), one instance
// held to 1,000 pushes per second by JARIMU_PUSH_RATE.
// Run once: go test -run X -bench NationalAlert -benchtime 1x ./push
func BenchmarkNationalAlert(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("JARIMU_PUSH_BENCH_DEVICES")); err == nil && v > 0 {
		n = v
	}
	for _, backend := range dbtest.Backends(b) {
		for _, c := range []struct {
			name      string
			instances int
			rate      float64
		}{{"one", 1, 0}, {"two", 2, 0}, {"one-rate-1000", 1, 1000}} {
			if c.instances == 2 && backend != dbtest.Postgres {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s/devices=%d", backend, c.name, n), func(b *testing.B) {
				for range b.N {
					benchNationalAlert(b, backend, c.instances, c.rate, n)
				}
			})
		}
	}
}

func benchNationalAlert(b *testing.B, backend dbtest.Backend, instances int, rate float64, n int) {
	b.StopTimer()
	ctx := context.Background()
	ps := pushtest.New(b, "")
	ps.CheckEvery(100)
	opt := withPushService(ps, func(c *push.Config) { c.RatePerHost = rate; c.Poll = 250 * time.Millisecond })
	var envs []*apptest.Env
	if instances == 2 {
		x, y := apptest.Two(b, backend, opt)
		envs = []*apptest.Env{x, y}
	} else {
		envs = []*apptest.Env{apptest.Start(b, backend, opt)}
	}
	e := envs[0]
	ps.SetVAPIDKey(e.App.VAPID.PublicKey())
	seedBulk(b, e, ps, n)
	officer := e.User(b, "officer", "pusat", "")
	p := auth.Principal{UserID: officer.User.ID, Role: api.RoleOfficer}
	papua := "94" // no volunteer there: its jobs find no device

	// The commit: with the push hook (a job row) and without it.
	bare := alert.NewService(e.App.DB, e.App.Events, e.App.Auth, e.App.Reports, nil)
	commit := func(s *alert.Service, region *string) time.Duration {
		start := time.Now()
		if _, err := s.Create(ctx, p, api.CreateAlertRequest{Title: "Ukur", Body: "Ukur biaya commit.", Severity: "info", RegionCode: region}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var with, without []time.Duration
	for range 30 {
		without = append(without, commit(bare, nil))
		with = append(with, commit(e.App.Alerts, &papua))
	}
	waitIdle(b, e)

	b.StartTimer()
	start := time.Now()
	a, err := e.App.Alerts.Create(ctx, p, api.CreateAlertRequest{Title: "Hoaks nasional", Body: "Untuk semua relawan.", Severity: "critical"})
	if err != nil {
		b.Fatal(err)
	}
	committed := time.Now()
	var queued time.Duration
	for ps.Accepted() < n {
		if queued == 0 {
			var at []time.Time
			e.App.DB.NewSelect().Table("push_jobs").Column("expanded_at").Where("ref_id = ? AND expanded_at IS NOT NULL", a.ID).Scan(ctx, &at)
			if len(at) > 0 {
				queued = time.Since(committed)
			}
		}
		if time.Since(committed) > 10*time.Minute {
			b.Fatalf("only %d of %d pushes accepted after 10 minutes", ps.Accepted(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent := time.Since(committed)
	b.StopTimer()
	if errs := ps.Errors(); len(errs) > 0 {
		b.Fatalf("push service refused pushes: %v", errs[:min(3, len(errs))])
	}
	b.ReportMetric(float64(median(without).Microseconds())/1000, "commit-without-push-ms")
	b.ReportMetric(float64(median(with).Microseconds())/1000, "commit-with-push-ms")
	b.ReportMetric(float64(committed.Sub(start).Microseconds())/1000, "national-commit-ms")
	b.ReportMetric(queued.Seconds(), "queued-s")
	b.ReportMetric(sent.Seconds(), "sent-s")
	b.ReportMetric(float64(n)/sent.Seconds(), "pushes/s")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// waitIdle waits until the outbox is empty.
func waitIdle(b *testing.B, e *apptest.Env) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		bl, err := e.App.Push.Backlog(context.Background())
		if err == nil && bl.Devices == 0 && bl.Jobs == 0 {
			return
		}
	}
	b.Fatal("outbox not empty")
}

// seedBulk makes n/10 volunteers with 10 devices each, inserted in bulk.
func seedBulk(b *testing.B, e *apptest.Env, ps *pushtest.Service, n int) {
	ctx := context.Background()
	users, err := e.App.Auth.SeedUsers(ctx, (n+9)/10, api.RoleVolunteer, "31", "bench")
	if err != nil {
		b.Fatal(err)
	}
	devs := ps.NewDevices(b, n)
	now := time.Now().UTC()
	for start := 0; start < n; start += 2000 {
		var rows []push.Subscription
		for i := start; i < min(start+2000, n); i++ {
			d := devs[i]
			rows = append(rows, push.Subscription{ID: auth.NewID(), UserID: users[i/10], Endpoint: d.Endpoint, P256dh: d.P256dh(),
				Auth: d.Auth(), Events: 3, CreatedAt: now, UpdatedAt: now})
		}
		if _, err := e.App.DB.NewInsert().Model(&rows).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
