package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jarimu/jarimu/api"
)

// ClaimOptions size the claims race.
type ClaimOptions struct {
	Volunteers int
	Tasks      int
	Slots      int
	Duration   time.Duration
	Prefix     string
}

// call sends one JSON request with a bearer token and decodes the answer.
func (e *Env) call(ctx context.Context, method, path, token string, in, out any, i int) (int, string, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, e.url(i)+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.httpClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var p api.Problem
		json.Unmarshal(b, &p)
		return resp.StatusCode, strings.TrimPrefix(p.Type, api.ProblemTypePrefix), nil
	}
	if out != nil {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode, "", nil
}

// raceSetup makes an org with a coordinator, the volunteers as members (by
// invite) and the tasks, all through the API with minted tokens.
func (e *Env) raceSetup(ctx context.Context, o ClaimOptions) (coord string, vols []string, tasks []string, err error) {
	officerIDs, err := e.Seeder.SeedUsers(ctx, 1, "officer", "", o.Prefix+"-officer")
	if err != nil {
		return "", nil, nil, err
	}
	ids, err := e.Seeder.SeedUsers(ctx, o.Volunteers+1, "volunteer", "3171", o.Prefix)
	if err != nil {
		return "", nil, nil, err
	}
	officer, _, _ := e.Minter.Issue(officerIDs[0], "officer")
	coord, _, _ = e.Minter.Issue(ids[0], "volunteer")
	email := o.Prefix + "-0@seed.invalid"
	var org api.Org
	req := api.CreateOrgRequest{Name: "Bench " + o.Prefix, AccreditationNumber: o.Prefix, AccreditedUntil: time.Now().Add(24 * time.Hour), CoordinatorEmail: &email}
	if st, typ, err := e.call(ctx, "POST", "/v1/orgs", officer, req, &org, 0); err != nil || st != 201 {
		return "", nil, nil, fmt.Errorf("create org: %d %s %v", st, typ, err)
	}
	var inv api.Invite
	if st, typ, err := e.call(ctx, "POST", "/v1/orgs/"+org.ID+"/invites", coord, api.InviteRequest{MaxUses: o.Volunteers, ExpiresAt: time.Now().Add(time.Hour)}, &inv, 0); err != nil || st != 201 {
		return "", nil, nil, fmt.Errorf("invite: %d %s %v", st, typ, err)
	}
	for i, id := range ids[1:] {
		tok, _, _ := e.Minter.Issue(id, "volunteer")
		if st, typ, err := e.call(ctx, "POST", "/v1/orgs/"+org.ID+"/memberships", tok, api.JoinRequest{InviteCode: &inv.Code}, nil, i); err != nil || st != 201 {
			return "", nil, nil, fmt.Errorf("join: %d %s %v", st, typ, err)
		}
		vols = append(vols, tok)
	}
	for i := range o.Tasks {
		slots := o.Slots
		var t api.Task
		tr := api.CreateTaskRequest{OrgID: &org.ID, Title: fmt.Sprintf("Pantau TPS %d", i), Kind: api.KindTPS, Slots: &slots}
		if st, typ, err := e.call(ctx, "POST", "/v1/tasks", coord, tr, &t, i); err != nil || st != 201 {
			return "", nil, nil, fmt.Errorf("task: %d %s %v", st, typ, err)
		}
		tasks = append(tasks, t.ID)
	}
	return coord, vols, tasks, nil
}

// Claims races Volunteers for Tasks tasks of Slots slots for Duration: each
// volunteer claims a random task, and on success releases it (or, one time
// in four, completes it, so tasks fill up and task-full is exercised). It
// reports claim requests per second, latency, answers by problem type, and
// checks that no task holds more claims than slots.
func Claims(ctx context.Context, e *Env, o ClaimOptions) (*Result, error) {
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf("race-%d", time.Now().UnixNano())
	}
	r := newResult("claims")
	coord, vols, tasks, err := e.raceSetup(ctx, o)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var lat []time.Duration
	answers := map[string]int{}
	completed := make([]atomic.Int64, len(tasks))
	stop := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i, tok := range vols {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				ti := rand.IntN(len(tasks))
				var c api.Claim
				t0 := time.Now()
				st, typ, err := e.call(ctx, "POST", "/v1/tasks/"+tasks[ti]+"/claims", tok, nil, &c, i)
				d := time.Since(t0)
				key := typ
				if err != nil {
					key = "error"
				} else if st == 201 {
					key = "created"
				}
				mu.Lock()
				lat, answers[key] = append(lat, d), answers[key]+1
				mu.Unlock()
				if st != 201 {
					continue
				}
				if rand.IntN(4) == 0 {
					if st, _, err := e.call(ctx, "POST", "/v1/claims/"+c.ID+"/complete", tok, api.CompleteRequest{Outcome: "done"}, nil, i); err == nil && st == 200 {
						completed[ti].Add(1)
					}
				} else {
					e.call(ctx, "POST", "/v1/claims/"+c.ID+"/release", tok, nil, nil, i)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	r.set("volunteers", len(vols))
	r.set("tasks", len(tasks))
	r.set("slots_per_task", o.Slots)
	r.set("claim_requests", len(lat))
	r.set("claim_requests_per_second", round(float64(len(lat))/took.Seconds()))
	for k, v := range answers {
		r.set("answers_"+k, v)
	}
	r.stat("claim_request", lat)
	over := 0
	for i, id := range tasks {
		var t api.Task
		if st, typ, err := e.call(ctx, "GET", "/v1/tasks/"+id, coord, nil, &t, i); err != nil || st != 200 {
			return nil, fmt.Errorf("read task %s after the race: %d %s %v", id, st, typ, err)
		}
		if t.SlotsTaken > t.Slots || int(completed[i].Load()) > t.Slots {
			over++
		}
	}
	r.set("tasks_over_their_slots", over)
	return r, nil
}
