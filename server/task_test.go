package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"pgregory.net/rapid"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/notice"
)

// ---- task helpers ----------------------------------------------------------

var taskSeq atomic.Int64

// taskBody is a valid POST /v1/tasks body (org_id "" = national pool);
// kv pairs set or, with a nil value, remove fields.
func taskBody(orgID string, slots int, kv ...any) map[string]any {
	b := map[string]any{
		"title":         fmt.Sprintf("Pantau hoaks kampanye #%d", taskSeq.Add(1)),
		"description":   "Periksa unggahan yang menyesatkan tentang pemungutan suara.",
		"kind":          "social_media",
		"platform":      "x",
		"target":        "#pemilu2029",
		"slots":         slots,
		"lease_minutes": 60,
	}
	if orgID != "" {
		b["org_id"] = orgID
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(b, kv[i].(string))
		} else {
			b[kv[i].(string)] = kv[i+1]
		}
	}
	return b
}

func taskPath(id, rest string) string  { return "/v1/tasks/" + id + rest }
func claimPath(id, rest string) string { return "/v1/claims/" + id + rest }

func createTask(t testing.TB, e *apptest.Env, token string, body map[string]any) api.Task {
	t.Helper()
	r := call(t, e, token, "POST", "/v1/tasks", body)
	must(t, "create task", r, http.StatusCreated, "")
	var tk api.Task
	r.Decode(t, &tk)
	return tk
}

func getTask(t testing.TB, e *apptest.Env, token, id string) api.Task {
	t.Helper()
	r := call(t, e, token, "GET", taskPath(id, ""), nil)
	must(t, "GET task", r, http.StatusOK, "")
	var tk api.Task
	r.Decode(t, &tk)
	return tk
}

func claimTask(t testing.TB, e *apptest.Env, token, taskID string) api.Claim {
	t.Helper()
	r := call(t, e, token, "POST", taskPath(taskID, "/claims"), nil)
	must(t, "claim", r, http.StatusCreated, "")
	var c api.Claim
	r.Decode(t, &c)
	if c.Status != api.ClaimActive || c.TaskID != taskID || c.Version != 1 || c.AssignedBy != nil {
		t.Fatalf("claim: got %+v, want an active claim of version 1 on %s", c, taskID)
	}
	return c
}

// listTasks returns the ids of GET /v1/tasks?query as token.
func listTasks(t testing.TB, e *apptest.Env, token, query string) []string {
	t.Helper()
	r := call(t, e, token, "GET", "/v1/tasks"+query, nil)
	must(t, "GET /v1/tasks"+query, r, http.StatusOK, "")
	var p api.Page[api.Task]
	r.Decode(t, &p)
	var ids []string
	for _, tk := range p.Items {
		ids = append(ids, tk.ID)
	}
	return ids
}

// taskEvents reads a whole stream.
func taskEvents(t testing.TB, e *apptest.Env, stream string) []event.Event {
	t.Helper()
	evs, err := e.App.Events.After(context.Background(), stream, 0, 100000)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// about keeps the events whose data has key == value.
func about(t testing.TB, evs []event.Event, key, value string) []event.Event {
	t.Helper()
	var out []event.Event
	for _, ev := range evs {
		if payload(t, ev)[key] == value {
			out = append(out, ev)
		}
	}
	return out
}

// setLease moves a claim's lease directly in the database.
func setLease(t testing.TB, e *apptest.Env, claimID string, at time.Time) {
	t.Helper()
	exec(t, e, "UPDATE claims SET lease_expires_at = ? WHERE id = ?", at.UTC().Truncate(time.Microsecond), claimID)
}

func claimStatus(t testing.TB, e *apptest.Env, claimID string) string {
	t.Helper()
	var s string
	if err := e.App.DB.NewRaw("SELECT status FROM claims WHERE id = ?", claimID).Scan(context.Background(), &s); err != nil {
		t.Fatalf("claim %s: %v", claimID, err)
	}
	return s
}

// assertSlots checks a task's slot accounting: GET's slots_taken, the rows
// holding a slot now (completed, and active with a lease to come), and the
// task's counter, which counts active (even overdue) and completed rows.
func assertSlots(t testing.TB, e *apptest.Env, token, taskID string, want int) {
	t.Helper()
	got := getTask(t, e, token, taskID)
	now := time.Now().UTC()
	live := count(t, e, "claims", "task_id = ? AND (status = 'completed' OR status = 'active' AND lease_expires_at > ?)", taskID, now)
	rows := count(t, e, "claims", "task_id = ? AND status IN ('active', 'completed')", taskID)
	var counter int
	if err := e.App.DB.NewRaw("SELECT slots_taken FROM tasks WHERE id = ?", taskID).Scan(context.Background(), &counter); err != nil {
		t.Fatal(err)
	}
	if got.SlotsTaken != want || live != want || counter != rows || counter > got.Slots {
		t.Errorf("task %s: GET slots_taken %d, live rows %d, counter %d over %d active/completed rows, slots %d; want %d taken",
			taskID, got.SlotsTaken, live, counter, rows, got.Slots, want)
	}
}

// reply is an answer read without a testing.TB, for concurrent callers and
// rapid properties.
type reply struct {
	Status int
	Type   string // the problem type's slug
	Body   []byte
}

func (r reply) String() string {
	if r.Type != "" {
		return fmt.Sprintf("%d %s", r.Status, r.Type)
	}
	return strconv.Itoa(r.Status)
}

var taskHTTP = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}

// send makes one request; safe from any goroutine.
func send(base, token, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := taskHTTP.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{Status: resp.StatusCode, Body: b}
	if resp.StatusCode >= 400 {
		var p api.Problem
		if json.Unmarshal(b, &p) == nil {
			r.Type = strings.TrimPrefix(p.Type, api.ProblemTypePrefix)
		}
	}
	return r, nil
}

// race sends n requests at once (released together) and returns the
// answers in order.
func race(t testing.TB, n int, req func(i int) (base, token, method, path string, body any)) []reply {
	t.Helper()
	out := make([]reply, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			base, token, method, path, body := req(i)
			<-start
			out[i], errs[i] = send(base, token, method, path, body)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tally counts answers by status and type.
func tally(rs []reply) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.String()]++
	}
	return m
}

// newMember signs a volunteer up and joins o with an invite code, through
// the services (no throttles).
func newMember(e *apptest.Env, orgID, code, region string) (api.AuthResponse, error) {
	ctx := context.Background()
	req := api.SignupRequest{Email: fmt.Sprintf("relawan.%d@example.org", userSeq.Add(1)), Password: apptest.Password, Name: "Relawan", PrivacyVersion: notice.Version}
	if region != "" {
		req.RegionCode = &region
	}
	u, err := e.App.Auth.Signup(ctx, req)
	if err != nil {
		return u, fmt.Errorf("signup: %w", err)
	}
	if orgID == "" {
		return u, nil
	}
	p := auth.Principal{UserID: u.User.ID, Role: api.RoleVolunteer, Region: region}
	if _, err := e.App.Orgs.Join(ctx, p, orgID, api.JoinRequest{InviteCode: &code}); err != nil {
		return u, fmt.Errorf("join: %w", err)
	}
	return u, nil
}

// taskMembers makes n volunteers of region ("" national) active members of
// o, eight at a time.
func taskMembers(t testing.TB, e *apptest.Env, coord api.AuthResponse, o api.Org, n int, region string) []api.AuthResponse {
	t.Helper()
	inv := invite(t, e, tok(coord), o, n)
	out := make([]api.AuthResponse, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				out[i], errs[i] = newMember(e, o.ID, inv.Code, region)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// taskOrg is an accredited org with its coordinator.
func taskOrg(t testing.TB, e *apptest.Env, admin api.AuthResponse, region string) (api.AuthResponse, api.Org) {
	t.Helper()
	coord := volunteer(t, e, "koordinator")
	return coord, createOrg(t, e, tok(admin), region, coord.User.Email)
}

// ---- contention --------------------------------------------------------------

// Slots are never oversold, a user never holds two claims on one task, and
// freed slots are re-taken exactly, whatever the concurrency.
func TestTaskClaimContention(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		vols := taskMembers(t, e, coord, o, 200, "")

		t.Run("200 claimants on 10 slots", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 10))
			rs := race(t, len(vols), func(i int) (string, string, string, string, any) {
				return e.URL, tok(vols[i]), "POST", taskPath(tk.ID, "/claims"), nil
			})
			if got := tally(rs); got["201"] != 10 || got["409 task-full"] != 190 || len(got) != 2 {
				t.Fatalf("got %v, want 10 × 201 and 190 × 409 task-full", got)
			}
			assertSlots(t, e, tok(coord), tk.ID, 10)
			if n := count(t, e, "claims", "task_id = ?", tk.ID); n != 10 {
				t.Errorf("got %d claim rows, want 10", n)
			}
			// Each claim tells viewers the count it made: 1 to 10.
			var counts []int
			for _, ev := range named(about(t, taskEvents(t, e, "org:"+o.ID), "id", tk.ID), "task.updated") {
				counts = append(counts, int(payload(t, ev)["slots_taken"].(float64)))
			}
			slices.Sort(counts)
			if !slices.Equal(counts, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
				t.Errorf("task.updated events: got slots_taken %v, want one event per claim with 1..10", counts)
			}
		})

		t.Run("one user racing 20 claims", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 5))
			rs := race(t, 20, func(int) (string, string, string, string, any) {
				return e.URL, tok(vols[0]), "POST", taskPath(tk.ID, "/claims"), nil
			})
			if got := tally(rs); got["201"] != 1 || got["409 already-claimed"] != 19 || len(got) != 2 {
				t.Fatalf("got %v, want 1 × 201 and 19 × 409 already-claimed", got)
			}
			assertSlots(t, e, tok(coord), tk.ID, 1)
		})

		t.Run("release and complete while 30 race for the slots", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 10))
			holders := vols[20:30]
			claims := make([]api.Claim, len(holders))
			for i, h := range holders {
				claims[i] = claimTask(t, e, tok(h), tk.ID)
			}
			racers := vols[100:130]
			var ended atomic.Bool
			var wg sync.WaitGroup
			enders := make([]reply, len(holders))
			endErrs := make([]error, len(holders))
			won := make([]bool, len(racers))
			raceErrs := make([]error, len(racers))
			start := make(chan struct{})
			var ending sync.WaitGroup
			for i, h := range holders {
				ending.Go(func() {
					<-start
					if i < 7 {
						enders[i], endErrs[i] = send(e.URL, tok(h), "POST", claimPath(claims[i].ID, "/release"), nil)
					} else {
						enders[i], endErrs[i] = send(e.URL, tok(h), "POST", claimPath(claims[i].ID, "/complete"), map[string]any{"outcome": "done"})
					}
				})
			}
			for i, r := range racers {
				wg.Go(func() {
					<-start
					last := false
					for {
						rep, err := send(e.URL, tok(r), "POST", taskPath(tk.ID, "/claims"), nil)
						switch {
						case err != nil:
							raceErrs[i] = err
							return
						case rep.Status == 201:
							won[i] = true
							return
						case rep.Type != "task-full":
							raceErrs[i] = fmt.Errorf("racer %d: got %s: %s", i, rep, rep.Body)
							return
						case last:
							return
						}
						// Once every holder is done, one more try each: the
						// first seven after that must win.
						last = ended.Load()
						time.Sleep(time.Millisecond)
					}
				})
			}
			close(start)
			ending.Wait()
			ended.Store(true)
			wg.Wait()
			for i := range holders {
				if endErrs[i] != nil || enders[i].Status != 200 {
					t.Errorf("holder %d: got %v %v", i, enders[i], endErrs[i])
				}
			}
			for _, err := range raceErrs {
				if err != nil {
					t.Error(err)
				}
			}
			winners := 0
			for _, w := range won {
				if w {
					winners++
				}
			}
			active := count(t, e, "claims", "task_id = ? AND status = 'active'", tk.ID)
			completed := count(t, e, "claims", "task_id = ? AND status = 'completed'", tk.ID)
			if winners != 7 || active != 7 || completed != 3 {
				t.Errorf("got %d racers winning, %d active and %d completed claims; want 7, 7 and 3 (10 slots exactly)", winners, active, completed)
			}
			assertSlots(t, e, tok(coord), tk.ID, 10)
			evs := named(about(t, taskEvents(t, e, "org:"+o.ID), "id", tk.ID), "task.updated")
			if last := payload(t, evs[len(evs)-1])["slots_taken"]; last != float64(10) {
				t.Errorf("the last task.updated says slots_taken %v, want 10", last)
			}
		})
	})
}

// Two instances on one database: claims through both never oversell, and
// the sweepers of both, racing each other and claims that expire overdue
// leases themselves, expire each claim exactly once.
func TestTaskClaimTwoInstances(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			a, c := apptest.Two(t, b)
			envs := []*apptest.Env{a, c}
			admin := a.User(t, "admin", "root", "")
			coord, o := taskOrg(t, a, admin, "")
			vols := taskMembers(t, a, coord, o, 120, "")

			tk := createTask(t, a, tok(coord), taskBody(o.ID, 15))
			rs := race(t, len(vols), func(i int) (string, string, string, string, any) {
				return envs[i%2].URL, tok(vols[i]), "POST", taskPath(tk.ID, "/claims"), nil
			})
			if got := tally(rs); got["201"] != 15 || got["409 task-full"] != 105 || len(got) != 2 {
				t.Fatalf("got %v, want 15 × 201 and 105 × 409 task-full", got)
			}
			assertSlots(t, c, tok(coord), tk.ID, 15)
			var counts []int
			for _, ev := range named(about(t, taskEvents(t, a, "org:"+o.ID), "id", tk.ID), "task.updated") {
				counts = append(counts, int(payload(t, ev)["slots_taken"].(float64)))
			}
			if !slices.Equal(counts, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) {
				t.Errorf("task.updated events in stream order: got slots_taken %v, want 1..15", counts)
			}

			// 20 holders of a full task whose leases all pass, in the
			// reverse order of their claims.
			full := createTask(t, c, tok(coord), taskBody(o.ID, 20))
			holders := vols[:20]
			claims := make([]api.Claim, len(holders))
			for i, h := range holders {
				claims[i] = claimTask(t, envs[i%2], tok(h), full.ID)
			}
			now := time.Now()
			for i, cl := range claims {
				setLease(t, a, cl.ID, now.Add(-time.Duration(len(claims)-i)*time.Minute))
			}
			claimants := vols[40:50]
			var wg sync.WaitGroup
			sweepErrs := make([]error, 4)
			for i := range sweepErrs {
				wg.Go(func() { _, _, sweepErrs[i] = envs[i%2].App.Tasks.Sweep(ctx) })
			}
			rs = race(t, len(claimants), func(i int) (string, string, string, string, any) {
				return envs[i%2].URL, tok(claimants[i]), "POST", taskPath(full.ID, "/claims"), nil
			})
			wg.Wait()
			for _, err := range sweepErrs {
				if err != nil {
					t.Errorf("sweep: %v", err)
				}
			}
			if got := tally(rs); got["201"] != 10 || len(got) != 1 {
				t.Errorf("claims on a task whose holders all lapsed: got %v, want 10 × 201", got)
			}
			for i, h := range holders {
				if n := len(about(t, named(taskEvents(t, a, "user:"+h.User.ID), "claim.expired"), "claim_id", claims[i].ID)); n != 1 {
					t.Errorf("holder %d: got %d claim.expired events, want exactly 1", i, n)
				}
			}
			if n := count(t, a, "claims", "task_id = ? AND status = 'expired'", full.ID); n != 20 {
				t.Errorf("got %d expired claims, want 20", n)
			}
			assertSlots(t, a, tok(coord), full.ID, 10)
		})
	}
}

// ---- leases ------------------------------------------------------------------

func TestTaskLeaseExpiry(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		vols := taskMembers(t, e, coord, o, 6, "")
		sweep := func() {
			t.Helper()
			if _, _, err := e.App.Tasks.Sweep(ctx); err != nil {
				t.Fatalf("sweep: %v", err)
			}
		}
		expiredOf := func(u api.AuthResponse, claimID string) []event.Event {
			return about(t, named(taskEvents(t, e, "user:"+u.User.ID), "claim.expired"), "claim_id", claimID)
		}

		t.Run("expiry frees the slot and tells the holder", func(t *testing.T) {
			a, b := vols[0], vols[1]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, e, tok(a), tk.ID)
			must(t, "claim of a full task", call(t, e, tok(b), "POST", taskPath(tk.ID, "/claims"), nil), 409, "task-full")
			seq, err := e.App.Events.Head(ctx, "org:"+o.ID)
			if err != nil {
				t.Fatal(err)
			}
			setLease(t, e, c.ID, time.Now().Add(-time.Minute))
			sweep()
			evs := expiredOf(a, c.ID)
			if len(evs) != 1 {
				t.Fatalf("got %d claim.expired events for the holder, want 1", len(evs))
			}
			wantPayload(t, evs[0], map[string]any{"task_id": tk.ID, "task_title": tk.Title})
			var updated []event.Event
			for _, ev := range about(t, named(taskEvents(t, e, "org:"+o.ID), "task.updated"), "id", tk.ID) {
				if ev.Seq > seq {
					updated = append(updated, ev)
				}
			}
			if len(updated) != 1 || payload(t, updated[0])["slots_taken"] != float64(0) {
				t.Errorf("task stream after expiry: got %d task.updated events (%v), want one with slots_taken 0", len(updated), updated)
			}
			if s := claimStatus(t, e, c.ID); s != "expired" {
				t.Errorf("claim status: got %s, want expired", s)
			}
			assertSlots(t, e, tok(coord), tk.ID, 0)
			if got := getTask(t, e, tok(a), tk.ID); got.MyClaim != nil {
				t.Errorf("holder's GET after expiry: got my_claim %+v, want none", got.MyClaim)
			}
			must(t, "extend after expiry", call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), nil), 409, "claim-expired")
			must(t, "release after expiry", call(t, e, tok(a), "POST", claimPath(c.ID, "/release"), nil), 409, "claim-expired")
			must(t, "complete after expiry", call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done"}), 409, "claim-expired")
			claimTask(t, e, tok(b), tk.ID)
			sweep()
			if n := len(expiredOf(a, c.ID)); n != 1 {
				t.Errorf("after another sweep: got %d claim.expired events, want still 1", n)
			}
			assertSlots(t, e, tok(coord), tk.ID, 1)
		})

		t.Run("claim.expiring once per lease", func(t *testing.T) {
			a := vols[2]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, e, tok(a), tk.ID)
			expiring := func() []event.Event {
				return about(t, named(taskEvents(t, e, "user:"+a.User.ID), "claim.expiring"), "claim_id", c.ID)
			}
			sweep()
			if n := len(expiring()); n != 0 {
				t.Fatalf("a lease of 60 minutes: got %d claim.expiring, want 0", n)
			}
			setLease(t, e, c.ID, time.Now().Add(5*time.Minute))
			sweep()
			sweep()
			evs := expiring()
			if len(evs) != 1 {
				t.Fatalf("after two sweeps within 10 minutes of expiry: got %d claim.expiring, want 1", len(evs))
			}
			if left, _ := payload(t, evs[0])["seconds_left"].(float64); left <= 0 || left > 300 {
				t.Errorf("claim.expiring: got seconds_left %v, want 1..300", left)
			}
			r := call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), nil)
			must(t, "extend", r, 200, "")
			var ext api.Claim
			r.Decode(t, &ext)
			if d := time.Until(ext.LeaseExpiresAt); ext.Version != 2 || d < 55*time.Minute || d > 61*time.Minute {
				t.Errorf("extend: got %+v (lease in %s), want version 2 and a lease an hour from now", ext, d)
			}
			sweep()
			if n := len(expiring()); n != 1 {
				t.Errorf("after extending: got %d claim.expiring, want still 1", n)
			}
			setLease(t, e, c.ID, time.Now().Add(5*time.Minute))
			sweep()
			sweep()
			if n := len(expiring()); n != 2 {
				t.Errorf("the extended lease nearing its end: got %d claim.expiring, want 2 (one per lease)", n)
			}
		})

		t.Run("an overdue claim refuses changes before any sweep", func(t *testing.T) {
			a := vols[3]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(a), tk.ID)
			setLease(t, e, c.ID, time.Now().Add(-time.Second))
			must(t, "extend an overdue claim", call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), nil), 409, "claim-expired")
			must(t, "coordinator releases an overdue claim", call(t, e, tok(coord), "POST", claimPath(c.ID, "/release"), nil), 409, "claim-expired")
			// Shown expired; or gone, if the background sweeper got there.
			if got := getTask(t, e, tok(a), tk.ID); (got.MyClaim == nil) != (claimStatus(t, e, c.ID) == "expired") ||
				got.MyClaim != nil && got.MyClaim.Status != api.ClaimExpired {
				t.Errorf("holder's GET: got my_claim %+v, want it shown expired", got.MyClaim)
			}
		})

		t.Run("expiry is enforced on read", func(t *testing.T) {
			a, b := vols[4], vols[5]
			// The app sweeps every 5 s in the background; a run that it
			// overlapped proves nothing and is tried again.
			for attempt := 1; ; attempt++ {
				tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
				c := claimTask(t, e, tok(a), tk.ID)
				setLease(t, e, c.ID, time.Now().Add(-time.Second))
				got := getTask(t, e, tok(coord), tk.ID)
				avail := listTasks(t, e, tok(b), "?scope=available")
				mine := listTasks(t, e, tok(a), "?scope=mine")
				if claimStatus(t, e, c.ID) != "active" {
					if attempt == 3 {
						t.Fatal("the background sweeper overlapped three attempts")
					}
					continue
				}
				if got.SlotsTaken != 0 {
					t.Errorf("GET of a task whose only holder is overdue: got slots_taken %d, want 0", got.SlotsTaken)
				}
				if !slices.Contains(avail, tk.ID) {
					t.Errorf("scope=available of another member: got %v, want it to include %s", avail, tk.ID)
				}
				if slices.Contains(mine, tk.ID) {
					t.Errorf("scope=mine of the overdue holder: got %v, want it without %s", mine, tk.ID)
				}
				nc := claimTask(t, e, tok(b), tk.ID)
				// Expired by the claim itself: in its transaction, at its time.
				if n := count(t, e, "claims", "id = ? AND status = 'expired' AND ended_at = (SELECT created_at FROM claims WHERE id = ?)", c.ID, nc.ID); n != 1 {
					t.Errorf("the overdue claim was not expired by the new claim's transaction (status %s)", claimStatus(t, e, c.ID))
				}
				if n := len(expiredOf(a, c.ID)); n != 1 {
					t.Errorf("holder: got %d claim.expired events, want 1", n)
				}
				assertSlots(t, e, tok(coord), tk.ID, 1)
				return
			}
		})
	})
}

// ---- visibility --------------------------------------------------------------

func TestTaskVisibility(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		offNat := e.User(t, "officer", "pusat", "")
		off31 := e.User(t, "officer", "dki", "31")
		off32 := e.User(t, "officer", "jabar", "32")
		coord, o := taskOrg(t, e, admin, "31")
		member := taskMembers(t, e, coord, o, 1, "3171")[0]
		outsider := e.User(t, "volunteer", "luar", "3171")

		t.Run("org tasks are for members", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 5))
			before := state(t, e)
			must(t, "outsider GET", call(t, e, tok(outsider), "GET", taskPath(tk.ID, ""), nil), 404, "not-found")
			must(t, "outsider claim", call(t, e, tok(outsider), "POST", taskPath(tk.ID, "/claims"), nil), 404, "not-found")
			must(t, "officer of 32 GET", call(t, e, tok(off32), "GET", taskPath(tk.ID, ""), nil), 404, "not-found")
			must(t, "outsider scope=org", call(t, e, tok(outsider), "GET", "/v1/tasks?scope=org&org_id="+o.ID, nil), 403, "forbidden")
			for _, q := range []string{"", "?scope=available", "?scope=mine", "?scope=national"} {
				if ids := listTasks(t, e, tok(outsider), q); slices.Contains(ids, tk.ID) {
					t.Errorf("outsider's list %q shows the org's task", q)
				}
			}
			if n := count(t, e, "claims", "task_id = ?", tk.ID); n != 0 || state(t, e) != before {
				t.Errorf("refused calls changed the database (%d claims)", n)
			}
			getTask(t, e, tok(member), tk.ID)
			getTask(t, e, tok(off31), tk.ID)
			must(t, "officer claims an org task", call(t, e, tok(off31), "POST", taskPath(tk.ID, "/claims"), nil), 403, "not-a-member")
			if ids := listTasks(t, e, tok(member), "?scope=available"); !slices.Contains(ids, tk.ID) {
				t.Errorf("member's scope=available: got %v, want it to include %s", ids, tk.ID)
			}
			must(t, "member scope=org", call(t, e, tok(member), "GET", "/v1/tasks?scope=org&org_id="+o.ID, nil), 200, "")
			must(t, "a member creates a task", call(t, e, tok(member), "POST", "/v1/tasks", taskBody(o.ID, 1)), 403, "forbidden")
			must(t, "a coordinator creates a national task", call(t, e, tok(coord), "POST", "/v1/tasks", taskBody("", 1)), 403, "forbidden")
			must(t, "an unknown task", call(t, e, tok(member), "POST", taskPath("0190c0de-0000-7000-8000-000000000000", "/claims"), nil), 404, "not-found")
		})

		t.Run("a suspended org's tasks take no claims", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 5))
			must(t, "suspend", call(t, e, tok(off31), "POST", orgPath(o, "/accreditation"), accreditation("suspend", "laporan dana", nil)), 200, "")
			must(t, "claim in a suspended org", call(t, e, tok(member), "POST", taskPath(tk.ID, "/claims"), nil), 409, "org-not-accredited")
			must(t, "assign in a suspended org", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": member.User.ID}), 409, "org-not-accredited")
			must(t, "create in a suspended org", call(t, e, tok(coord), "POST", "/v1/tasks", taskBody(o.ID, 1)), 409, "org-not-accredited")
			if ids := listTasks(t, e, tok(member), "?scope=available"); slices.Contains(ids, tk.ID) {
				t.Errorf("scope=available shows a suspended org's task")
			}
			if n := count(t, e, "claims", "task_id = ?", tk.ID); n != 0 {
				t.Errorf("got %d claims on a suspended org's task", n)
			}
			until := time.Now().Add(90 * 24 * time.Hour)
			must(t, "renew", call(t, e, tok(off31), "POST", orgPath(o, "/accreditation"), accreditation("renew", "sudah dilaporkan", &until)), 200, "")
			claimTask(t, e, tok(member), tk.ID)
		})

		t.Run("national-pool tasks keep to their region", func(t *testing.T) {
			tk := createTask(t, e, tok(off31), taskBody("", 5, "region_code", "31"))
			v3171 := e.User(t, "volunteer", "jaksel", "3171")
			v32 := e.User(t, "volunteer", "bandung", "32")
			vNat := e.User(t, "volunteer", "nasional", "")
			if ids := listTasks(t, e, tok(v3171), "?scope=available"); !slices.Contains(ids, tk.ID) {
				t.Errorf("volunteer of 3171, scope=available: got %v, want %s", ids, tk.ID)
			}
			for _, v := range []api.AuthResponse{v32, vNat} {
				if ids := listTasks(t, e, tok(v), "?scope=available"); slices.Contains(ids, tk.ID) {
					t.Errorf("volunteer of %v, scope=available: shows a task of 31", v.User.RegionCode)
				}
				must(t, "claim outside the region", call(t, e, tok(v), "POST", taskPath(tk.ID, "/claims"), nil), 403, "outside-region")
			}
			must(t, "an officer claims", call(t, e, tok(offNat), "POST", taskPath(tk.ID, "/claims"), nil), 403, "not-a-member")
			claimTask(t, e, tok(v3171), tk.ID)
			assertSlots(t, e, tok(off31), tk.ID, 1)
			must(t, "officer of 31 creates for 32", call(t, e, tok(off31), "POST", "/v1/tasks", taskBody("", 1, "region_code", "32")), 403, "outside-region")
			must(t, "officer of 31 creates a national task", call(t, e, tok(off31), "POST", "/v1/tasks", taskBody("", 1)), 403, "outside-region")
			must(t, "volunteer creates a national task", call(t, e, tok(v3171), "POST", "/v1/tasks", taskBody("", 1)), 403, "forbidden")
		})
	})
}

// ---- bad inputs --------------------------------------------------------------

// Every invalid field of a new task is refused, named, and creates nothing.
func TestTaskCreateValidation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "31")
		before := state(t, e) + fmt.Sprint(e.Count(t, "tasks"))
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		for _, c := range []struct {
			name   string
			kv     []any
			status int
			field  string
		}{
			{"title too short", []any{"title", "ab"}, 422, "title"},
			{"title of spaces", []any{"title", "      "}, 422, "title"},
			{"title too long", []any{"title", strings.Repeat("a", 201)}, 422, "title"},
			{"no title", []any{"title", nil}, 422, "title"},
			{"description too long", []any{"description", strings.Repeat("a", 5001)}, 422, "description"},
			{"bad kind", []any{"kind", "video"}, 422, "kind"},
			{"no kind", []any{"kind", nil}, 422, "kind"},
			{"social_media without platform", []any{"platform", nil}, 422, "platform"},
			{"bad platform", []any{"platform", "friendster"}, 422, "platform"},
			{"social_media without target", []any{"target", nil}, 422, "target"},
			{"bad target", []any{"target", "bukan target"}, 422, "target"},
			{"target not http", []any{"target", "ftp://example.org/x"}, 422, "target"},
			{"unknown region", []any{"region_code", "99"}, 422, "region_code"},
			{"region not a code", []any{"region_code", "31x"}, 422, "region_code"},
			{"slots 0", []any{"slots", 0}, 422, "slots"},
			{"slots 1001", []any{"slots", 1001}, 422, "slots"},
			{"lease_minutes 4", []any{"lease_minutes", 4}, 422, "lease_minutes"},
			{"lease_minutes 1441", []any{"lease_minutes", 1441}, 422, "lease_minutes"},
			{"due_at before starts_at", []any{"starts_at", start, "due_at", start.Add(-time.Hour)}, 422, "due_at"},
			{"due_at equal to starts_at", []any{"starts_at", start, "due_at", start}, 422, "due_at"},
			{"due_at in the past", []any{"due_at", time.Now().Add(-time.Hour).UTC()}, 422, "due_at"},
			{"unknown org", []any{"org_id", "0190c0de-0000-7000-8000-000000000000"}, 422, "org_id"},
			{"unknown field", []any{"priority", "high"}, 400, "priority"},
			{"slots not a number", []any{"slots", "ten"}, 400, "slots"},
			{"due_at not a time", []any{"due_at", "besok"}, 400, ""},
			{"wrongly cased field", []any{"Title", "Pantau konten"}, 400, "Title"},
		} {
			r := call(t, e, tok(coord), "POST", "/v1/tasks", taskBody(o.ID, 3, c.kv...))
			if r.Status != c.status {
				t.Errorf("%s: got %d %s, want %d", c.name, r.Status, r.Body, c.status)
				continue
			}
			p := r.Problem(t)
			switch {
			case c.status == 422 && (p.Type != api.ProblemTypePrefix+"validation" || !fieldErr(t, r, c.field)):
				t.Errorf("%s: got %s, want a validation problem naming %s", c.name, r.Body, c.field)
			case c.status == 400 && (p.Type != api.ProblemTypePrefix+"malformed" || !strings.Contains(p.Detail, c.field)):
				t.Errorf("%s: got %s, want a malformed problem naming %q", c.name, r.Body, c.field)
			}
		}
		for _, raw := range []string{"{", `{"title": "Pantau"} {}`, `[]`, ``} {
			r := e.Do(t, "POST", "/v1/tasks", raw, append(apptest.Bearer(tok(coord)), "Content-Type", "application/json")...)
			check(t, fmt.Sprintf("body %q", raw), r, 400, "malformed")
		}
		if after := state(t, e) + fmt.Sprint(e.Count(t, "tasks")); after != before {
			t.Errorf("refused creations changed the database:\n got  %s\n want %s", after, before)
		}
		// And the valid body creates one, with the defaults.
		tk := createTask(t, e, tok(coord), taskBody(o.ID, 0, "slots", nil, "lease_minutes", nil, "kind", "tps", "platform", nil, "target", nil, "region_code", "3171"))
		if tk.Slots != 1 || tk.LeaseMinutes != 120 || tk.Status != "open" || tk.SlotsTaken != 0 || *tk.RegionCode != "3171" {
			t.Errorf("defaults: got %+v, want 1 slot, a lease of 120 minutes, open", tk)
		}
	})
}

// ---- refusals, assignments, versions -----------------------------------------

func TestTaskClaimRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		vols := taskMembers(t, e, coord, o, 10, "")
		nonMember := volunteer(t, e, "luar")

		t.Run("closed task", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 3))
			held := claimTask(t, e, tok(vols[1]), tk.ID)
			must(t, "a member closes", call(t, e, tok(vols[0]), "POST", taskPath(tk.ID, "/close"), nil), 403, "forbidden")
			must(t, "close", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/close"), nil), 200, "")
			must(t, "claim a closed task", call(t, e, tok(vols[0]), "POST", taskPath(tk.ID, "/claims"), nil), 409, "task-closed")
			must(t, "assign a closed task", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": vols[0].User.ID}), 409, "task-closed")
			must(t, "close again", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/close"), nil), 200, "")
			// Active claims may still complete.
			must(t, "complete on a closed task", call(t, e, tok(vols[1]), "POST", claimPath(held.ID, "/complete"), map[string]any{"outcome": "content_gone"}), 200, "")
			due := createTask(t, e, tok(coord), taskBody(o.ID, 3, "due_at", time.Now().Add(time.Hour).UTC()))
			exec(t, e, "UPDATE tasks SET due_at = ? WHERE id = ?", time.Now().Add(-time.Second).UTC(), due.ID)
			must(t, "claim a task past due", call(t, e, tok(vols[0]), "POST", taskPath(due.ID, "/claims"), nil), 409, "task-closed")
			later := createTask(t, e, tok(coord), taskBody(o.ID, 3, "starts_at", time.Now().Add(time.Hour).UTC()))
			must(t, "claim a task not started", call(t, e, tok(vols[0]), "POST", taskPath(later.ID, "/claims"), nil), 409, "task-not-started")
		})

		t.Run("someone else's claim", func(t *testing.T) {
			a, b := vols[2], vols[3]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(a), tk.ID)
			for _, act := range []struct {
				path string
				body any
			}{{"/complete", map[string]any{"outcome": "done"}}, {"/release", nil}, {"/extend", nil}} {
				must(t, "another member "+act.path, call(t, e, tok(b), "POST", claimPath(c.ID, act.path), act.body), 404, "not-found")
				must(t, "a non-member "+act.path, call(t, e, tok(nonMember), "POST", claimPath(c.ID, act.path), act.body), 404, "not-found")
			}
			// The coordinator sees it, may release it, but not complete or
			// extend it for the holder.
			must(t, "coordinator completes", call(t, e, tok(coord), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done"}), 403, "forbidden")
			must(t, "coordinator extends", call(t, e, tok(coord), "POST", claimPath(c.ID, "/extend"), nil), 403, "forbidden")
			must(t, "an unknown claim", call(t, e, tok(a), "POST", claimPath("0190c0de-0000-7000-8000-000000000000", "/extend"), nil), 404, "not-found")
			if s := claimStatus(t, e, c.ID); s != "active" || count(t, e, "claims", "id = ? AND version = 1", c.ID) != 1 {
				t.Errorf("refused changes changed the claim (status %s)", s)
			}
		})

		t.Run("completion outcomes", func(t *testing.T) {
			a := vols[4]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(a), tk.ID)
			for name, body := range map[string]any{
				"bad outcome":   map[string]any{"outcome": "selesai"},
				"no outcome":    map[string]any{},
				"note too long": map[string]any{"outcome": "done", "note": strings.Repeat("n", 2001)},
			} {
				r := call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), body)
				field := "outcome"
				if name == "note too long" {
					field = "note"
				}
				if check(t, name, r, 422, "validation") && !fieldErr(t, r, field) {
					t.Errorf("%s: got %s, want it to name %s", name, r.Body, field)
				}
			}
			check(t, "unknown field", call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done", "rating": 5}), 400, "malformed")
			r := call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "not_applicable", "note": "akun sudah dihapus"})
			must(t, "complete", r, 200, "")
			var done api.Claim
			r.Decode(t, &done)
			if done.Status != "completed" || done.Outcome == nil || *done.Outcome != "not_applicable" || done.Note != "akun sudah dihapus" || done.EndedAt == nil || done.Version != 2 {
				t.Errorf("complete: got %+v", done)
			}
			must(t, "complete twice", call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done"}), 409, "claim-not-active")
			must(t, "release a completed claim", call(t, e, tok(a), "POST", claimPath(c.ID, "/release"), nil), 409, "claim-not-active")
			assertSlots(t, e, tok(coord), tk.ID, 1)
		})

		t.Run("claim limit", func(t *testing.T) {
			a := vols[5]
			var claims []api.Claim
			for range 3 {
				claims = append(claims, claimTask(t, e, tok(a), createTask(t, e, tok(coord), taskBody(o.ID, 2)).ID))
			}
			fourth := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			must(t, "a 4th claim", call(t, e, tok(a), "POST", taskPath(fourth.ID, "/claims"), nil), 409, "claim-limit")
			must(t, "a 4th by assignment", call(t, e, tok(coord), "POST", taskPath(fourth.ID, "/assignments"), map[string]any{"user_id": a.User.ID}), 409, "claim-limit")
			assertSlots(t, e, tok(coord), fourth.ID, 0)
			must(t, "release one", call(t, e, tok(a), "POST", claimPath(claims[0].ID, "/release"), nil), 200, "")
			claimTask(t, e, tok(a), fourth.ID)
			must(t, "a 4th again", call(t, e, tok(a), "POST", taskPath(claims[0].TaskID, "/claims"), nil), 409, "claim-limit")
			// An overdue claim no longer counts.
			setLease(t, e, claims[1].ID, time.Now().Add(-time.Second))
			claimTask(t, e, tok(a), claims[0].TaskID)
		})

		t.Run("assignments", func(t *testing.T) {
			m := vols[6]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			r := call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": m.User.ID})
			must(t, "assign", r, 201, "")
			var c api.Claim
			r.Decode(t, &c)
			if c.UserID != m.User.ID || c.AssignedBy == nil || *c.AssignedBy != coord.User.ID || c.Status != "active" || r.Header.Get("Location") != "/v1/claims/"+c.ID {
				t.Errorf("assign: got %+v (Location %q), want an active claim of the member assigned by the coordinator", c, r.Header.Get("Location"))
			}
			evs := named(taskEvents(t, e, "user:"+m.User.ID), "assignment.created")
			if len(evs) != 1 {
				t.Fatalf("got %d assignment.created events for the member, want 1", len(evs))
			}
			if got := payload(t, evs[0]); got["claim"].(map[string]any)["id"] != c.ID || got["task"].(map[string]any)["id"] != tk.ID {
				t.Errorf("assignment.created: got %s", evs[0].Data)
			}
			if got := getTask(t, e, tok(m), tk.ID); got.MyClaim == nil || got.MyClaim.ID != c.ID {
				t.Errorf("member's GET: got my_claim %+v, want the assigned claim", got.MyClaim)
			}
			must(t, "assign again", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": m.User.ID}), 409, "already-claimed")
			must(t, "assign a non-member", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": nonMember.User.ID}), 403, "not-a-member")
			must(t, "a member assigns", call(t, e, tok(vols[7]), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": vols[7].User.ID}), 403, "forbidden")
			must(t, "a non-member assigns", call(t, e, tok(nonMember), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": vols[7].User.ID}), 404, "not-found")
			r = call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": "0190c0de-0000-7000-8000-000000000000"})
			if check(t, "assign an unknown user", r, 422, "validation") && !fieldErr(t, r, "user_id") {
				t.Errorf("assign an unknown user: got %s, want it to name user_id", r.Body)
			}
			check(t, "assign with an unknown field", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": m.User.ID, "x": 1}), 400, "malformed")
			claimTask(t, e, tok(vols[7]), tk.ID)
			must(t, "assign on a full task", call(t, e, tok(coord), "POST", taskPath(tk.ID, "/assignments"), map[string]any{"user_id": vols[8].User.ID}), 409, "task-full")
			assertSlots(t, e, tok(coord), tk.ID, 2)
		})

		t.Run("coordinator release tells the holder", func(t *testing.T) {
			m, self := vols[8], vols[9]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(m), tk.ID)
			s := claimTask(t, e, tok(self), tk.ID)
			r := call(t, e, tok(coord), "POST", claimPath(c.ID, "/release"), nil)
			must(t, "coordinator releases", r, 200, "")
			var rel api.Claim
			r.Decode(t, &rel)
			if rel.Status != "released" || rel.EndedAt == nil || rel.Version != 2 {
				t.Errorf("release: got %+v", rel)
			}
			evs := named(taskEvents(t, e, "user:"+m.User.ID), "claim.released")
			if len(evs) != 1 {
				t.Fatalf("got %d claim.released events for the holder, want 1", len(evs))
			}
			wantPayload(t, evs[0], map[string]any{"claim_id": c.ID, "task_id": tk.ID, "released_by": coord.User.ID})
			must(t, "own release", call(t, e, tok(self), "POST", claimPath(s.ID, "/release"), nil), 200, "")
			if n := len(named(taskEvents(t, e, "user:"+self.User.ID), "claim.released")); n != 0 {
				t.Errorf("a holder's own release: got %d claim.released events, want 0", n)
			}
			must(t, "release twice", call(t, e, tok(coord), "POST", claimPath(c.ID, "/release"), nil), 409, "claim-not-active")
			assertSlots(t, e, tok(coord), tk.ID, 0)
		})

		t.Run("versions", func(t *testing.T) {
			a := vols[0]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(a), tk.ID)
			must(t, "extend at version 2", call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), map[string]any{"version": 2}), 409, "claim-version")
			r := call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), map[string]any{"version": 1})
			must(t, "extend at version 1", r, 200, "")
			var ext api.Claim
			r.Decode(t, &ext)
			if ext.Version != 2 || !ext.LeaseExpiresAt.After(c.LeaseExpiresAt) {
				t.Errorf("extend: got %+v, want version 2 with a later lease than %s", ext, c.LeaseExpiresAt)
			}
			must(t, "release at version 1", call(t, e, tok(a), "POST", claimPath(c.ID, "/release"), map[string]any{"version": 1}), 409, "claim-version")
			must(t, "complete at version 1", call(t, e, tok(a), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done", "version": 1}), 409, "claim-version")
			check(t, "extend with a bad body", call(t, e, tok(a), "POST", claimPath(c.ID, "/extend"), map[string]any{"version": "2"}), 400, "malformed")
			check(t, "claim with a body", call(t, e, tok(vols[1]), "POST", taskPath(tk.ID, "/claims"), map[string]any{"x": 1}), 400, "malformed")
			must(t, "release at version 2", call(t, e, tok(a), "POST", claimPath(c.ID, "/release"), map[string]any{"version": 2}), 200, "")
		})
	})
}

// ---- listing -----------------------------------------------------------------

func TestTaskListScopes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		offNat := e.User(t, "officer", "pusat", "")
		off31 := e.User(t, "officer", "dki", "31")
		coord, o := taskOrg(t, e, admin, "31")
		coordP, p := taskOrg(t, e, admin, "32")
		ms := taskMembers(t, e, coord, o, 2, "3171")
		m, m2 := ms[0], ms[1]

		o1 := createTask(t, e, tok(coord), taskBody(o.ID, 3))
		o2 := createTask(t, e, tok(coord), taskBody(o.ID, 3))
		must(t, "close", call(t, e, tok(coord), "POST", taskPath(o2.ID, "/close"), nil), 200, "")
		o3 := createTask(t, e, tok(coord), taskBody(o.ID, 1, "region_code", "3171"))
		claimTask(t, e, tok(m2), o3.ID)
		o4 := createTask(t, e, tok(coord), taskBody(o.ID, 2))
		held := claimTask(t, e, tok(m), o4.ID)
		o5 := createTask(t, e, tok(coord), taskBody(o.ID, 2, "region_code", "32"))
		p1 := createTask(t, e, tok(coordP), taskBody(p.ID, 3))
		n31 := createTask(t, e, tok(off31), taskBody("", 3, "region_code", "31"))
		n32 := createTask(t, e, tok(offNat), taskBody("", 3, "region_code", "32"))
		n0 := createTask(t, e, tok(offNat), taskBody("", 3))
		_ = p1

		ids := func(ts ...api.Task) []string {
			var out []string
			for i := len(ts) - 1; i >= 0; i-- { // newest first
				out = append(out, ts[i].ID)
			}
			return out
		}
		for _, c := range []struct {
			who   api.AuthResponse
			query string
			want  []string
		}{
			{m, "", ids(o1, n31, n0)},
			{m, "?scope=available", ids(o1, n31, n0)},
			{m, "?scope=available&region=31", ids(n31)},
			{m, "?scope=mine", ids(o4)},
			{m2, "?scope=mine", ids(o3)},
			{m, "?scope=org&org_id=" + o.ID, ids(o1, o2, o3, o4, o5)},
			{m, "?scope=org&org_id=" + o.ID + "&status=closed", ids(o2)},
			{m, "?scope=org&org_id=" + o.ID + "&status=open", ids(o1, o3, o4, o5)},
			{m, "?scope=org&org_id=" + o.ID + "&region=3171", ids(o3)},
			{m, "?scope=org&org_id=" + o.ID + "&region=32", ids(o5)},
			{off31, "?scope=org&org_id=" + o.ID, ids(o1, o2, o3, o4, o5)},
			{m, "?scope=national", ids(n31, n32, n0)},
			{m, "?scope=national&region=31", ids(n31)},
			{m, "?scope=national&region=32&status=open", ids(n32)},
			{m, "?scope=national&status=closed", nil},
			{coord, "?scope=available", ids(o1, o4, n0)}, // a national volunteer: no regional tasks
		} {
			if got := listTasks(t, e, tok(c.who), c.query); !slices.Equal(got, c.want) {
				t.Errorf("%s as %s: got %v, want %v", c.query, c.who.User.Name, got, c.want)
			}
		}
		// my_claim and slots_taken in lists.
		r := call(t, e, tok(m), "GET", "/v1/tasks?scope=mine", nil)
		var page api.Page[api.Task]
		r.Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].MyClaim == nil || page.Items[0].MyClaim.ID != held.ID || page.Items[0].SlotsTaken != 1 {
			t.Errorf("scope=mine: got %s, want o4 with my_claim and slots_taken 1", r.Body)
		}
		must(t, "complete", call(t, e, tok(m), "POST", claimPath(held.ID, "/complete"), map[string]any{"outcome": "done"}), 200, "")
		if got := listTasks(t, e, tok(m), "?scope=mine"); !slices.Equal(got, ids(o4)) {
			t.Errorf("scope=mine after completing: got %v, want %v", got, ids(o4))
		}
		// Once m leaves the org, its tasks are no longer theirs to see, the
		// completed one included; a national-pool task they hold stays.
		n := claimTask(t, e, tok(m), n0.ID)
		must(t, "leave", call(t, e, tok(m), "DELETE", "/v1/orgs/"+o.ID+"/memberships/"+m.User.ID, nil), 204, "")
		if got := listTasks(t, e, tok(m), "?scope=mine"); !slices.Equal(got, ids(n0)) {
			t.Errorf("scope=mine after leaving the org: got %v, want %v (claim %s)", got, ids(n0), n.ID)
		}
		// A covering officer who holds an org task sees it; one whose
		// region does not cover the org does not.
		off32 := e.User(t, "officer", "jabar", "32")
		for _, c := range []struct {
			who  api.AuthResponse
			want []string
		}{{off31, ids(o1)}, {off32, nil}, {offNat, ids(o1)}} {
			now := time.Now().UTC()
			exec(t, e, "INSERT INTO claims (id, task_id, user_id, status, lease_expires_at, created_at, ended_at) VALUES (?, ?, ?, 'completed', ?, ?, ?)",
				auth.NewID(), o1.ID, c.who.User.ID, now, now, now)
			if got := listTasks(t, e, tok(c.who), "?scope=mine"); !slices.Equal(got, c.want) {
				t.Errorf("scope=mine of officer %s: got %v, want %v", c.who.User.Name, got, c.want)
			}
		}
		must(t, "scope=org of another org", call(t, e, tok(m), "GET", "/v1/tasks?scope=org&org_id="+p.ID, nil), 403, "forbidden")
		must(t, "scope=org without org_id", call(t, e, tok(m), "GET", "/v1/tasks?scope=org", nil), 400, "bad-query")
		for _, q := range []string{"?scope=all", "?status=done", "?region=99", "?limit=0", "?limit=201", "?cursor=abc", "?cursor=" + url.QueryEscape("bm90LWEtdXVpZA")} {
			check(t, "GET /v1/tasks"+q, call(t, e, tok(m), "GET", "/v1/tasks"+q, nil), 400, "")
		}
		must(t, "anonymous", call(t, e, "", "GET", "/v1/tasks", nil), 401, "")
	})
}

// Pages by limit and cursor never repeat a task, even while tasks are added
// between fetches.
func TestTaskListPagination(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		var want []string
		for range 23 {
			want = append(want, createTask(t, e, tok(coord), taskBody(o.ID, 2)).ID)
		}
		slices.Reverse(want)
		seen := map[string]bool{}
		var got, added []string
		var sizes []int
		cursor := ""
		for range 10 {
			q := "?scope=org&org_id=" + o.ID + "&limit=5"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := call(t, e, tok(coord), "GET", "/v1/tasks"+q, nil)
			must(t, q, r, 200, "")
			var p api.Page[api.Task]
			r.Decode(t, &p)
			sizes = append(sizes, len(p.Items))
			for _, tk := range p.Items {
				if seen[tk.ID] {
					t.Errorf("task %s on two pages", tk.ID)
				}
				seen[tk.ID] = true
				got = append(got, tk.ID)
			}
			for range 2 {
				added = append(added, createTask(t, e, tok(coord), taskBody(o.ID, 2)).ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if !slices.Equal(got, want) || !slices.Equal(sizes, []int{5, 5, 5, 5, 3}) {
			t.Errorf("got pages of %v with %v, want pages of [5 5 5 5 3] with %v", sizes, got, want)
		}
		// The next first page starts with what was added meanwhile.
		first := listTasks(t, e, tok(coord), "?scope=org&org_id="+o.ID+"&limit=3")
		slices.Reverse(added)
		if !slices.Equal(first, added[:3]) {
			t.Errorf("first page afterwards: got %v, want the newest %v", first, added[:3])
		}
	})
}

// ---- model-based -------------------------------------------------------------

// modelClaim is what the model knows of a claim.
type modelClaim struct {
	id      string
	task    int
	user    int
	status  string // active, released, expired, completed
	version int
}

// claimModel runs random sequences of claims, releases, expiries,
// completions, extensions and closes by a few members on a few small tasks
// against a model of the rules, over HTTP.
type claimModel struct {
	seen   map[string]int // answers checked, by action and answer
	e      *apptest.Env
	admin  api.AuthResponse
	coord  api.AuthResponse
	org    api.Org
	users  []api.AuthResponse
	tasks  []api.Task
	closed []bool
	claims []*modelClaim
}

const modelLimit = 3 // MaxActiveClaims of the apptest app

func (m *claimModel) taken(k int) int {
	n := 0
	for _, c := range m.claims {
		if c.task == k && (c.status == api.ClaimActive || c.status == api.ClaimCompleted) {
			n++
		}
	}
	return n
}

func (m *claimModel) active(u int) (n int, tasks map[int]bool) {
	tasks = map[int]bool{}
	for _, c := range m.claims {
		if c.user == u && c.status == api.ClaimActive {
			n++
			tasks[c.task] = true
		}
	}
	return n, tasks
}

func (m *claimModel) send(rt *rapid.T, token, method, path string, body any) reply {
	r, err := send(m.e.URL, token, method, path, body)
	if err != nil {
		rt.Fatal(err)
	}
	return r
}

// expect fails unless r is want ("201", "409 task-full", ...); it counts
// the answers of action.
func (m *claimModel) expect(rt *rapid.T, action, what string, r reply, want string) {
	if r.String() != want {
		rt.Fatalf("%s: got %s (%s), want %s", what, r, bytes.TrimSpace(r.Body), want)
	}
	if action != "" {
		m.seen[action+" "+want]++
	}
}

func (m *claimModel) init(rt *rapid.T) {
	e := m.e
	r := m.send(rt, tok(m.admin), "POST", "/v1/orgs", orgBody("", m.coord.User.Email))
	m.expect(rt, "", "create org", r, "201")
	if err := json.Unmarshal(r.Body, &m.org); err != nil {
		rt.Fatal(err)
	}
	r = m.send(rt, tok(m.coord), "POST", orgPath(m.org, "/invites"), map[string]any{"max_uses": 10, "expires_at": time.Now().Add(time.Hour).UTC()})
	m.expect(rt, "", "invite", r, "201")
	var inv api.Invite
	if err := json.Unmarshal(r.Body, &inv); err != nil {
		rt.Fatal(err)
	}
	for range rapid.IntRange(1, 3).Draw(rt, "users") {
		u, err := newMember(e, m.org.ID, inv.Code, "")
		if err != nil {
			rt.Fatal(err)
		}
		m.users = append(m.users, u)
	}
	// Up to 5 tasks, so the limit of 3 active claims can bite.
	for i := range rapid.IntRange(1, 5).Draw(rt, "tasks") {
		slots := rapid.IntRange(1, 3).Draw(rt, fmt.Sprintf("slots%d", i))
		r := m.send(rt, tok(m.coord), "POST", "/v1/tasks", taskBody(m.org.ID, slots))
		m.expect(rt, "", "create task", r, "201")
		var tk api.Task
		if err := json.Unmarshal(r.Body, &tk); err != nil {
			rt.Fatal(err)
		}
		m.tasks = append(m.tasks, tk)
		m.closed = append(m.closed, false)
	}
}

func (m *claimModel) pick(rt *rapid.T, onlyActive bool) *modelClaim {
	var cs []*modelClaim
	for _, c := range m.claims {
		if !onlyActive || c.status == api.ClaimActive {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		rt.Skip("no claim to act on")
	}
	return rapid.SampledFrom(cs).Draw(rt, "claim")
}

// refusal is what the API answers a change of c by its holder (or a
// manager) when c is no longer active; "" when it is.
func refusal(c *modelClaim) string {
	switch c.status {
	case api.ClaimActive:
		return ""
	case api.ClaimExpired:
		return "409 claim-expired"
	}
	return "409 claim-not-active"
}

// other is a member who is not u.
func (m *claimModel) other(rt *rapid.T, u int) (api.AuthResponse, bool) {
	if len(m.users) < 2 {
		return api.AuthResponse{}, false
	}
	o := rapid.IntRange(0, len(m.users)-2).Draw(rt, "other")
	if o >= u {
		o++
	}
	return m.users[o], true
}

func (m *claimModel) decodeClaim(rt *rapid.T, r reply) api.Claim {
	var c api.Claim
	if err := json.Unmarshal(r.Body, &c); err != nil {
		rt.Fatal(err)
	}
	return c
}

func (m *claimModel) actions() map[string]func(*rapid.T) {
	acts := map[string]func(*rapid.T){
		"claim": func(rt *rapid.T) {
			u := rapid.IntRange(0, len(m.users)-1).Draw(rt, "user")
			k := rapid.IntRange(0, len(m.tasks)-1).Draw(rt, "task")
			n, holds := m.active(u)
			want := "201"
			switch {
			case m.closed[k]:
				want = "409 task-closed"
			case holds[k]:
				want = "409 already-claimed"
			case n >= modelLimit:
				want = "409 claim-limit"
			case m.taken(k) >= m.tasks[k].Slots:
				want = "409 task-full"
			}
			r := m.send(rt, tok(m.users[u]), "POST", taskPath(m.tasks[k].ID, "/claims"), nil)
			m.expect(rt, "claim", fmt.Sprintf("user %d claims task %d", u, k), r, want)
			if want == "201" {
				c := m.decodeClaim(rt, r)
				if c.Status != api.ClaimActive || c.Version != 1 || c.UserID != m.users[u].User.ID || c.TaskID != m.tasks[k].ID {
					rt.Fatalf("claim: got %+v", c)
				}
				m.claims = append(m.claims, &modelClaim{id: c.ID, task: k, user: u, status: api.ClaimActive, version: 1})
			}
		},
		"release": func(rt *rapid.T) {
			c := m.pick(rt, false)
			by := rapid.SampledFrom([]string{"holder", "coordinator", "other"}).Draw(rt, "by")
			token, want := tok(m.users[c.user]), refusal(c)
			switch by {
			case "coordinator":
				token = tok(m.coord)
			case "other":
				o, ok := m.other(rt, c.user)
				if !ok {
					rt.Skip("one user")
				}
				token, want = tok(o), "404 not-found"
			}
			if want == "" {
				want = "200"
			}
			r := m.send(rt, token, "POST", claimPath(c.id, "/release"), nil)
			m.expect(rt, "release by "+by, fmt.Sprintf("%s releases a claim of user %d on task %d (%s)", by, c.user, c.task, c.status), r, want)
			if want == "200" {
				c.status, c.version = api.ClaimReleased, c.version+1
				if got := m.decodeClaim(rt, r); got.Status != c.status || got.Version != c.version {
					rt.Fatalf("release: got %+v, want released at version %d", got, c.version)
				}
			}
		},
		"complete": func(rt *rapid.T) {
			c := m.pick(rt, false)
			by := rapid.SampledFrom([]string{"holder", "holder", "coordinator", "other"}).Draw(rt, "by")
			token, want := tok(m.users[c.user]), refusal(c)
			switch by {
			case "coordinator":
				token, want = tok(m.coord), "403 forbidden"
			case "other":
				o, ok := m.other(rt, c.user)
				if !ok {
					rt.Skip("one user")
				}
				token, want = tok(o), "404 not-found"
			}
			if want == "" {
				want = "200"
			}
			outcome := rapid.SampledFrom(api.Outcomes).Draw(rt, "outcome")
			r := m.send(rt, token, "POST", claimPath(c.id, "/complete"), map[string]any{"outcome": outcome})
			m.expect(rt, "complete by "+by, fmt.Sprintf("%s completes a claim of user %d on task %d (%s)", by, c.user, c.task, c.status), r, want)
			if want == "200" {
				c.status, c.version = api.ClaimCompleted, c.version+1
				if got := m.decodeClaim(rt, r); got.Status != c.status || got.Version != c.version || got.Outcome == nil || *got.Outcome != outcome {
					rt.Fatalf("complete: got %+v, want completed (%s) at version %d", got, outcome, c.version)
				}
			}
		},
		"extend": func(rt *rapid.T) {
			c := m.pick(rt, false)
			var body any
			want := refusal(c)
			switch rapid.SampledFrom([]string{"none", "right", "wrong"}).Draw(rt, "version") {
			case "right":
				body = map[string]any{"version": c.version}
			case "wrong":
				v := c.version + rapid.SampledFrom([]int{-1, 1, 2}).Draw(rt, "off")
				body = map[string]any{"version": v}
				if want == "" {
					want = "409 claim-version"
				}
			}
			if want == "" {
				want = "200"
			}
			r := m.send(rt, tok(m.users[c.user]), "POST", claimPath(c.id, "/extend"), body)
			m.expect(rt, "extend", fmt.Sprintf("user %d extends a claim on task %d (%s, version %d) with %v", c.user, c.task, c.status, c.version, body), r, want)
			if want == "200" {
				c.version++
				if got := m.decodeClaim(rt, r); got.Status != api.ClaimActive || got.Version != c.version {
					rt.Fatalf("extend: got %+v, want active at version %d", got, c.version)
				}
			}
		},
		"expire": func(rt *rapid.T) {
			c := m.pick(rt, true)
			if _, err := m.e.App.DB.NewRaw("UPDATE claims SET lease_expires_at = ? WHERE id = ?",
				time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond), c.id).Exec(context.Background()); err != nil {
				rt.Fatal(err)
			}
			// Either the sweeper expires it now, or a later read or claim
			// does: the API must not tell the difference.
			if rapid.Bool().Draw(rt, "sweep") {
				if _, _, err := m.e.App.Tasks.Sweep(context.Background()); err != nil {
					rt.Fatal(err)
				}
			}
			c.status = api.ClaimExpired
		},
		"close": func(rt *rapid.T) {
			if rapid.IntRange(0, 15).Draw(rt, "rarely") != 0 {
				rt.Skip("close rarely")
			}
			k := rapid.IntRange(0, len(m.tasks)-1).Draw(rt, "task")
			r := m.send(rt, tok(m.coord), "POST", taskPath(m.tasks[k].ID, "/close"), nil)
			m.expect(rt, "close", "close", r, "200")
			m.closed[k] = true
		},
		"": m.check,
	}
	// Claims, the heart of it, come up three times as often.
	acts["claim again"], acts["claim more"] = acts["claim"], acts["claim"]
	return acts
}

// check holds the model against the API and the database after every step.
func (m *claimModel) check(rt *rapid.T) {
	ctx := context.Background()
	r := m.send(rt, tok(m.coord), "GET", "/v1/tasks?scope=org&org_id="+m.org.ID, nil)
	m.expect(rt, "", "list", r, "200")
	var page api.Page[api.Task]
	if err := json.Unmarshal(r.Body, &page); err != nil {
		rt.Fatal(err)
	}
	byID := map[string]api.Task{}
	for _, tk := range page.Items {
		byID[tk.ID] = tk
	}
	ids := make([]string, len(m.tasks))
	for k, want := range m.tasks {
		ids[k] = want.ID
		got, ok := byID[want.ID]
		switch {
		case !ok:
			rt.Fatalf("task %d missing from the org's list", k)
		case got.SlotsTaken != m.taken(k):
			rt.Fatalf("task %d: got slots_taken %d, model says %d", k, got.SlotsTaken, m.taken(k))
		case got.SlotsTaken > got.Slots:
			rt.Fatalf("task %d: %d slots taken of %d", k, got.SlotsTaken, got.Slots)
		case (got.Status == api.TaskClosed) != m.closed[k]:
			rt.Fatalf("task %d: got status %s, model closed %v", k, got.Status, m.closed[k])
		}
	}
	var rows []struct {
		ID      string    `bun:"id"`
		TaskID  string    `bun:"task_id"`
		UserID  string    `bun:"user_id"`
		Status  string    `bun:"status"`
		Lease   time.Time `bun:"lease_expires_at"`
		Version int       `bun:"version"`
	}
	if err := m.e.App.DB.NewSelect().Table("claims").Column("id", "task_id", "user_id", "status", "lease_expires_at", "version").
		Where("task_id IN (?)", bun.In(ids)).Scan(ctx, &rows); err != nil {
		rt.Fatal(err)
	}
	now := time.Now()
	status := map[string]string{}
	activePerUser := map[string]int{}
	activePerUserTask := map[string]int{}
	for _, row := range rows {
		s := row.Status
		if s == api.ClaimActive && !row.Lease.After(now) {
			s = api.ClaimExpired
		}
		status[row.ID] = s
		if s == api.ClaimActive {
			activePerUser[row.UserID]++
			activePerUserTask[row.UserID+row.TaskID]++
		}
	}
	if len(rows) != len(m.claims) {
		rt.Fatalf("got %d claim rows, model has %d", len(rows), len(m.claims))
	}
	for _, c := range m.claims {
		if status[c.id] != c.status {
			rt.Fatalf("claim of user %d on task %d: got %s, model says %s", c.user, c.task, status[c.id], c.status)
		}
	}
	for u, n := range activePerUser {
		if n > modelLimit {
			rt.Fatalf("user %s holds %d active claims", u, n)
		}
	}
	for k, n := range activePerUserTask {
		if n > 1 {
			rt.Fatalf("%s: %d active claims of one user on one task", k, n)
		}
	}
	// Counter and rows in one statement, one snapshot: the app's own
	// sweeper may expire an overdue claim at any moment between two reads.
	var counters []struct {
		ID         string `bun:"id"`
		SlotsTaken int    `bun:"slots_taken"`
		Rows       int    `bun:"n"`
	}
	err := m.e.App.DB.NewSelect().Table("tasks").Column("id", "slots_taken").
		ColumnExpr("(SELECT count(*) FROM claims c WHERE c.task_id = tasks.id AND c.status IN ('active', 'completed')) AS n").
		Where("id IN (?)", bun.In(ids)).Scan(ctx, &counters)
	if err != nil {
		rt.Fatal(err)
	}
	for _, c := range counters {
		if c.SlotsTaken != c.Rows {
			rt.Fatalf("task %s: counter %d, but %d active or completed rows", c.ID, c.SlotsTaken, c.Rows)
		}
	}
}

func TestTaskClaimModel(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord := volunteer(t, e, "koordinator")
		// Fewer under the race detector, which slows in-process SQLite
		// most, to keep the file within its time.
		checks := map[bool]map[dbtest.Backend]int{false: {dbtest.SQLite: 50, dbtest.Postgres: 15}, true: {dbtest.SQLite: 8, dbtest.Postgres: 8}}[apptest.RaceEnabled()][e.Backend]
		defer apptest.RapidFlags(checks)()
		seen := map[string]int{}
		rapid.Check(t, func(rt *rapid.T) {
			m := &claimModel{seen: seen, e: e, admin: admin, coord: coord}
			m.init(rt)
			rt.Repeat(m.actions())
		})
		t.Logf("answers checked: %v", seen)
	})
}
