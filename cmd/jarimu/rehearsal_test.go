package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/s3test"
)

// The rehearsal plays a short election day through the Go client only, on
// the embedded deployment (one in-process server on SQLite, restarted
// mid-way) and on the scaled one (two `jarimu serve` processes sharing
// PostgreSQL, Redis and a key file; one is killed mid-way and started
// again), then checks every invariant: slots, report states, that every
// volunteer's feed got every event of its streams exactly once and in
// order, the audit trail and the open data.

// TestRehearsalEmbedded is the rehearsal on one in-process server.
func TestRehearsalEmbedded(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{"JARIMU_DATA_DIR": dir, "JARIMU_LOG_FORMAT": "json", "JARIMU_SHUTDOWN_TIMEOUT": "10s"}
	in := serveAt(t, env, addr)
	d, err := db.Open(context.Background(), db.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	rehearse(t, stage{
		mode: "embedded",
		urls: []string{in.URL},
		env:  env,
		restart: func(t *testing.T) {
			in.stop(t)
			in = serveAt(t, env, addr)
		},
		restarted: 0,
		graceful:  true,
		db:        d,
		logs:      func() string { return in.stderr.String() },
	})
}

// TestRehearsalScaled is the rehearsal on two `jarimu serve` processes
// sharing a fresh PostgreSQL schema, Redis and one key file.
func TestRehearsalScaled(t *testing.T) {
	dbURL, redisURL := os.Getenv("JARIMU_TEST_DATABASE_URL"), os.Getenv("JARIMU_TEST_REDIS_URL")
	if dbURL == "" || redisURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but JARIMU_TEST_DATABASE_URL or JARIMU_TEST_REDIS_URL is not set: the scaled rehearsal must run in CI")
		}
		t.Skip("needs JARIMU_TEST_DATABASE_URL and JARIMU_TEST_REDIS_URL (both always set in CI)")
	}
	o := dbtest.Options(t, dbtest.Postgres)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := run(context.Background(), []string{"keys", "new", "--file", keys}, envFunc(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"JARIMU_DATABASE_URL":  o.URL,
		"JARIMU_JWT_KEYS_FILE": keys, "JARIMU_VAPID_KEYS_FILE": vapidBeside(keys),
		"JARIMU_REDIS_URL":        redisURL,
		"JARIMU_REDIS_PREFIX":     "jarimu-rehearsal-" + rand.Text()[:10] + ":",
		"JARIMU_DATA_DIR":         t.TempDir(),
		"JARIMU_LOG_FORMAT":       "json",
		"JARIMU_SHUTDOWN_TIMEOUT": "10s",
	}
	bucket := s3test.New(t) // evidence files in a bucket both instances use
	env["JARIMU_EVIDENCE_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = bucket.URL, bucket.AccessKey, bucket.SecretKey
	addrs := []string{freeAddr(t), freeAddr(t)}
	procs := make([]*process, 2)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() { procs[i] = startServe(t, env, addrs[i]) }) // both migrate at once
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	d, err := db.Open(context.Background(), db.Options{URL: o.URL, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	rehearse(t, stage{
		mode: "scaled",
		urls: []string{procs[0].URL, procs[1].URL},
		env:  env,
		restart: func(t *testing.T) {
			procs[1].kill()
			procs[1].start(t)
		},
		restarted: 1,
		graceful:  false,
		db:        d,
		logs:      func() string { return procs[0].stderr.String() + procs[1].stderr.String() },
	})
	evidenceAcross(t, procs[0].URL, procs[1].URL)
	if n := len(bucket.Keys(t)); n != 1 {
		t.Errorf("bucket: got %d objects, want the 1 uploaded", n)
	}
}

// serveAt is serve (main_test.go) on a given address, so that a restarted
// server comes back where its clients look for it.
func serveAt(t *testing.T, env map[string]string, addr string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	in := &instance{cancel: cancel, done: make(chan error, 1), stderr: &apptest.Logs{}}
	go func() {
		err := run(ctx, []string{"serve", "-addr", addr}, envFunc(env), nil, pw, in.stderr)
		pw.CloseWithError(io.EOF)
		in.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			in.URL = u
			go io.Copy(io.Discard, pr)
			break
		}
	}
	if in.URL == "" {
		t.Fatalf("serve did not start: %v\n%s", <-in.done, in.stderr.String())
	}
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stage is where the rehearsal plays: the servers and how to restart one.
type stage struct {
	mode string
	urls []string          // base URLs; people are spread over them
	env  map[string]string // the servers' settings, for `jarimu admin`
	// restart restarts the server at urls[restarted]. graceful: it drains
	// (SIGTERM), so writes sent to it meanwhile are retried safely; else it
	// is killed, and its own clients write again once it is back.
	restart   func(t *testing.T)
	restarted int
	graceful  bool
	db        *db.DB        // the servers' database, read for the checks
	logs      func() string // the servers' logs, shown on failure
}

// Cast of the rehearsal.
const (
	rehearsalVolunteers = 50
	perOrg              = rehearsalVolunteers / 2
	tasksPerOrg         = 4
	slotsPerTask        = 3
	maxActiveClaims     = 3 // JARIMU_MAX_ACTIVE_CLAIMS's default
)

// person is someone using the client against one of the servers.
type person struct {
	c     *client.Client
	user  api.User
	email string
	name  string
	at    int // index of the server URL they use
}

// volunteer is a volunteer of the rehearsal with their feed.
type volunteer struct {
	person
	n       int
	regency string // "3171" (Jakarta Pusat) or "3273" (Bandung)
	org     int    // 0 or 1
	feed    *client.Feed
	runErr  chan error
	reconns atomic.Int32 // times the feed went to reconnecting

	mu    sync.Mutex
	start map[string]int64              // per stream, the seq of its "subscribed" notice
	got   map[string][]client.FeedEvent // per stream, the events delivered
	odd   []client.FeedEvent            // notices other than a first subscription
}

func (v *volunteer) province() string { return v.regency[:2] }

// timings collects the duration of each phase for the summary.
type timings struct {
	last  time.Time
	start time.Time
	laps  []string
}

func (tm *timings) lap(name string) {
	now := time.Now()
	tm.laps = append(tm.laps, fmt.Sprintf("%s %.1fs", name, now.Sub(tm.last).Seconds()))
	tm.last = now
}

func (tm *timings) String() string {
	return fmt.Sprintf("%s; total %.1fs", strings.Join(tm.laps, ", "), time.Since(tm.start).Seconds())
}

// rehearse plays the election day on st and checks the invariants.
func rehearse(t *testing.T, st stage) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Second)
	defer cancel()
	now := time.Now()
	tm := &timings{start: now, last: now}
	defer func() { t.Logf("rehearsal (%s): %s", st.mode, tm) }()
	defer func() {
		if t.Failed() {
			t.Logf("server logs (tail):\n%s", tail(st.logs(), 6000))
		}
	}()
	url := func(i int) string { return st.urls[i%len(st.urls)] }

	// The first admin is made by the CLI with the servers' settings; the
	// admin makes a national officer and one of DKI Jakarta (31).
	admin := person{email: "admin@bawaslu.go.id", name: "Admin Rehearsal", at: 0}
	args := []string{"admin", "create-user", "--email", admin.email, "--name", admin.name, "--role", "admin"}
	if err := run(ctx, args, envFunc(st.env), strings.NewReader(testPassword+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("jarimu admin create-user: %v", err)
	}
	login(t, ctx, &admin, url(0))
	national := person{email: "ri@bawaslu.go.id", name: "Bawaslu RI", at: 0}
	officer31 := person{email: "dki@bawaslu.go.id", name: "Bawaslu DKI Jakarta", at: 1}
	for _, o := range []struct {
		p      *person
		region *string
	}{{&national, nil}, {&officer31, ptr("31")}} {
		u, err := admin.c.CreateUser(ctx, api.CreateUserRequest{Email: o.p.email, Password: testPassword, Name: o.p.name, Role: api.RoleOfficer, RegionCode: o.region})
		if err != nil {
			t.Fatalf("create officer %s: %v", o.p.email, err)
		}
		if u.Role != api.RoleOfficer || !eqPtr(u.RegionCode, o.region) {
			t.Fatalf("officer %s: got %+v", o.p.email, u)
		}
		login(t, ctx, o.p, url(o.p.at))
	}

	// Two coordinators and 50 volunteers sign up: most in Jakarta Pusat
	// (3171), five of each org in Bandung (3273, province 32).
	coords := []*person{
		{email: "koordinator.perludem@rehearsal.example.org", name: "Koordinator Sari Perludem", at: 0},
		{email: "koordinator.jppr@rehearsal.example.org", name: "Koordinator Bayu JPPR", at: 1},
	}
	vols := make([]*volunteer, rehearsalVolunteers)
	for i := range vols {
		regency := "3171"
		if i%perOrg >= perOrg-5 {
			regency = "3273"
		}
		vols[i] = &volunteer{person: person{email: fmt.Sprintf("relawan%02d@rehearsal.example.org", i),
			name: fmt.Sprintf("Relawan Rehearsal Nomor %02d", i), at: i % len(st.urls)},
			n: i, regency: regency, org: i / perOrg, start: map[string]int64{}, got: map[string][]client.FeedEvent{}}
	}
	var signups []func() error
	for _, c := range coords {
		signups = append(signups, func() error { return signup(ctx, c, url(c.at), "3171") })
	}
	for _, v := range vols {
		signups = append(signups, func() error { return signup(ctx, &v.person, url(v.at), v.regency) })
	}
	if err := parallel(4, signups); err != nil {
		t.Fatal(err)
	}
	tm.lap("accounts")

	// The national officer registers two CSOs naming the coordinators; each
	// coordinator makes an invite for 25.
	orgs := make([]api.Org, 2)
	codes := make([]string, 2)
	for i, name := range []string{"Perludem Rehearsal", "JPPR Rehearsal"} {
		o, err := national.c.CreateOrg(ctx, api.CreateOrgRequest{Name: name, AccreditationNumber: fmt.Sprintf("AKR-%03d/BAWASLU/2029", i+1),
			AccreditedUntil: time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Second), CoordinatorEmail: &coords[i].email})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		if o.Status != api.OrgAccredited {
			t.Fatalf("org %s: status %q, want accredited", name, o.Status)
		}
		orgs[i] = o
		inv, err := coords[i].c.CreateInvite(ctx, o.ID, api.InviteRequest{MaxUses: perOrg, ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatalf("invite of %s: %v", name, err)
		}
		codes[i] = inv.Code
	}

	// 25 volunteers join each org with its invite, each opening the feed
	// right after joining and collecting its events.
	feedCtx, stopFeeds := context.WithCancel(context.Background())
	var feeds sync.WaitGroup
	defer func() { stopFeeds(); feeds.Wait() }() // before the servers stop (cleanup)
	var joins []func() error
	for _, v := range vols {
		joins = append(joins, func() error {
			m, err := v.c.Join(ctx, orgs[v.org].ID, codes[v.org])
			if err != nil {
				return fmt.Errorf("%s joins: %w", v.email, err)
			}
			if m.Status != api.MembershipActive || m.Role != api.RoleMember {
				return fmt.Errorf("%s joins: got %s %s, want an active member", v.email, m.Status, m.Role)
			}
			v.openFeed(feedCtx, &feeds)
			return nil
		})
	}
	if err := parallel(10, joins); err != nil {
		t.Fatal(err)
	}
	// Every feed is welcomed on its five streams before anything happens.
	waitFor(t, 20*time.Second, "every feed welcomed", func() string {
		for _, v := range vols {
			if want := v.wantStreams(orgs); !v.subscribedTo(want) {
				return fmt.Sprintf("%s subscribed to %v, want %v", v.email, v.started(), want)
			}
		}
		return ""
	})
	for i, o := range orgs {
		got, err := national.c.Org(ctx, o.ID)
		if err != nil || got.MemberCount != perOrg+1 {
			t.Errorf("org %d: member_count %d (%v), want %d", i, got.MemberCount, err, perOrg+1)
		}
	}
	tm.lap("orgs, joins, feeds")

	// Each coordinator creates 4 tasks of 3 slots; every member of the org
	// races for every task at once.
	tasks := make([][]api.Task, 2)
	for i, c := range coords {
		for k := range tasksPerOrg {
			tk, err := c.c.CreateTask(ctx, api.CreateTaskRequest{OrgID: &orgs[i].ID, Title: fmt.Sprintf("Pantau tagar hoaks %d (%s)", k+1, orgs[i].Name),
				Description: "Laporkan unggahan yang menyesatkan tentang pemungutan suara.", Kind: api.KindSocialMedia,
				Platform: ptr("x"), Target: ptr(fmt.Sprintf("#hoakspemilu%d", k+1)), Slots: ptr(slotsPerTask)})
			if err != nil {
				t.Fatalf("create task: %v", err)
			}
			tasks[i] = append(tasks[i], tk)
		}
	}
	type taken struct {
		v     *volunteer
		claim api.Claim
	}
	holders := map[string][]taken{} // task id to its claims
	refusals := map[string]int{}    // problem type to count
	var mu sync.Mutex
	var errs []error
	for i := range orgs { // one org's race at a time: 100 claims at once
		var race sync.WaitGroup
		gate := make(chan struct{})
		for _, v := range vols {
			if v.org != i {
				continue
			}
			for _, tk := range tasks[i] {
				race.Go(func() {
					<-gate
					cl, err := v.c.Claim(ctx, tk.ID)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						holders[tk.ID] = append(holders[tk.ID], taken{v, cl})
					case client.StatusOf(err) == 409 && (client.IsProblem(err, "task-full") || client.IsProblem(err, "claim-limit")):
						var e *client.Error
						errors.As(err, &e)
						refusals[e.Type]++
					default:
						errs = append(errs, fmt.Errorf("%s claims %s: %w", v.email, tk.Title, err))
					}
				})
			}
		}
		close(gate)
		race.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("claims: %v", err)
	}
	perVolunteer := map[*volunteer]int{}
	for _, ts := range tasks {
		for _, tk := range ts {
			if n := len(holders[tk.ID]); n != slotsPerTask {
				t.Errorf("task %s: %d claims succeeded, want exactly %d", tk.Title, n, slotsPerTask)
			}
			for _, h := range holders[tk.ID] {
				perVolunteer[h.v]++
				if h.claim.Status != api.ClaimActive || h.claim.TaskID != tk.ID || h.claim.UserID != h.v.user.ID {
					t.Errorf("claim of %s on %s: got %+v", h.v.email, tk.Title, h.claim)
				}
			}
		}
	}
	for v, n := range perVolunteer {
		if n > maxActiveClaims {
			t.Errorf("%s holds %d active claims, at most %d allowed", v.email, n, maxActiveClaims)
		}
	}
	if total := refusals["task-full"] + refusals["claim-limit"]; total != rehearsalVolunteers*tasksPerOrg-2*tasksPerOrg*slotsPerTask {
		t.Errorf("refusals %v: %d in all, want %d", refusals, total, rehearsalVolunteers*tasksPerOrg-2*tasksPerOrg*slotsPerTask)
	}
	if t.Failed() {
		t.FailNow()
	}
	tm.lap(fmt.Sprintf("claims race (%d task-full, %d claim-limit)", refusals["task-full"], refusals["claim-limit"]))

	// Mid-way: of each task's three holders (by volunteer number) the first
	// completes, the second releases and the third keeps the claim, while
	// one server restarts under open feeds.
	type op struct {
		taken
		complete bool
	}
	var early, late []op
	kept := map[string]taken{}      // task id to its active claim
	completed := map[string]taken{} // task id to its completed claim
	holding := map[string]int{}     // task id to its claims left active or completed
	for _, ts := range tasks {
		for _, tk := range ts {
			hs := holders[tk.ID]
			slices.SortFunc(hs, func(a, b taken) int { return a.v.n - b.v.n })
			kept[tk.ID], completed[tk.ID] = hs[2], hs[0]
			holding[tk.ID] = len(hs) - 1
			for _, o := range []op{{hs[0], true}, {hs[1], false}} {
				if o.v.at == st.restarted && !st.graceful {
					late = append(late, o)
				} else {
					early = append(early, o)
				}
			}
		}
	}
	do := func(o op) error {
		key := client.IdempotencyKey("rehearsal-" + o.claim.ID)
		want := api.ClaimReleased
		call := func() (api.Claim, error) { return o.v.c.Release(ctx, o.claim.ID, nil, key) }
		if o.complete {
			want = api.ClaimCompleted
			call = func() (api.Claim, error) {
				return o.v.c.Complete(ctx, o.claim.ID, api.CompleteRequest{Outcome: "done", Note: "dilaporkan"}, key)
			}
		}
		return untilAnswered(ctx, func() error {
			cl, err := call()
			if err == nil && cl.Status != want {
				return fmt.Errorf("claim %s of %s: status %s, want %s", o.claim.ID, o.v.email, cl.Status, want)
			}
			return err
		})
	}
	var writes sync.WaitGroup
	var writeErrs atomic.Pointer[error]
	startOps := func(ops []op, spread time.Duration) {
		for i, o := range ops {
			writes.Go(func() {
				time.Sleep(spread * time.Duration(i) / time.Duration(max(len(ops), 1)))
				if err := do(o); err != nil {
					writeErrs.CompareAndSwap(nil, &err)
				}
			})
		}
	}
	reconnsBefore := make([]int32, len(vols))
	for i, v := range vols {
		reconnsBefore[i] = v.reconns.Load()
	}
	startOps(early, 2*time.Second)
	time.Sleep(500 * time.Millisecond) // some writes land before, some during, some after
	restartAt := time.Now()
	st.restart(t)
	restartTook := time.Since(restartAt)
	writes.Wait()
	startOps(late, 0)
	writes.Wait()
	if p := writeErrs.Load(); p != nil {
		t.Fatalf("completing and releasing claims across the restart: %v", *p)
	}
	// The restarted server's feeds went down and came back.
	waitFor(t, 20*time.Second, "the restarted server's feeds reconnected", func() string {
		for i, v := range vols {
			if v.at == st.restarted && v.reconns.Load() == reconnsBefore[i] {
				return v.email + "'s feed never reconnected"
			}
		}
		return ""
	})
	tm.lap(fmt.Sprintf("complete/release across restart (restart %.1fs)", restartTook.Seconds()))

	// 10 volunteers report findings, 5 per org: two under their claims
	// (one completed, one still active), three for the org; the third of
	// each org is the same post with different tracking parameters, so
	// the two share a cluster; the fifth is from Bandung (province 32).
	reports := make([][]api.Report, 2)
	sharedURLs := []string{
		"https://mobile.twitter.com/InfoPemiluPalsu/status/1790000000000000001?s=20&t=AbCdEf&utm_source=whatsapp",
		"https://x.com/InfoPemiluPalsu/status/1790000000000000001?ref_src=twsrc%5Etfw&utm_campaign=viral",
	}
	categories := []string{"disinformation", "hate_speech", "money_politics", "black_campaign", "sara"}
	for i := range orgs {
		used := map[*volunteer]bool{}
		var reporters []*volunteer
		var claims []*string
		for _, src := range []map[string]taken{completed, kept} {
			for _, tk := range tasks[i] {
				if h := src[tk.ID]; !used[h.v] {
					used[h.v] = true
					reporters, claims = append(reporters, h.v), append(claims, &h.claim.ID)
					break
				}
			}
		}
		for _, regency := range []string{"3171", "3171", "3273"} {
			for _, v := range vols {
				if v.org == i && v.regency == regency && !used[v] {
					used[v] = true
					reporters, claims = append(reporters, v), append(claims, nil)
					break
				}
			}
		}
		if len(reporters) != 5 {
			t.Fatalf("org %d: %d reporters, want 5", i, len(reporters))
		}
		for k, v := range reporters {
			link := fmt.Sprintf("https://x.com/akun%d_%d/status/18%017d", i, k, i*10+k)
			if k == 2 {
				link = sharedURLs[i]
			}
			req := api.CreateReportRequest{ClaimID: claims[k], URL: link, Platform: "x", Category: categories[k],
				Summary: fmt.Sprintf("Unggahan menyesatkan nomor %d tentang penghitungan suara.", k+1), RegionCode: ptr("3171"),
				ObservedAt: time.Now().Add(-time.Hour).UTC()}
			if claims[k] == nil {
				req.OrgID = &orgs[i].ID
			}
			if k == 4 {
				req.RegionCode = ptr("3273")
			}
			r, err := v.c.CreateReport(ctx, req)
			if err != nil {
				t.Fatalf("%s reports: %v", v.email, err)
			}
			if r.Status != api.ReportSubmitted || r.OrgID == nil || *r.OrgID != orgs[i].ID || r.ReporterID != v.user.ID {
				t.Fatalf("report of %s: got %+v", v.email, r)
			}
			reports[i] = append(reports[i], r)
		}
	}
	shared := []api.Report{reports[0][2], reports[1][2]}
	if shared[0].ClusterID == "" || shared[0].ClusterID != shared[1].ClusterID {
		t.Errorf("the same post with different tracking parameters: clusters %q and %q, want one", shared[0].ClusterID, shared[1].ClusterID)
	}
	// Coordinators endorse four and reject one each, with a note.
	const rejectNote = "Bukan pelanggaran: unggahan satire yang jelas."
	for i, c := range coords {
		for k, r := range reports[i] {
			req := api.ReviewRequest{Decision: "endorse", Note: "Sesuai bukti."}
			want := api.ReportEndorsed
			if k == 3 {
				req, want = api.ReviewRequest{Decision: "reject", Note: rejectNote}, api.ReportRejected
			}
			got, err := c.c.Review(ctx, r.ID, req)
			if err != nil || got.Status != want {
				t.Fatalf("review %d/%d: got %s, %v; want %s", i, k, got.Status, err, want)
			}
		}
	}
	// The officer of 31 verifies the endorsed reports of province 31, the
	// second of the shared post as a duplicate of the first, and cannot see
	// those of province 32.
	type verdict struct {
		r   api.Report
		req api.VerificationRequest
	}
	verdicts := []verdict{
		{reports[0][0], api.VerificationRequest{Decision: api.ReportVerified}},
		{reports[0][1], api.VerificationRequest{Decision: api.ReportVerified, Note: "Terkonfirmasi."}},
		{reports[0][2], api.VerificationRequest{Decision: api.ReportVerified}},
		{reports[1][0], api.VerificationRequest{Decision: api.ReportVerified}},
		{reports[1][1], api.VerificationRequest{Decision: api.ReportVerified}},
		{reports[1][2], api.VerificationRequest{Decision: api.ReportDuplicate, DuplicateOf: &reports[0][2].ID}},
	}
	for _, vd := range verdicts {
		got, err := officer31.c.Verify(ctx, vd.r.ID, vd.req)
		if err != nil || got.Status != vd.req.Decision {
			t.Fatalf("verify %s: got %s, %v; want %s", vd.r.URL, got.Status, err, vd.req.Decision)
		}
	}
	for i := range orgs {
		_, err := officer31.c.Verify(ctx, reports[i][4].ID, api.VerificationRequest{Decision: api.ReportVerified})
		if client.StatusOf(err) != 404 {
			t.Errorf("the officer of 31 verifies a report of province 32: got %v, want 404", err)
		}
	}
	tm.lap("reports, reviews, verifications")

	// Alerts: the officer of 31 to province 31 citing a verified report;
	// the national officer to everyone.
	alert31, err := officer31.c.CreateAlert(ctx, api.CreateAlertRequest{Title: "Hoaks surat suara tercoblos di Jakarta",
		Body: "Foto surat suara tercoblos yang beredar adalah hoaks.", Severity: "warning", RegionCode: ptr("31"),
		Category: ptr("disinformation"), ReportIDs: []string{reports[0][0].ID}})
	if err != nil {
		t.Fatalf("alert of 31: %v", err)
	}
	alertRI, err := national.c.CreateAlert(ctx, api.CreateAlertRequest{Title: "Imbauan nasional: periksa sebelum membagikan",
		Body: "Laporkan konten pemilu yang menyesatkan lewat aplikasi.", Severity: "info"})
	if err != nil {
		t.Fatalf("national alert: %v", err)
	}
	tm.lap("alerts")

	// Invariants.
	// (3) Every feed settles at the head of each of its streams, then holds
	// exactly the stream's events after where it started, in order.
	log := event.NewLog(st.db, nil)
	settleStart := time.Now()
	behind := ""
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if behind = feedsBehind(ctx, log, vols); behind == "" || time.Now().After(deadline) {
			break
		}
	}
	if behind != "" {
		t.Errorf("feeds did not settle within 10 s: %s", behind)
	}
	settled := time.Since(settleStart)
	events := 0
	for _, v := range vols {
		events += v.checkFeed(t, ctx, log, orgs)
	}
	for _, v := range vols {
		pub := v.alerts()
		if n := pub[alertRI.ID]; n != 1 {
			t.Errorf("%s got the national alert %d times, want once", v.email, n)
		}
		want := 0
		if v.province() == "31" {
			want = 1
		}
		if n := pub[alert31.ID]; n != want {
			t.Errorf("%s (%s) got the alert of 31 %d times, want %d", v.email, v.regency, n, want)
		}
	}
	// Each reporter was told every change of their report, once.
	wantChanges := map[string]int{}
	reporterOf := map[string]*volunteer{}
	for i := range reports {
		for k, r := range reports[i] {
			wantChanges[r.ID] = map[bool]int{true: 2, false: 1}[k < 3]
			for _, v := range vols {
				if v.user.ID == r.ReporterID {
					reporterOf[r.ID] = v
				}
			}
		}
	}
	for id, want := range wantChanges {
		if got := reporterOf[id].statusChanges(id); got != want {
			t.Errorf("reporter %s got %d report.status_changed for %s, want %d", reporterOf[id].email, got, id, want)
		}
	}
	for _, a := range []api.Alert{alert31, alertRI} {
		waitFor(t, 10*time.Second, "alert reach", func() string {
			r, err := reachOf(ctx, a, officer31, national)
			want := 0
			for _, v := range vols {
				if a.RegionCode == nil || v.province() == *a.RegionCode {
					want++
				}
			}
			if err != nil || r.Delivered < want || r.Meant < r.Delivered {
				return fmt.Sprintf("alert %q: reach %+v (%v), want at least %d delivered", a.Title, r, err, want)
			}
			return ""
		})
	}

	// (1) Slots: never more taken than slots, and exactly the claims left
	// active or completed (one of the three was released).
	for i, ts := range tasks {
		n := 0
		for tk, err := range coords[i].c.AllTasks(ctx, client.TaskFilter{Scope: client.ScopeOrg, OrgID: orgs[i].ID}) {
			if err != nil {
				t.Fatalf("tasks of org %d: %v", i, err)
			}
			n++
			if tk.SlotsTaken > tk.Slots {
				t.Errorf("task %s: %d of %d slots taken", tk.Title, tk.SlotsTaken, tk.Slots)
			}
		}
		if n != tasksPerOrg {
			t.Errorf("org %d lists %d tasks, want %d", i, n, tasksPerOrg)
		}
		for _, tk := range ts {
			got, err := coords[i].c.Task(ctx, tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.SlotsTaken > got.Slots || got.SlotsTaken != holding[tk.ID] || got.Status != api.TaskOpen {
				t.Errorf("task %s: %s, %d of %d slots taken, want open with %d (one completed, one active)", tk.Title, got.Status, got.SlotsTaken, got.Slots, holding[tk.ID])
			}
		}
	}

	// (2) Report statuses are what the story did.
	for i := range reports {
		for k, r := range reports[i] {
			want := map[int]string{0: api.ReportVerified, 1: api.ReportVerified, 2: api.ReportVerified, 3: api.ReportRejected, 4: api.ReportEndorsed}[k]
			if i == 1 && k == 2 {
				want = api.ReportDuplicate
			}
			got, err := national.c.Report(ctx, r.ID)
			if err != nil {
				t.Fatalf("report %d/%d: %v", i, k, err)
			}
			if got.Status != want {
				t.Errorf("report %d/%d: status %s, want %s", i, k, got.Status, want)
			}
			if want == api.ReportDuplicate && (got.DuplicateOf == nil || *got.DuplicateOf != reports[0][2].ID) {
				t.Errorf("duplicate report: duplicate_of %v, want %s", got.DuplicateOf, reports[0][2].ID)
			}
			if want == api.ReportRejected && got.ReviewNote != rejectNote {
				t.Errorf("rejected report: review note %q, want %q", got.ReviewNote, rejectNote)
			}
			// The reporter sees their own report with the note.
			mine, err := reporterOf[r.ID].c.Report(ctx, r.ID)
			if err != nil || mine.Status != want {
				t.Errorf("report %d/%d as its reporter: %s, %v; want %s", i, k, mine.Status, err, want)
			}
		}
	}

	// (4) The audit trail, as the national officer reads it.
	actions := map[string]int{}
	for e, err := range national.c.AllAudit(ctx, client.AuditFilter{ListOptions: client.ListOptions{Limit: 200}}) {
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
		actions[e.Action]++
	}
	for action, want := range map[string]int{"org.create": 2, "invite.create": 2, "membership.approve": 0, "membership.reject": 0,
		"report.endorse": 8, "report.reject": 2, "report.verified": 5, "report.duplicate": 1, "report.officer-reject": 0,
		"alert.publish": 2, "alert.retract": 0} {
		if actions[action] != want {
			t.Errorf("audit: %d %s, want %d (all: %v)", actions[action], action, want, actions)
		}
	}

	// (5) Open data: the totals match, and the alerts export has the two
	// alerts and nobody's personal data.
	anon := client.New(url(1))
	stats, err := anon.OpenStats(ctx, "category")
	if err != nil {
		t.Fatal(err)
	}
	sumReports, sumVerified := 0, 0
	for _, s := range stats.Items {
		sumReports += s.Reports
		sumVerified += s.Verified
	}
	if sumReports != 10 || sumVerified != 5 {
		t.Errorf("open stats by category: %d reports, %d verified; want 10 and 5 (%+v)", sumReports, sumVerified, stats.Items)
	}
	rc, err := anon.OpenExport(ctx, "alerts", "json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	var exported []map[string]any
	if err := json.Unmarshal(raw, &exported); err != nil {
		t.Fatalf("open alerts export: %v in %.300s", err, raw)
	}
	ids := map[string]bool{}
	for _, a := range exported {
		id, _ := a["id"].(string)
		ids[id] = true
	}
	if len(exported) != 2 || !ids[alert31.ID] || !ids[alertRI.ID] {
		t.Errorf("open alerts export: %d alerts %v, want the two published", len(exported), ids)
	}
	everyone := []person{admin, national, officer31, *coords[0], *coords[1]}
	for _, v := range vols {
		everyone = append(everyone, v.person)
	}
	for _, p := range everyone {
		for _, s := range []string{p.email, p.name, p.user.ID} {
			if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(s)) {
				t.Errorf("open alerts export contains %q", s)
			}
		}
	}
	tm.lap(fmt.Sprintf("checks (feeds settled in %.1fs, %d events compared)", settled.Seconds(), events))
}

// reachOf is the alert's reach as its issuer sees it.
func reachOf(ctx context.Context, a api.Alert, officer31, national person) (api.Reach, error) {
	issuer := national
	if a.RegionCode != nil {
		issuer = officer31
	}
	return issuer.c.Reach(ctx, a.ID)
}

// openFeed starts the volunteer's feed and a goroutine collecting it.
func (v *volunteer) openFeed(ctx context.Context, wg *sync.WaitGroup) {
	v.feed = v.c.Feed(client.FeedOptions{AutoAck: true, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Buffer: 1024,
		OnState: func(s client.FeedState) {
			if s == client.FeedReconnecting {
				v.reconns.Add(1)
			}
		}})
	v.runErr = make(chan error, 1)
	wg.Go(func() { v.runErr <- v.feed.Run(ctx) })
	wg.Go(func() {
		for ev := range v.feed.Events() {
			v.mu.Lock()
			switch _, seen := v.start[ev.Stream]; {
			case ev.Type == client.FeedTypeSubscribed && !seen:
				v.start[ev.Stream] = ev.Seq
			case ev.Type == client.FeedTypeEvent:
				v.got[ev.Stream] = append(v.got[ev.Stream], ev)
			default:
				v.odd = append(v.odd, ev)
			}
			v.mu.Unlock()
		}
	})
}

// wantStreams are the streams of a member's feed.
func (v *volunteer) wantStreams(orgs []api.Org) []string {
	s := []string{"user:" + v.user.ID, "org:" + orgs[v.org].ID, "region:national", "region:" + v.province(), "region:" + v.regency}
	slices.Sort(s)
	return s
}

func (v *volunteer) started() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var s []string
	for name := range v.start {
		s = append(s, name)
	}
	slices.Sort(s)
	return s
}

func (v *volunteer) subscribedTo(streams []string) bool {
	return slices.Equal(v.started(), streams)
}

// feedsBehind names a feed that has not yet delivered the head of one of
// its streams; "" when every feed is there.
func feedsBehind(ctx context.Context, log *event.Log, vols []*volunteer) string {
	for _, v := range vols {
		pos := v.feed.Positions()
		names := make([]string, 0, len(pos))
		for s := range pos {
			names = append(names, s)
		}
		heads, err := log.Heads(ctx, names)
		if err != nil {
			return err.Error()
		}
		got := v.delivered()
		for s, seq := range pos {
			if heads[s] != seq || got[s] != seq {
				return fmt.Sprintf("%s is at %d (collected %d) of %s, whose head is %d", v.email, seq, got[s], s, heads[s])
			}
		}
	}
	return ""
}

// delivered is, per stream, the seq of the last event collected (or of the
// subscription when none came yet).
func (v *volunteer) delivered() map[string]int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string]int64{}
	for s, seq := range v.start {
		out[s] = seq
		if evs := v.got[s]; len(evs) > 0 {
			out[s] = evs[len(evs)-1].Seq
		}
	}
	return out
}

// checkFeed checks that the volunteer's feed delivered, on each of its
// streams, exactly the events the database holds after the position it
// started from: none missing, none twice, in order. It returns how many
// events it compared.
func (v *volunteer) checkFeed(t *testing.T, ctx context.Context, log *event.Log, orgs []api.Org) int {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case err := <-v.runErr:
		t.Errorf("%s's feed stopped: %v", v.email, err)
	default:
	}
	for _, ev := range v.odd {
		t.Errorf("%s's feed: unexpected %s of %s at %d", v.email, ev.Type, ev.Stream, ev.Seq)
	}
	pos := v.feed.Positions()
	var names []string
	for s := range pos {
		names = append(names, s)
	}
	slices.Sort(names)
	if want := v.wantStreams(orgs); !slices.Equal(names, want) {
		t.Errorf("%s's feed is on %v, want %v", v.email, names, want)
	}
	n := 0
	for _, s := range names {
		start, ok := v.start[s]
		if !ok {
			t.Errorf("%s's feed: no subscribed notice for %s", v.email, s)
			continue
		}
		want, err := log.After(ctx, s, start, 10000)
		if err != nil {
			t.Fatal(err)
		}
		got := v.got[s]
		for i := 0; i < max(len(got), len(want)); i++ {
			switch {
			case i >= len(got):
				t.Errorf("%s's feed on %s: missing seq %d (%s) and %d more", v.email, s, want[i].Seq, want[i].Name, len(want)-i-1)
			case i >= len(want):
				t.Errorf("%s's feed on %s: seq %d (%s) is not in the log after %d", v.email, s, got[i].Seq, got[i].Event, start)
			case got[i].Seq != want[i].Seq || got[i].ID != want[i].ID || got[i].Event != want[i].Name:
				t.Errorf("%s's feed on %s: event %d is seq %d %s %s, want seq %d %s %s", v.email, s, i, got[i].Seq, got[i].Event, got[i].ID,
					want[i].Seq, want[i].Name, want[i].ID)
			default:
				n++
				continue
			}
			break
		}
		last := start
		if len(got) > 0 {
			last = got[len(got)-1].Seq
		}
		if pos[s] != last {
			t.Errorf("%s's feed: position of %s is %d, last delivered %d", v.email, s, pos[s], last)
		}
	}
	return n
}

// alerts counts the alert.published events delivered, by alert id.
func (v *volunteer) alerts() map[string]int {
	return v.countEvents("alert.published", "id")
}

// statusChanges counts the report.status_changed events about report id.
func (v *volunteer) statusChanges(id string) int {
	return v.countEvents("report.status_changed", "report_id")[id]
}

// countEvents counts the delivered events named name by the value of their
// data's field.
func (v *volunteer) countEvents(name, field string) map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string]int{}
	for _, evs := range v.got {
		for _, ev := range evs {
			if ev.Event != name {
				continue
			}
			var data map[string]any
			json.Unmarshal(ev.Data, &data)
			key, _ := data[field].(string)
			out[key]++
		}
	}
	return out
}

// login signs p in at baseURL.
func login(t *testing.T, ctx context.Context, p *person, baseURL string) {
	t.Helper()
	p.c = client.New(baseURL)
	res, err := p.c.Login(ctx, p.email, testPassword)
	if err != nil {
		t.Fatalf("login %s: %v", p.email, err)
	}
	// A staff account consents to the privacy notice at its first sign-in.
	if res.ConsentDue {
		if res.User, err = p.c.Consent(ctx, notice.Version); err != nil {
			t.Fatalf("consent %s: %v", p.email, err)
		}
	}
	p.user = res.User
}

// signup signs p up at baseURL, waiting out a busy password hasher (503 or
// 429 with Retry-After).
func signup(ctx context.Context, p *person, baseURL, region string) error {
	p.c = client.New(baseURL)
	for attempt := 0; ; attempt++ {
		res, err := p.c.Signup(ctx, api.SignupRequest{Email: p.email, Password: testPassword, Name: p.name, RegionCode: &region, PrivacyVersion: notice.Version})
		if err == nil {
			p.user = res.User
			return nil
		}
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 503 && e.Status != 429 || attempt >= 10 {
			return fmt.Errorf("signup %s: %w", p.email, err)
		}
		time.Sleep(max(e.RetryAfter, 200*time.Millisecond))
	}
}

// untilAnswered calls fn until the server answers it (any answer but 503 or
// "idempotency-in-progress"): while a server restarts, calls fail without
// one. fn must be safe to repeat (an Idempotency-Key).
func untilAnswered(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := fn()
		again := client.StatusOf(err) == 0 || client.StatusOf(err) == 503 || client.IsProblem(err, "idempotency-in-progress")
		if err == nil || !again || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// parallel runs fns, at most n at a time, and returns their errors.
func parallel(n int, fns []func() error) error {
	sem := make(chan struct{}, n)
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitFor polls cond (which says what is still missing, or "") until it is
// satisfied or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := cond()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

func eqPtr(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
