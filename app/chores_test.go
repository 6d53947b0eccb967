package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
)

// hourly are the chores that run once an hour per cluster.
var hourly = []string{"retain_events", "purge_idempotency", "purge_refresh_tokens", "summarise_acks"}

// settled waits until every chore of each app has had its first turn
// (offered at start), so a test's own run is not raced by it.
func settled(t *testing.T, envs ...*apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, e := range envs {
		for {
			done := true
			for _, s := range e.App.Chores.Stats() {
				if s.Runs+s.Skipped+s.Failures == 0 {
					done = false
				}
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the chores' first turn is not over after 10 s: %+v", e.App.Chores.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// dueAgain makes every chore due: as if the cluster last ran them a day ago.
func dueAgain(t *testing.T, e *apptest.Env) {
	t.Helper()
	if _, err := e.App.DB.NewRaw("UPDATE chore_runs SET ran_at = ?", time.Now().Add(-24*time.Hour)).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, e *apptest.Env, query string, args ...any) {
	t.Helper()
	if _, err := e.App.DB.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func count(t *testing.T, e *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.App.DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// oldEvents appends events to streams and ages them to three months ago:
// of each stream's, seq 1 is a task event, 2 an accreditation change, 3 an
// alert and 4 a membership decision.
func oldEvents(t *testing.T, e *apptest.Env, streams ...string) time.Time {
	t.Helper()
	at := time.Now().UTC().AddDate(0, -3, 0)
	for _, s := range streams {
		for _, name := range []string{"task.updated", "org.accreditation_changed", "alert.published", "membership.decided"} {
			ev, err := event.Append(context.Background(), e.App.DB, s, name, struct{}{})
			if err != nil {
				t.Fatal(err)
			}
			exec(t, e, "UPDATE events SET at = ? WHERE stream = ? AND seq = ?", at, s, ev.Seq)
		}
	}
	return at
}

func seqs(t *testing.T, e *apptest.Env, stream string) []int64 {
	t.Helper()
	evs, err := e.App.Events.After(context.Background(), stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.Seq)
	}
	return out
}

func reachOf(t *testing.T, e *apptest.Env, token, id string) api.Reach {
	t.Helper()
	r := e.Do(t, http.MethodGet, "/v1/alerts/"+id+"/reach", nil, apptest.Bearer(token)...)
	if r.Status != http.StatusOK {
		t.Fatalf("reach: %d %s", r.Status, r.Body)
	}
	var rc api.Reach
	r.Decode(t, &rc)
	return rc
}

func publish(t *testing.T, e *apptest.Env, token string) api.Alert {
	t.Helper()
	r := e.Do(t, http.MethodPost, "/v1/alerts", map[string]any{"title": "Hoaks pemindahan TPS", "severity": "warning",
		"body": "Informasi bahwa TPS dipindah adalah tidak benar.", "region_code": "31"}, apptest.Bearer(token)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	var a api.Alert
	r.Decode(t, &a)
	return a
}

// The chores remove what is past its retention and keep what must stay:
// old task and membership events go (on PostgreSQL by dropping their
// month's partition), alerts' and accreditation changes stay; refresh
// tokens expired long ago go, live ones and the recently expired stay;
// old idempotency answers go; an old alert's acks are summed up and
// removed, and its reach over HTTP answers the same; leftover upload files
// go.
func TestChoresKeepWhatMustStay(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			var dataDir string
			e := apptest.Start(t, b, func(o *app.Options) { dataDir = o.DataDir })
			keepWhatMustStay(t, e, dataDir)
		})
	}
}

func keepWhatMustStay(t *testing.T, e *apptest.Env, dataDir string) {
	ctx := context.Background()
	now := time.Now().UTC()
	officer := e.User(t, "officer", "off", "31")
	var vols []api.AuthResponse
	for i := range 3 {
		vols = append(vols, e.User(t, "volunteer", fmt.Sprint("vol", i), "31"))
	}

	// An alert of 40 days ago, acknowledged by the three volunteers,
	// and one of today, acknowledged by one.
	old, recent := publish(t, e, officer.Tokens.AccessToken), publish(t, e, officer.Tokens.AccessToken)
	exec(t, e, "UPDATE alerts SET published_at = ? WHERE id = ?", now.Add(-40*24*time.Hour), old.ID)
	exec(t, e, "UPDATE users SET created_at = ? WHERE role = 'volunteer'", now.Add(-50*24*time.Hour))
	for i := range vols { // one flush's counts: delays of 100, 200 and 300 ms
		exec(t, e, "INSERT INTO alert_ack_counts (alert_id, batch, bucket_ms, acks) VALUES (?, 'b1', ?, 1)", old.ID, 100*(i+1))
	}
	exec(t, e, "INSERT INTO alert_ack_counts (alert_id, batch, bucket_ms, acks) VALUES (?, 'b2', 50, 1)", recent.ID)
	before := reachOf(t, e, officer.Tokens.AccessToken, old.ID)
	if before.Delivered != 3 || before.Meant != 3 || before.P50Ms == nil || *before.P50Ms != 200 || *before.P90Ms != 300 {
		t.Fatalf("reach before the chores: %+v", before)
	}

	// Events of three months ago on two streams, and one of now.
	aged := oldEvents(t, e, "org:x", "region:32")
	fresh, err := event.Append(ctx, e.App.DB, "org:x", "task.created", struct{}{})
	if err != nil {
		t.Fatal(err)
	}

	// Refresh tokens: expired 40 days ago (goes), an hour ago (stays a
	// day), and the volunteers' live ones.
	for _, exp := range []time.Duration{-40 * 24 * time.Hour, -time.Hour} {
		exec(t, e, "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			auth.NewID(), auth.NewID(), vols[1].User.ID, auth.NewID(), now.Add(exp-24*time.Hour), now.Add(exp))
	}
	tokens := count(t, e, "SELECT count(*) FROM refresh_tokens")

	// Idempotency answers of two days and one minute ago.
	for _, age := range []time.Duration{48 * time.Hour, time.Minute} {
		exec(t, e, "INSERT INTO idempotency_keys (user_id, key, request_hash, state, created_at) VALUES (?, ?, 'h', 'done', ?)",
			vols[0].User.ID, age.String(), now.Add(-age))
	}

	// An upload left behind two hours ago, and one in progress.
	tmp := filepath.Join(dataDir, "evidence", "tmp")
	for _, f := range []string{"put-left", "put-live"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(tmp, "put-left"), now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	settled(t, e)
	dueAgain(t, e)
	e.App.Chores.RunNow(ctx)

	// Events: seqs 2 (accreditation change) and 3 (alert) of each old
	// stream stay, with today's.
	if got := seqs(t, e, "org:x"); !slices.Equal(got, []int64{2, 3, fresh.Seq}) {
		t.Errorf("org:x keeps %v, want [2 3 %d]", got, fresh.Seq)
	}
	if got := seqs(t, e, "region:32"); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("region:32 keeps %v, want [2 3]", got)
	}
	if got := seqs(t, e, "region:31"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("region:31 keeps %v, want the two alerts published today", got)
	}
	if e.Backend == dbtest.Postgres {
		month := "events_" + aged.Format("2006_01")
		if n := count(t, e, "SELECT count(*) FROM pg_class WHERE relname = ?", month); n != 0 {
			t.Errorf("partition %s is still there", month)
		}
		if n := logLines(e, "event partitions dropped", month); n != 1 {
			t.Errorf("%d log lines say %s was dropped, want 1:\n%s", n, month, e.Logs.String())
		}
	}

	// Refresh tokens: one row fewer, and a live one still refreshes.
	if n := count(t, e, "SELECT count(*) FROM refresh_tokens"); n != tokens-1 {
		t.Errorf("%d refresh tokens, want %d (the one expired 40 days ago gone)", n, tokens-1)
	}
	if n := count(t, e, "SELECT count(*) FROM refresh_tokens WHERE expires_at < ?", now); n != 1 {
		t.Errorf("%d expired refresh tokens left, want 1 (expired an hour ago)", n)
	}
	r := e.Do(t, http.MethodPost, "/v1/auth/refresh", api.RefreshRequest{RefreshToken: vols[1].Tokens.RefreshToken})
	if r.Status != http.StatusOK {
		t.Errorf("refresh with a live token after the purge: %d %s", r.Status, r.Body)
	}

	// Idempotency answers: the minute-old one only.
	var keys []string
	if err := e.App.DB.NewRaw("SELECT key FROM idempotency_keys").Scan(ctx, &keys); err != nil || !slices.Equal(keys, []string{"1m0s"}) {
		t.Errorf("idempotency keys %v (%v), want [1m0s]", keys, err)
	}

	// Acks: the old alert's summed up and removed, its reach the same;
	// today's untouched.
	if n := count(t, e, "SELECT count(*) FROM alert_ack_counts WHERE alert_id = ?", old.ID); n != 0 {
		t.Errorf("%d ack counts of the old alert left, want 0", n)
	}
	if n := count(t, e, "SELECT count(*) FROM alert_reach WHERE alert_id = ?", old.ID); n != 1 {
		t.Errorf("the old alert has %d summaries, want 1", n)
	}
	if n := count(t, e, "SELECT count(*) FROM alert_ack_counts WHERE alert_id = ?", recent.ID); n != 1 {
		t.Errorf("%d ack counts of today's alert, want 1", n)
	}
	after := reachOf(t, e, officer.Tokens.AccessToken, old.ID)
	if after.AlertID != before.AlertID || after.Meant != before.Meant || after.Delivered != before.Delivered ||
		after.P50Ms == nil || *after.P50Ms != *before.P50Ms || *after.P90Ms != *before.P90Ms {
		t.Errorf("reach after the summary %+v, want %+v", after, before)
	}

	// A late acknowledgement (a phone back after a month away) changes
	// nothing and is removed at the next turn.
	exec(t, e, "INSERT INTO alert_ack_counts (alert_id, batch, bucket_ms, acks) VALUES (?, 'late', 10000, 1)", old.ID)
	if r := reachOf(t, e, officer.Tokens.AccessToken, old.ID); r.Delivered != before.Delivered || *r.P90Ms != *before.P90Ms {
		t.Errorf("reach with a late ack %+v, want %+v", r, before)
	}
	dueAgain(t, e)
	e.App.Chores.RunNow(ctx, "summarise_acks")
	if n := count(t, e, "SELECT count(*) FROM alert_ack_counts WHERE alert_id = ?", old.ID); n != 0 {
		t.Errorf("%d late ack counts of the old alert left, want 0", n)
	}

	// Upload files: the one left behind only.
	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 1 || entries[0].Name() != "put-live" {
		t.Errorf("tmp holds %v (%v), want put-live only", entries, err)
	}
}

// logLines counts the app's log lines with message msg that name word.
func logLines(e *apptest.Env, msg, word string) int {
	n := 0
	for line := range strings.Lines(e.Logs.String()) {
		if strings.Contains(line, `"msg":"`+msg+`"`) && strings.Contains(line, word) {
			n++
		}
	}
	return n
}

// metricSum adds up a chore's counter over the apps' /metrics.
func metricSum(t *testing.T, name, chore string, envs ...*apptest.Env) int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + name + `\{chore="` + chore + `"\} (\d+)$`)
	total := 0
	for _, e := range envs {
		r := e.Do(t, http.MethodGet, "/metrics", nil)
		m := re.FindSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no %s for %s in /metrics:\n%s", name, chore, grep(string(r.Body), "jarimu_chore_"))
		}
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	return total
}

// Two instances offered the chores at the same moment run each once: at
// start, and again when both are told to run them at once. The work is done
// once (one log line of the dropped partition on PostgreSQL) and the runs
// add up to one per turn in /metrics.
func TestChoresRunOncePerCluster(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e1, e2 := apptest.Two(t, b)
			settled(t, e1, e2)
			for _, c := range hourly {
				if n := metricSum(t, "jarimu_chore_runs_total", c, e1, e2); n != 1 {
					t.Errorf("%s ran %d times at start on two instances, want 1", c, n)
				}
			}
			// The instances' own disks are looked after by each.
			if n := metricSum(t, "jarimu_chore_runs_total", "purge_evidence_tmp", e1, e2); n != 2 {
				t.Errorf("purge_evidence_tmp ran %d times at start on two instances, want 2 (one each)", n)
			}
			aged := oldEvents(t, e1, "org:y")
			dueAgain(t, e1)
			var wg sync.WaitGroup
			for _, e := range []*apptest.Env{e1, e2} {
				wg.Go(func() { e.App.Chores.RunNow(context.Background(), hourly...) })
			}
			wg.Wait()
			for _, c := range hourly {
				if n := metricSum(t, "jarimu_chore_runs_total", c, e1, e2); n != 2 {
					t.Errorf("%s ran %d times in all after a second turn at once, want 2", c, n)
				}
			}
			if got := seqs(t, e2, "org:y"); !slices.Equal(got, []int64{2, 3}) {
				t.Errorf("org:y keeps %v, want [2 3]", got)
			}
			if b == dbtest.Postgres {
				month := "events_" + aged.Format("2006_01")
				for _, msg := range []string{"event partitions made", "event partitions dropped"} {
					if n := logLines(e1, msg, month) + logLines(e2, msg, month); n != 1 {
						t.Errorf("%d log lines of the two instances say %q of %s, want 1", n, msg, month)
					}
				}
			}
		})
	}
}
