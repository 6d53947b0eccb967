package drills_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/notice"
)

// signupRec and joinRec are the writes of the PostgreSQL drill.
type signupRec struct {
	email  string
	userID string
	token  string
	a      answer
}

type joinRec struct {
	userID, token, key string
	a                  answer
}

// PostgreSQL is stopped for 3 s and started again while 20 clients sign up
// and join an org with an invite code, without pause: once with a fast
// shutdown (an operator's restart), once with an immediate one (a crash or
// a failover, as clients see it). Every answer must be a success or a
// 503 "unavailable" problem with Retry-After: never a 500, never a hang.
// Writes must succeed again within seconds of the restart, and nothing may
// be half-written: each account answered 201 exists once and can sign in,
// each membership answered 201 is active with its two events, no stream
// has a gap, and the invite counted exactly the joins that happened.
func TestPostgresRestartDuringWrites(t *testing.T) {
	t.Parallel()
	t.Run("fast", func(t *testing.T) { drillPostgresRestart(t, fast) })
	t.Run("immediate", func(t *testing.T) { drillPostgresRestart(t, immediate) })
}

func drillPostgresRestart(t *testing.T, mode syscall.Signal) {
	pg := startPostgres(t)
	e := startApp(t, app.Options{DatabaseURL: pg.URL(), MaxOpenConns: 16})
	// A retry with the same Idempotency-Key that finds the first attempt
	// still pending waits this long (15 s in service) before its 409.
	e.App.Idem.Wait = time.Second
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	f := newOrg(t, e, hc)
	code := f.invite(t, e, hc, 10000)
	run := auth.NewID()[20:]

	const writers = 20
	var (
		mu      sync.Mutex
		signups []signupRec
		joins   []joinRec
		stopped atomic.Bool
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				email := fmt.Sprintf("drill-%s-%d-%d@example.org", run, w, i)
				a := do(hc, "POST", e.URL+"/v1/auth/signup", api.SignupRequest{Email: email, Password: apptest.Password, Name: "Relawan Uji", PrivacyVersion: notice.Version})
				s := signupRec{email: email, a: a}
				if a.Status == http.StatusCreated {
					var resp api.AuthResponse
					json.Unmarshal(a.Body, &resp)
					s.userID, s.token = resp.User.ID, resp.Tokens.AccessToken
				}
				mu.Lock()
				signups = append(signups, s)
				mu.Unlock()
				if s.token != "" {
					key := auth.NewID()
					a := do(hc, "POST", e.URL+"/v1/orgs/"+f.org.ID+"/memberships", api.JoinRequest{InviteCode: &code},
						append(bearer(s.token), "Idempotency-Key", key)...)
					mu.Lock()
					joins = append(joins, joinRec{userID: s.userID, token: s.token, key: key, a: a})
					mu.Unlock()
				}
				if !a.ok() {
					time.Sleep(50 * time.Millisecond) // what a client told Retry-After would do, sooner
				}
			}
		})
	}
	// succeededSince reports whether a signup and a join sent after t both
	// succeeded.
	succeededSince := func(since time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		var s, j bool
		for i := len(signups) - 1; i >= 0 && !s; i-- {
			s = signups[i].a.Start.After(since) && signups[i].a.ok()
		}
		for i := len(joins) - 1; i >= 0 && !j; i-- {
			j = joins[i].a.Start.After(since) && joins[i].a.ok()
		}
		return s && j
	}

	start := time.Now()
	if _, ok := waitFor(10*time.Second, func() bool { return succeededSince(start) }); !ok {
		stopped.Store(true)
		wg.Wait()
		t.Fatalf("no write succeeded before the outage\n%s", tail(e.Logs.String(), 3000))
	}
	time.Sleep(1500 * time.Millisecond)
	down := time.Now()
	pg.Stop(mode)
	stoppedIn := time.Since(down)
	time.Sleep(3 * time.Second)
	pg.Start()
	up := time.Now()
	recovery, recovered := waitFor(10*time.Second, func() bool { return succeededSince(up) })
	time.Sleep(2 * time.Second)
	stopped.Store(true)
	wg.Wait()
	t.Logf("PostgreSQL stopped in %v, down for %v; writes succeeded again %v after it accepted connections",
		stoppedIn.Round(time.Millisecond), up.Sub(down).Round(time.Millisecond), recovery.Round(time.Millisecond))
	if !recovered || recovery > 5*time.Second {
		t.Errorf("writes did not succeed again within 5 s of the restart (a signup and a join: %v after)", recovery.Round(time.Millisecond))
	}

	// Every answer: a success or a 503 unavailable problem with Retry-After.
	var bad []string
	count := map[string]int{}
	tally := func(what string, a answer) {
		phase := "before"
		switch {
		case a.Start.After(up):
			phase = "after"
		case a.Start.Add(a.Took).After(down):
			phase = "during"
		}
		switch {
		case a.ok():
			count[what+" ok "+phase]++
		case a.unavailable():
			count[what+" 503 "+phase]++
		default:
			bad = append(bad, fmt.Sprintf("%s (%s the outage): %v", what, phase, a))
		}
	}
	for _, s := range signups {
		tally("signup", s.a)
	}
	for _, j := range joins {
		tally("join", j.a)
	}
	t.Logf("answers: %v", count)
	if len(bad) > 0 {
		t.Errorf("%d answers were neither a success nor a 503 with Retry-After; the first: %s", len(bad), strings.Join(bad[:min(10, len(bad))], "\n\t"))
		if lines := logLines(e.Logs.String(), "internal error"); len(lines) > 0 {
			t.Errorf("internal errors logged (%d); distinct:\n\t%s", len(lines), strings.Join(distinct(errorsOf(lines), 20), "\n\t"))
		}
	}
	if n := count["signup 503 during"] + count["join 503 during"] + count["signup 503 after"] + count["join 503 after"]; n == 0 {
		t.Errorf("no write was answered 503 during the outage: did it happen?")
	}
	// Each 503 is logged once, with its route (the idempotency layer may
	// answer some retries without reaching the handler).
	unavailable := logLines(e.Logs.String(), `"msg":"dependency unavailable"`, `"route":"POST /v1/`)
	n503 := 0
	for k, n := range count {
		if strings.Contains(k, " 503 ") {
			n503 += n
		}
	}
	if len(unavailable) != n503 {
		t.Errorf("%d answers were 503 but %d were logged as unavailable with their route", n503, len(unavailable))
	}
	t.Logf("unavailable errors logged, distinct: %s", strings.Join(distinct(errorsOf(unavailable), 8), " | "))

	checkSignups(t, e, hc, signups)
	checkJoins(t, e, hc, f, code, joins)
	checkStreams(t, e)
}

// checkSignups: each signup answered 201 made exactly one account, which
// signs in; one answered 503 made none, or if it did, the account is whole
// (it signs in) and the half-write is reported.
func checkSignups(t *testing.T, e *drillApp, hc *http.Client, signups []signupRec) {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		ID    string `bun:"id"`
		Email string `bun:"email"`
	}
	if err := e.App.DB.NewSelect().Table("users").Column("id", "email").Where("email LIKE 'drill-%'").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	ids := map[string][]string{}
	for _, r := range rows {
		ids[r.Email] = append(ids[r.Email], r.ID)
	}
	var sessions []string
	if err := e.App.DB.NewSelect().Table("refresh_tokens").Column("user_id").Scan(ctx, &sessions); err != nil {
		t.Fatal(err)
	}
	hasSession := map[string]bool{}
	for _, s := range sessions {
		hasSession[s] = true
	}
	var created, orphans []string
	signIn := map[string]bool{}
	for _, s := range signups {
		got := ids[s.email]
		switch {
		case s.a.Status == http.StatusCreated:
			if len(got) != 1 || got[0] != s.userID {
				t.Errorf("signup %s answered 201 (user %s); the database has %v", s.email, s.userID, got)
			}
			signIn[s.email] = true
			created = append(created, s.email)
		case len(got) > 0:
			orphans = append(orphans, fmt.Sprintf("%s (user %s, session stored: %v, answer %d)", s.email, got[0], hasSession[got[0]], s.a.Status))
			signIn[s.email] = true
		}
	}
	if len(orphans) > 0 {
		// auth.Service.Signup inserts the account in one statement and
		// its session in a later transaction: an outage between the two
		// leaves an account the client was told was not made (a retry is
		// 409 email-taken). The account is whole and signs in.
		t.Logf("KNOWN (auth.Signup is not one transaction): %d signups answered 503 made their account anyway: %s",
			len(orphans), strings.Join(orphans[:min(5, len(orphans))], "; "))
	}
	// Every account made signs in with its password.
	emails := make([]string, 0, len(signIn))
	for em := range signIn {
		emails = append(emails, em)
	}
	sort.Strings(emails)
	var mu sync.Mutex
	var failed []string
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, em := range emails {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			a := do(hc, "POST", e.URL+"/v1/auth/login", api.LoginRequest{Email: em, Password: apptest.Password})
			if a.Status != http.StatusOK {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s: %v", em, a))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d of %d accounts made do not sign in: %s", len(failed), len(emails), strings.Join(failed[:min(5, len(failed))], "; "))
	}
	t.Logf("%d signups answered 201, %d accounts in all; every one signs in", len(created), len(emails))
}

// checkJoins: each join answered 201 is an active membership; one answered
// 503 is none, and a retry with its Idempotency-Key after the restart
// either makes it or waits out the first attempt; the invite's use count
// equals the joins made.
func checkJoins(t *testing.T, e *drillApp, hc *http.Client, f orgFixture, code string, joins []joinRec) {
	t.Helper()
	ctx := context.Background()
	status := func() map[string]string {
		var rows []struct {
			UserID string `bun:"user_id"`
			Status string `bun:"status"`
		}
		if err := e.App.DB.NewSelect().Table("memberships").Column("user_id", "status").Where("org_id = ?", f.org.ID).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range rows {
			m[r.UserID] = r.Status
		}
		return m
	}
	m := status()
	var retry []joinRec
	made := 0
	for _, j := range joins {
		switch {
		case j.a.Status == http.StatusCreated:
			made++
			if m[j.userID] != api.MembershipActive {
				t.Errorf("join of %s answered 201; membership is %q", j.userID, m[j.userID])
			}
		case m[j.userID] != "":
			// The commit went through but its answer was lost with the
			// connection. The contract: the request's key is marked
			// applied in the same transaction, so a retry is refused
			// (idempotency-applied, or membership-exists), never run twice.
			if st := keyState(t, e, j.userID, j.key); st != "applied" && st != "done" {
				t.Errorf("join of %s answered %v, yet its membership is %q and its Idempotency-Key is %q, not applied", j.userID, j.a, m[j.userID], st)
			} else {
				t.Logf("join of %s answered %d but committed (its key is %s): a retry is refused, not run twice", j.userID, j.a.Status, st)
				made++
			}
		default:
			retry = append(retry, j)
		}
	}
	// The client retries a 503 with the same Idempotency-Key.
	outcomes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, j := range retry {
		wg.Go(func() {
			a := do(hc, "POST", e.URL+"/v1/orgs/"+f.org.ID+"/memberships", api.JoinRequest{InviteCode: &code},
				append(bearer(j.token), "Idempotency-Key", j.key)...)
			mu.Lock()
			defer mu.Unlock()
			outcomes[fmt.Sprintf("%d %s", a.Status, a.problemType())]++
			switch {
			case a.Status == http.StatusCreated:
				made++
			case a.Status == http.StatusConflict && a.problemType() == "idempotency-in-progress":
				// The first attempt's key stayed "pending" (its Abandon
				// could not reach the database either); it is taken over
				// once older than idempotency.Store.Abandoned (1 minute).
			default:
				t.Errorf("retry of a join answered %d with its Idempotency-Key: %v", j.a.Status, a)
			}
		})
	}
	wg.Wait()
	if len(retry) > 0 {
		t.Logf("%d joins answered 503 were retried with their Idempotency-Key after the restart: %v", len(retry), outcomes)
		if n := outcomes["409 idempotency-in-progress"]; n > 0 {
			t.Logf("KNOWN: %d retries found their key still pending from the outage: a client retrying within a minute gets 409 idempotency-in-progress (after waiting idempotency.Store.Wait, 15 s in service) until the key counts as abandoned", n)
		}
	}
	m = status()
	active := 0
	for u, s := range m {
		if s == api.MembershipActive && u != f.coord.User.ID {
			active++
		}
	}
	if active != made {
		t.Errorf("%d members joined by invite, but %d joins were answered 201", active, made)
	}
	var uses int
	if err := e.App.DB.NewSelect().Table("invites").Column("uses").Where("org_id = ?", f.org.ID).Scan(ctx, &uses); err != nil {
		t.Fatal(err)
	}
	if uses != made {
		t.Errorf("the invite counts %d uses; %d joins were made", uses, made)
	}
	// Each membership has its two events: membership.requested on the
	// org's review stream, membership.decided on the member's own.
	type ev struct {
		Stream string `bun:"stream"`
		Name   string `bun:"name"`
		Data   string `bun:"data"`
	}
	var evs []ev
	if err := e.App.DB.NewSelect().Table("events").Column("stream", "name", "data").
		Where("name IN ('membership.requested', 'membership.decided')").Scan(ctx, &evs); err != nil {
		t.Fatal(err)
	}
	requested, decided := map[string]int{}, map[string]int{}
	for _, x := range evs {
		var d struct {
			OrgID  string `json:"org_id"`
			UserID string `json:"user_id"`
		}
		json.Unmarshal([]byte(x.Data), &d)
		switch {
		case x.Name == "membership.requested" && x.Stream == "review:"+f.org.ID:
			requested[d.UserID]++
		case x.Name == "membership.decided" && d.OrgID == f.org.ID:
			decided[strings.TrimPrefix(x.Stream, "user:")]++
		}
	}
	for u, s := range m {
		if u == f.coord.User.ID {
			continue
		}
		if s != api.MembershipActive || requested[u] != 1 || decided[u] != 1 {
			t.Errorf("membership of %s: %s with %d membership.requested and %d membership.decided events, want active with one of each", u, s, requested[u], decided[u])
		}
	}
	for u := range requested {
		if m[u] == "" {
			t.Errorf("membership.requested for %s, who has no membership", u)
		}
	}
	for u := range decided {
		if m[u] == "" {
			t.Errorf("membership.decided for %s, who has no membership", u)
		}
	}
	t.Logf("%d memberships made by invite, each with its two events; the invite counts %d uses", made, uses)
}

// keyState is the state of an Idempotency-Key ("" when there is none).
func keyState(t *testing.T, e *drillApp, userID, key string) string {
	t.Helper()
	var st []string
	if err := e.App.DB.NewSelect().Table("idempotency_keys").Column("state").Where("user_id = ? AND key = ?", userID, key).Scan(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		return ""
	}
	return st[0]
}

// checkStreams: every stream's counter equals its number of events and its
// highest seq (no gap, no seq given out without its event).
func checkStreams(t *testing.T, e *drillApp) {
	t.Helper()
	var rows []struct {
		Stream string `bun:"stream"`
		Seq    int64  `bun:"seq"`
		N      int64  `bun:"n"`
		Top    int64  `bun:"top"`
	}
	err := e.App.DB.NewRaw(`SELECT s.stream, s.seq, COUNT(e.seq) AS n, COALESCE(MAX(e.seq), 0) AS top
		FROM event_streams s LEFT JOIN events e ON e.stream = s.stream GROUP BY s.stream, s.seq`).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Seq != r.N || r.Seq != r.Top {
			t.Errorf("stream %s: counter %d, %d events, highest seq %d", r.Stream, r.Seq, r.N, r.Top)
		}
	}
	t.Logf("%d streams, each gapless", len(rows))
}

// distinct is up to n distinct values of ss, each with its count.
func distinct(ss []string, n int) []string {
	c := map[string]int{}
	var order []string
	for _, s := range ss {
		if c[s] == 0 {
			order = append(order, s)
		}
		c[s]++
	}
	out := make([]string, 0, min(n, len(order)))
	for _, s := range order[:min(n, len(order))] {
		out = append(out, fmt.Sprintf("%d× %s", c[s], s))
	}
	return out
}

// errorsOf pulls the "error" attribute out of JSON log lines.
func errorsOf(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		var r struct {
			Error string `json:"error"`
		}
		json.Unmarshal([]byte(l), &r)
		out = append(out, r.Error)
	}
	return out
}
