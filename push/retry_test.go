package push_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/pushtest"
)

// The push service's answers steer the sender: 410 and 404 delete the
// device, 429 is retried no sooner than its Retry-After (and holds the
// host back), a 5xx is retried, a retry that would come after the TTL is
// dropped and counted; each device still gets the push once.
func TestPushServiceAnswers(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer := w.User(t, "officer", "petugas", "")
		var devs []*pushtest.Device
		for _, name := range []string{"gone", "notfound", "throttled", "flaky", "fine"} {
			u := w.User(t, "volunteer", name, "31")
			d := w.ps.NewDevice(t)
			subscribe(t, w.Env, u.Tokens.AccessToken, d)
			devs = append(devs, d)
		}
		gone, notFound, throttled, flaky, fine := devs[0], devs[1], devs[2], devs[3], devs[4]
		var mu sync.Mutex
		var throttledAt time.Time
		w.ps.Script(func(dev string, try int) pushtest.Answer {
			switch {
			case dev == gone.ID:
				return pushtest.Answer{Status: http.StatusGone}
			case dev == notFound.ID:
				return pushtest.Answer{Status: http.StatusNotFound}
			case dev == throttled.ID && try == 0:
				mu.Lock()
				throttledAt = time.Now()
				mu.Unlock()
				return pushtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "2"}
			case dev == flaky.ID && try == 0:
				return pushtest.Answer{Status: http.StatusServiceUnavailable, RetryAfter: "1"}
			}
			return pushtest.Answer{}
		})
		createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Peringatan", "body": "Isi.", "severity": "warning"})
		ms := w.ps.Wait(t, 15*time.Second, "the alert on the three live devices", func(ms []pushtest.Message) bool { return len(ms) >= 3 })
		idle(t, w.Env)
		ms = w.ps.Messages()
		if got := byDevice(ms); len(ms) != 3 || got[throttled.ID] != 1 || got[flaky.ID] != 1 || got[fine.ID] != 1 {
			t.Fatalf("got pushes %v, want one each on the throttled, flaky and fine devices", got)
		}
		for _, m := range ms {
			mu.Lock()
			at := throttledAt
			mu.Unlock()
			if m.Device == throttled.ID && m.At.Sub(at) < 2*time.Second {
				t.Errorf("the throttled device was pushed again %s after its 429, before Retry-After: 2", m.At.Sub(at))
			}
		}
		if w.ps.Tries(throttled.ID) != 2 || w.ps.Tries(flaky.ID) != 2 || w.ps.Tries(gone.ID) != 1 || w.ps.Tries(fine.ID) != 1 {
			t.Errorf("got tries throttled %d flaky %d gone %d fine %d, want 2 2 1 1", w.ps.Tries(throttled.ID),
				w.ps.Tries(flaky.ID), w.ps.Tries(gone.ID), w.ps.Tries(fine.ID))
		}
		var left []string
		w.App.DB.NewSelect().Table("push_subscriptions").Column("endpoint").Scan(context.Background(), &left)
		if len(left) != 3 {
			t.Fatalf("got %d subscriptions left, want 3 (410 and 404 delete theirs)", len(left))
		}
		for _, e := range left {
			if e == gone.Endpoint || e == notFound.Endpoint {
				t.Fatalf("subscription %s survived its 410/404", e)
			}
		}
		st := w.App.Push.Stats()
		if st.Sent != 3 || st.Gone != 2 || st.Failed["429"] != 1 || st.Failed["503"] != 1 || st.Failed["410"] != 1 {
			t.Fatalf("got stats %+v", st)
		}

		// A push service that asks to wait past the TTL: the push is dropped
		// and counted, not sent late.
		w.ps.Script(func(dev string, try int) pushtest.Answer {
			return pushtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "3600"}
		})
		ani := w.User(t, "volunteer", "ani", "31")
		subscribe(t, w.Env, ani.Tokens.AccessToken, w.ps.NewDevice(t))
		var res api.PushTestResult
		r := w.Do(t, "POST", "/v1/push/test", nil, apptest.Bearer(ani.Tokens.AccessToken)...)
		r.Decode(t, &res)
		if r.Status != http.StatusAccepted || res.Devices != 1 {
			t.Fatalf("push test: got %d %+v", r.Status, res)
		}
		idle(t, w.Env)
		if st := w.App.Push.Stats(); st.Dropped != 1 || st.Sent != 3 {
			t.Fatalf("got stats %+v, want one dropped (TTL 10 min < Retry-After 1 h)", st)
		}
	})
}

// An assignment reaches the assignee's devices that want assignments, and
// `push test` reaches every device of the caller.
func TestAssignmentAndTestPushes(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer := w.User(t, "officer", "petugas", "")
		ani := w.User(t, "volunteer", "ani", "31")
		both, alertsOnly := w.ps.NewDevice(t), w.ps.NewDevice(t)
		subscribe(t, w.Env, ani.Tokens.AccessToken, both)
		subscribe(t, w.Env, ani.Tokens.AccessToken, alertsOnly, api.PushAlerts)
		ot := apptest.Bearer(officer.Tokens.AccessToken)
		r := w.Do(t, "POST", "/v1/tasks", map[string]any{"title": "Pantau TPS 7", "description": "Awasi penghitungan suara.",
			"kind": "tps", "slots": 2}, ot...)
		var task api.Task
		r.Decode(t, &task)
		if r.Status != http.StatusCreated {
			t.Fatalf("create task: got %d %s", r.Status, r.Body)
		}
		r = w.Do(t, "POST", "/v1/tasks/"+task.ID+"/assignments", map[string]string{"user_id": ani.User.ID}, ot...)
		var claim api.Claim
		r.Decode(t, &claim)
		if r.Status != http.StatusCreated {
			t.Fatalf("assign: got %d %s", r.Status, r.Body)
		}
		w.ps.Wait(t, 10*time.Second, "the assignment", func(ms []pushtest.Message) bool { return len(ms) >= 1 })
		idle(t, w.Env)
		ms := w.ps.Messages()
		if len(ms) != 1 || ms[0].Device != both.ID {
			t.Fatalf("got %d pushes (%v), want one on the device that wants assignments", len(ms), byDevice(ms))
		}
		if p := payload(t, ms[0]); p.Kind != "assignment" || p.Title != "Tugas baru untukmu: Pantau TPS 7" || p.URL != "/#/tasks" || p.Tag != "assignment-"+claim.ID {
			t.Fatalf("got payload %+v", p)
		}
		if ms[0].TTL < 7000 || ms[0].TTL > 7200 {
			t.Fatalf("got TTL %d, want about 2 h for an assignment", ms[0].TTL)
		}

		var res api.PushTestResult
		w.Do(t, "POST", "/v1/push/test", nil, apptest.Bearer(ani.Tokens.AccessToken)...).Decode(t, &res)
		if res.Devices != 2 {
			t.Fatalf("push test queued for %d devices, want 2", res.Devices)
		}
		w.ps.Wait(t, 10*time.Second, "the test pushes", func(ms []pushtest.Message) bool { return len(ms) >= 3 })
		idle(t, w.Env)
		ms = w.ps.Messages()[1:]
		if got := byDevice(ms); len(ms) != 2 || got[both.ID] != 1 || got[alertsOnly.ID] != 1 {
			t.Fatalf("got test pushes %v, want one on each device", got)
		}
		if p := payload(t, ms[0]); p.Kind != "test" || p.Title != "Tes notifikasi Jarimu" {
			t.Fatalf("got test payload %+v", p)
		}

		// The test push runs a request's before-commit hook (an
		// Idempotency-Key's mark) in the transaction that queues it: a
		// hook that refuses (a retry took the key over) queues nothing.
		jobs := func() int {
			n, err := w.App.DB.NewSelect().Table("push_jobs").Where("user_id = ? AND kind = 'test'", ani.User.ID).Count(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		before, ran := jobs(), false
		refuse := event.WithBeforeCommit(t.Context(), func(context.Context, bun.IDB) error {
			ran = true
			return errors.New("taken over")
		})
		if _, err := w.App.Push.Test(refuse, ani.User.ID); err == nil || !ran {
			t.Fatalf("push test with a refusing hook: %v (hook ran: %v), want its error", err, ran)
		}
		if n := jobs(); n != before {
			t.Fatalf("the refused push test queued %d tests", n-before)
		}
	})
}

// An assignment whose claim ends while its push waits to be retried (the
// push service said 429) is not pushed again: the assignee released it,
// or lost their access to its org, which ends the claim too.
func TestAssignmentPushEndsWithTheClaim(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer, ani, dev := withDevice(t, w)
		w.ps.Script(func(string, int) pushtest.Answer {
			// Long enough for the release to land before the retry,
			// however slow the machine.
			return pushtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "3"}
		})
		ot := apptest.Bearer(officer.Tokens.AccessToken)
		var task api.Task
		w.Do(t, "POST", "/v1/tasks", map[string]any{"title": "Pantau TPS 8", "description": "Awasi penghitungan suara.",
			"kind": "tps", "slots": 2}, ot...).Decode(t, &task)
		var claim api.Claim
		if r := w.Do(t, "POST", "/v1/tasks/"+task.ID+"/assignments", map[string]string{"user_id": ani.User.ID}, ot...); r.Status != http.StatusCreated {
			t.Fatalf("assign: got %d %s", r.Status, r.Body)
		} else {
			r.Decode(t, &claim)
		}
		deadline := time.Now().Add(10 * time.Second)
		for w.ps.Tries(dev.ID) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the assignment was not pushed")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r := w.Do(t, "POST", "/v1/claims/"+claim.ID+"/release", nil, apptest.Bearer(ani.Tokens.AccessToken)...); r.Status != http.StatusOK {
			t.Fatalf("release: got %d %s", r.Status, r.Body)
		}
		w.ps.Script(func(string, int) pushtest.Answer { return pushtest.Answer{} })
		idle(t, w.Env)
		if n, ok := w.ps.Tries(dev.ID), w.ps.Accepted(); n != 1 || ok != 0 {
			t.Fatalf("after the claim ended: %d tries, %d accepted; want the one refused try only", n, ok)
		}
	})
}

// A push service that redirects is not followed: the server is never sent
// past the allow-list. The push counts as failed with the redirect's status.
func TestRedirectNotFollowed(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer, _, dev := withDevice(t, w)
		other := w.ps.NewDevice(t)
		w.ps.Script(func(d string, try int) pushtest.Answer {
			if d == dev.ID {
				return pushtest.Answer{Status: http.StatusTemporaryRedirect, Location: other.Endpoint}
			}
			return pushtest.Answer{}
		})
		createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Peringatan", "body": "Isi.", "severity": "info"})
		idle(t, w.Env)
		if w.ps.Tries(other.ID) != 0 || w.ps.Tries(dev.ID) != 1 {
			t.Fatalf("got tries %d at the redirect's target, %d at the device; want 0 and 1", w.ps.Tries(other.ID), w.ps.Tries(dev.ID))
		}
		if st := w.App.Push.Stats(); st.Failed["307"] != 1 || st.Sent != 0 {
			t.Fatalf("got stats %+v, want one failed with 307", st)
		}
	})
}

// A retracted alert is not pushed after its retraction: its retries and
// batches not yet sent stop, so it never replaces the retraction (same
// topic and tag) at the push service or on the phone.
func TestAlertPushEndsWithItsRetraction(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer, _, dev := withDevice(t, w)
		w.ps.Script(func(_ string, try int) pushtest.Answer {
			if try == 0 { // long enough for the retraction to land first, however slow the machine
				return pushtest.Answer{Status: http.StatusServiceUnavailable, RetryAfter: "3"}
			}
			return pushtest.Answer{}
		})
		a := createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Hoaks TPS pindah", "body": "Isi.", "severity": "critical"})
		deadline := time.Now().Add(10 * time.Second)
		for w.ps.Tries(dev.ID) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the alert was not pushed")
			}
			time.Sleep(10 * time.Millisecond)
		}
		r := w.Do(t, "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]string{"reason": "Salah informasi"}, apptest.Bearer(officer.Tokens.AccessToken)...)
		if r.Status != http.StatusOK {
			t.Fatalf("retract: got %d %s", r.Status, r.Body)
		}
		idle(t, w.Env)
		time.Sleep(3500 * time.Millisecond) // past the alert's retry time
		idle(t, w.Env)
		ms := w.ps.Messages()
		if len(ms) != 1 || payload(t, ms[0]).Kind != "retraction" {
			kinds := []string{}
			for _, m := range ms {
				kinds = append(kinds, payload(t, m).Kind)
			}
			t.Fatalf("the phone got %v, want the retraction alone", kinds)
		}
		if n := w.ps.Tries(dev.ID); n != 2 {
			t.Errorf("%d pushes tried, want 2 (the alert refused, the retraction)", n)
		}
	})
}

// A push service that keeps asking to wait (429 or 503 with Retry-After)
// for longer than a handful of attempts does not make the sender give up:
// a push is retried as long as its TTL lasts, and arrives once the service
// takes it.
func TestPushRetriedWhileItsTTLLasts(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer, _, dev := withDevice(t, w)
		const refusals = 20
		w.ps.Script(func(_ string, try int) pushtest.Answer {
			switch {
			case try >= refusals:
				return pushtest.Answer{}
			case try%2 == 0:
				return pushtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "0"}
			}
			return pushtest.Answer{Status: http.StatusServiceUnavailable, RetryAfter: "0"}
		})
		createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Peringatan", "body": "Isi.", "severity": "critical"})
		w.ps.Wait(t, 20*time.Second, "the alert, after the refusals", func(ms []pushtest.Message) bool { return len(ms) >= 1 })
		idle(t, w.Env)
		if n, ok := w.ps.Tries(dev.ID), w.ps.Accepted(); n != refusals+1 || ok != 1 {
			t.Fatalf("got %d tries, %d accepted; want %d tries and the last accepted", n, ok, refusals+1)
		}
		if st := w.App.Push.Stats(); st.Sent != 1 || st.Failed["429"] != refusals/2 || st.Failed["503"] != refusals/2 {
			t.Fatalf("got stats %+v", st)
		}
	})
}

// withDevice makes an officer and a volunteer of Jakarta (31) with one
// device subscribed to everything.
func withDevice(t *testing.T, w world) (officer, ani api.AuthResponse, dev *pushtest.Device) {
	t.Helper()
	officer = w.User(t, "officer", "petugas", "")
	ani = w.User(t, "volunteer", "ani", "31")
	dev = w.ps.NewDevice(t)
	subscribe(t, w.Env, ani.Tokens.AccessToken, dev)
	return officer, ani, dev
}
