package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/notice"
)

// ---- helpers ---------------------------------------------------------------

var (
	userSeq atomic.Int64
	orgSeq  atomic.Int64
)

// volunteer signs up a volunteer through the service (no login throttle, so
// tests may make many) and returns its credentials.
func volunteer(t testing.TB, e *apptest.Env, name string) api.AuthResponse {
	t.Helper()
	email := fmt.Sprintf("%s.%d@example.org", strings.ToLower(name), userSeq.Add(1))
	resp, err := e.App.Auth.Signup(context.Background(), api.SignupRequest{Email: email, Password: apptest.Password, Name: name, PrivacyVersion: notice.Version})
	if err != nil {
		t.Fatalf("signup %s: %v", name, err)
	}
	return resp
}

func tok(a api.AuthResponse) string { return a.Tokens.AccessToken }

// call sends a request as the holder of token ("" = anonymous).
func call(t testing.TB, e *apptest.Env, token, method, path string, body any) apptest.Response {
	t.Helper()
	var hdr []string
	if token != "" {
		hdr = apptest.Bearer(token)
	}
	return e.Do(t, method, path, body, hdr...)
}

// check reports (t.Errorf) an answer that is not status with problem type
// typ ("" = any type); it returns whether the answer was right.
func check(t testing.TB, what string, r apptest.Response, status int, typ string) bool {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: got %d %s, want %d %s", what, r.Status, bytes.TrimSpace(r.Body), status, typ)
		return false
	}
	if typ != "" {
		if p := r.Problem(t); p.Type != api.ProblemTypePrefix+typ {
			t.Errorf("%s: got problem %s, want %s", what, p.Type, api.ProblemTypePrefix+typ)
			return false
		}
	}
	return true
}

// must is check, stopping the test on a wrong answer.
func must(t testing.TB, what string, r apptest.Response, status int, typ string) {
	t.Helper()
	if !check(t, what, r, status, typ) {
		t.FailNow()
	}
}

// fieldErr reports whether a 422 problem names field.
func fieldErr(t testing.TB, r apptest.Response, field string) bool {
	t.Helper()
	for _, f := range r.Problem(t).Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}

// orgBody is a valid POST /v1/orgs body with a fresh accreditation number.
func orgBody(regionCode, coordinatorEmail string) map[string]any {
	n := orgSeq.Add(1)
	b := map[string]any{
		"name":                 fmt.Sprintf("Jaringan Pemantau Pemilu %d", n),
		"accreditation_number": fmt.Sprintf("BAWASLU/AKR/%05d", n),
		"accredited_until":     time.Now().Add(180 * 24 * time.Hour).UTC().Truncate(time.Second),
	}
	if regionCode != "" {
		b["region_code"] = regionCode
	}
	if coordinatorEmail != "" {
		b["coordinator_email"] = coordinatorEmail
	}
	return b
}

// createOrg registers an org as token (an admin or national officer).
func createOrg(t testing.TB, e *apptest.Env, token, regionCode, coordinatorEmail string) api.Org {
	t.Helper()
	r := call(t, e, token, "POST", "/v1/orgs", orgBody(regionCode, coordinatorEmail))
	must(t, "create org", r, http.StatusCreated, "")
	var o api.Org
	r.Decode(t, &o)
	return o
}

func orgPath(o api.Org, rest string) string { return "/v1/orgs/" + o.ID + rest }

func memberPath(o api.Org, userID, rest string) string {
	return "/v1/orgs/" + o.ID + "/memberships/" + userID + rest
}

var noBody = map[string]any{}

// join asks to join o as token, optionally with an invite code.
func join(t testing.TB, e *apptest.Env, token string, o api.Org, code string) apptest.Response {
	t.Helper()
	body := noBody
	if code != "" {
		body = map[string]any{"invite_code": code}
	}
	return call(t, e, token, "POST", orgPath(o, "/memberships"), body)
}

// addMember makes v an active member of o, approved by coordinator.
func addMember(t testing.TB, e *apptest.Env, coordinator string, o api.Org, v api.AuthResponse) {
	t.Helper()
	must(t, "join", join(t, e, tok(v), o, ""), http.StatusCreated, "")
	must(t, "approve", call(t, e, coordinator, "POST", memberPath(o, v.User.ID, "/decision"), map[string]any{"decision": "approve"}), http.StatusOK, "")
}

func invite(t testing.TB, e *apptest.Env, coordinator string, o api.Org, maxUses int) api.Invite {
	t.Helper()
	r := call(t, e, coordinator, "POST", orgPath(o, "/invites"), map[string]any{"max_uses": maxUses, "expires_at": time.Now().Add(24 * time.Hour).UTC()})
	must(t, "create invite", r, http.StatusCreated, "")
	var inv api.Invite
	r.Decode(t, &inv)
	return inv
}

func accreditation(action, reason string, until *time.Time) map[string]any {
	b := map[string]any{"action": action, "reason": reason}
	if until != nil {
		b["until"] = until.UTC()
	}
	return b
}

func exec(t testing.TB, e *apptest.Env, query string, args ...any) {
	t.Helper()
	if _, err := e.App.DB.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func count(t testing.TB, e *apptest.Env, table, where string, args ...any) int {
	t.Helper()
	n, err := e.App.DB.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s where %s: %v", table, where, err)
	}
	return int(n)
}

func auditRows(t testing.TB, e *apptest.Env, action string) int {
	t.Helper()
	return count(t, e, "audit_log", "action = ?", action)
}

func events(t testing.TB, e *apptest.Env, stream string) []event.Event {
	t.Helper()
	evs, err := e.App.Events.After(context.Background(), stream, 0, 100)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// named keeps the events called name.
func named(evs []event.Event, name string) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func payload(t testing.TB, ev event.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatalf("event %s data: %v: %s", ev.Name, err, ev.Data)
	}
	return m
}

// wantPayload checks the given fields of an event's data.
func wantPayload(t testing.TB, ev event.Event, want map[string]any) {
	t.Helper()
	got := payload(t, ev)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s on %s: got %s = %v, want %v (data %s)", ev.Name, ev.Stream, k, got[k], v, ev.Data)
		}
	}
}

// state is a fingerprint of everything the org calls may change.
func state(t testing.TB, e *apptest.Env) string {
	t.Helper()
	ctx := context.Background()
	var ms, os []string
	if err := e.App.DB.NewRaw("SELECT org_id || ':' || user_id || ':' || role || ':' || status FROM memberships ORDER BY 1").Scan(ctx, &ms); err != nil {
		t.Fatal(err)
	}
	if err := e.App.DB.NewRaw("SELECT id || ':' || status FROM orgs ORDER BY 1").Scan(ctx, &os); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("orgs %v memberships %v invites %d audit %d events %d", os, ms,
		e.Count(t, "invites"), e.Count(t, "audit_log"), e.Count(t, "events"))
}

func me(t testing.TB, e *apptest.Env, token string) api.Me {
	t.Helper()
	r := call(t, e, token, "GET", "/v1/me", nil)
	must(t, "GET /v1/me", r, http.StatusOK, "")
	var m api.Me
	r.Decode(t, &m)
	return m
}

func summaryOf(m api.Me, orgID string) (api.MembershipSummary, bool) {
	for _, s := range m.Memberships {
		if s.OrgID == orgID {
			return s, true
		}
	}
	return api.MembershipSummary{}, false
}

// ---- authorization ---------------------------------------------------------

// byActor is one expected status per actor of the matrix.
type byActor struct {
	anon, vol, pending, member, coord, coordB, offNat, off31, off32, admin int
}

// Every endpoint of the organisations section against every kind of caller.
// Org A is a DKI Jakarta (31) org; org B (32) has its own coordinator. Calls
// expected to change state run on a fresh org A; every other call runs on a
// shared one and must leave the database exactly as it was.
func TestOrgAuthorizationMatrix(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		offNat := e.User(t, "officer", "pusat", "")
		off31 := e.User(t, "officer", "dki", "31")
		off32 := e.User(t, "officer", "jabar", "32")
		vol := volunteer(t, e, "relawan")
		coord := volunteer(t, e, "koordinator")
		member := volunteer(t, e, "anggota")
		pending := volunteer(t, e, "calon")
		coordB := volunteer(t, e, "koordinatorb")
		orgB := createOrg(t, e, tok(admin), "32", coordB.User.Email)

		// fixture makes an org A with coord as coordinator, member active
		// and pending waiting.
		fixture := func(t *testing.T) api.Org {
			t.Helper()
			o := createOrg(t, e, tok(admin), "31", coord.User.Email)
			addMember(t, e, tok(coord), o, member)
			must(t, "pending join", join(t, e, tok(pending), o, ""), http.StatusCreated, "")
			return o
		}
		shared := fixture(t)

		actors := []struct {
			name  string
			token string
			pick  func(byActor) int
		}{
			{"anonymous", "", func(b byActor) int { return b.anon }},
			{"volunteer", tok(vol), func(b byActor) int { return b.vol }},
			{"pending member", tok(pending), func(b byActor) int { return b.pending }},
			{"member", tok(member), func(b byActor) int { return b.member }},
			{"coordinator of A", tok(coord), func(b byActor) int { return b.coord }},
			{"coordinator of B", tok(coordB), func(b byActor) int { return b.coordB }},
			{"national officer", tok(offNat), func(b byActor) int { return b.offNat }},
			{"officer of 31", tok(off31), func(b byActor) int { return b.off31 }},
			{"officer of 32", tok(off32), func(b byActor) int { return b.off32 }},
			{"admin", tok(admin), func(b byActor) int { return b.admin }},
		}
		endpoints := []struct {
			method, name string
			path         func(o api.Org) string
			body         func() any
			want         byActor
			types        map[int]string // problem types beyond the defaults
		}{
			{"POST", "/v1/orgs", func(api.Org) string { return "/v1/orgs" }, func() any { return orgBody("31", "") },
				byActor{401, 403, 403, 403, 403, 403, 201, 403, 403, 201}, nil},
			{"GET", "/v1/orgs", func(api.Org) string { return "/v1/orgs" }, nil,
				byActor{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, nil},
			{"GET", "/v1/orgs/{A}", func(o api.Org) string { return orgPath(o, "") }, nil,
				byActor{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, nil},
			{"POST", "/v1/orgs/{A}/accreditation", func(o api.Org) string { return orgPath(o, "/accreditation") },
				func() any { return accreditation("suspend", "dana kampanye tidak dilaporkan", nil) },
				byActor{401, 403, 403, 403, 403, 403, 200, 200, 403, 200}, nil},
			{"POST", "/v1/orgs/{A}/invites", func(o api.Org) string { return orgPath(o, "/invites") },
				func() any { return map[string]any{"max_uses": 5, "expires_at": time.Now().Add(time.Hour).UTC()} },
				byActor{401, 403, 403, 403, 201, 403, 403, 403, 403, 403}, nil},
			{"POST", "/v1/orgs/{A}/memberships", func(o api.Org) string { return orgPath(o, "/memberships") }, func() any { return noBody },
				byActor{401, 201, 409, 409, 409, 201, 403, 403, 403, 403}, map[int]string{403: "staff-cannot-join", 409: "membership-exists"}},
			{"GET", "/v1/orgs/{A}/memberships", func(o api.Org) string { return orgPath(o, "/memberships") }, nil,
				byActor{401, 403, 403, 403, 200, 403, 200, 200, 403, 200}, nil},
			{"POST", "/v1/orgs/{A}/memberships/{pending}/decision", func(o api.Org) string { return memberPath(o, pending.User.ID, "/decision") },
				func() any { return map[string]any{"decision": "approve"} },
				byActor{401, 404, 403, 404, 200, 404, 200, 200, 404, 200}, nil},
			{"PATCH", "/v1/orgs/{A}/memberships/{member}", func(o api.Org) string { return memberPath(o, member.User.ID, "") },
				func() any { return map[string]any{"role": "coordinator"} },
				byActor{401, 404, 404, 403, 200, 404, 200, 200, 404, 200}, nil},
			{"DELETE", "/v1/orgs/{A}/memberships/{member}", func(o api.Org) string { return memberPath(o, member.User.ID, "") }, nil,
				byActor{401, 404, 404, 204, 204, 404, 204, 204, 404, 204}, nil},
			{"GET", "/v1/audit", func(api.Org) string { return "/v1/audit" }, nil,
				byActor{401, 403, 403, 403, 403, 403, 200, 403, 403, 200}, nil},
			{"GET", "/v1/audit?target_type=org&target_id={A}", func(o api.Org) string { return "/v1/audit?target_type=org&target_id=" + o.ID }, nil,
				byActor{401, 403, 403, 403, 403, 403, 200, 200, 403, 200}, nil},
		}
		defaults := map[int]string{401: "unauthenticated", 403: "forbidden", 404: "not-found"}
		for _, ep := range endpoints {
			for _, a := range actors {
				want := a.pick(ep.want)
				what := fmt.Sprintf("%s %s as %s", ep.method, ep.name, a.name)
				mutates := ep.method != "GET" && want < 300
				o := shared
				if mutates && ep.name != "/v1/orgs" {
					o = fixture(t)
				}
				var before string
				if !mutates {
					before = state(t, e)
				}
				var body any
				if ep.body != nil {
					body = ep.body()
				}
				r := call(t, e, a.token, ep.method, ep.path(o), body)
				typ := ep.types[want]
				if typ == "" {
					typ = defaults[want]
				}
				check(t, what, r, want, typ)
				if !mutates {
					if after := state(t, e); after != before {
						t.Errorf("%s: the database changed:\n got  %s\n want %s", what, after, before)
					}
				}
			}
		}

		// A hidden membership looks exactly like a missing one.
		hidden := call(t, e, tok(coordB), "DELETE", memberPath(shared, member.User.ID, ""), nil)
		missing := call(t, e, tok(coordB), "DELETE", memberPath(shared, "0190c0de-0000-7000-8000-000000000000", ""), nil)
		noOrg := call(t, e, tok(coordB), "DELETE", "/v1/orgs/0190c0de-0000-7000-8000-000000000000/memberships/"+member.User.ID, nil)
		if h, m, n := hidden.Problem(t), missing.Problem(t), noOrg.Problem(t); h.Status != 404 || h.Detail != m.Detail || h.Detail != n.Detail {
			t.Errorf("hidden membership: got %d %q, want the 404 of a missing one %q / %q", h.Status, h.Detail, m.Detail, n.Detail)
		}
		// And B's own coordinator still acts on B, untouched by all of the above.
		if r := call(t, e, tok(coordB), "GET", orgPath(orgB, "/memberships"), nil); r.Status != 200 {
			t.Errorf("coordinator of B listing B: got %d, want 200", r.Status)
		}
		if r := call(t, e, tok(coord), "GET", orgPath(orgB, "/memberships"), nil); r.Status != 403 {
			t.Errorf("coordinator of A listing B: got %d, want 403", r.Status)
		}
		if r := call(t, e, tok(coord), "DELETE", memberPath(orgB, coordB.User.ID, ""), nil); r.Status != 404 {
			t.Errorf("coordinator of A removing B's coordinator: got %d, want 404", r.Status)
		}
	})
}

// ---- invites ---------------------------------------------------------------

func TestInviteCodes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord := volunteer(t, e, "koordinator")
		o := createOrg(t, e, tok(admin), "", coord.User.Email)
		other := createOrg(t, e, tok(admin), "", coord.User.Email)
		inv := invite(t, e, tok(coord), o, 3)
		if len(inv.Code) != 23 || strings.Count(inv.Code, "-") != 3 || inv.MaxUses != 3 || inv.OrgID != o.ID {
			t.Fatalf("got invite %+v, want a 20-symbol code in 4 dashed groups with max_uses 3", inv)
		}
		if n := count(t, e, "invites", "code_hash = ?", inv.Code); n != 0 {
			t.Fatalf("the plain code is stored: got %d rows, want 0", n)
		}

		vs := make([]api.AuthResponse, 6)
		for i := range vs {
			vs[i] = volunteer(t, e, fmt.Sprintf("relawan%d", i))
		}
		before := state(t, e)
		must(t, "unknown code", join(t, e, tok(vs[0]), o, "ABCDE-FGHJK-LMNPQ-RSTUV"), 422, "invite-unknown")
		must(t, "another org's code", join(t, e, tok(vs[0]), other, inv.Code), 422, "invite-unknown")
		if after := state(t, e); after != before {
			t.Fatalf("refused joins changed the database:\n got  %s\n want %s", after, before)
		}

		variants := []string{
			strings.ToLower(strings.ReplaceAll(inv.Code, "-", "")),
			strings.ReplaceAll(strings.ToLower(inv.Code), "-", " "),
			inv.Code,
		}
		for i, code := range variants {
			r := join(t, e, tok(vs[i]), o, code)
			must(t, "join with "+code, r, http.StatusCreated, "")
			var m api.Membership
			r.Decode(t, &m)
			if m.Status != "active" || m.Role != "member" || m.UserID != vs[i].User.ID {
				t.Fatalf("join with %q: got %+v, want an active member", code, m)
			}
		}
		before = state(t, e)
		must(t, "fourth use of a 3-use code", join(t, e, tok(vs[3]), o, inv.Code), 409, "invite-used-up")
		if after := state(t, e); after != before {
			t.Fatalf("a used-up join changed the database:\n got  %s\n want %s", after, before)
		}

		expiring := invite(t, e, tok(coord), o, 5)
		exec(t, e, "UPDATE invites SET expires_at = ? WHERE id = ?", time.Now().Add(-time.Minute).UTC(), expiring.ID)
		must(t, "expired code", join(t, e, tok(vs[4]), o, expiring.Code), 409, "invite-expired")
		if n := count(t, e, "memberships", "org_id = ? AND user_id = ?", o.ID, vs[4].User.ID); n != 0 {
			t.Fatalf("an expired code left %d membership rows, want 0", n)
		}
		if n := count(t, e, "invites", "id = ? AND uses = 0", expiring.ID); n != 1 {
			t.Fatal("an expired code was counted as used")
		}
		// Without a code the same volunteer asks and waits.
		r := join(t, e, tok(vs[4]), o, "")
		var m api.Membership
		r.Decode(t, &m)
		if r.Status != 201 || m.Status != "pending" {
			t.Fatalf("join without code: got %d %s, want 201 pending", r.Status, r.Body)
		}

		for name, body := range map[string]map[string]any{
			"max_uses 0":          {"max_uses": 0, "expires_at": time.Now().Add(time.Hour).UTC()},
			"max_uses 10001":      {"max_uses": 10001, "expires_at": time.Now().Add(time.Hour).UTC()},
			"expires in the past": {"max_uses": 1, "expires_at": time.Now().Add(-time.Hour).UTC()},
			"expires in 91 days":  {"max_uses": 1, "expires_at": time.Now().Add(91 * 24 * time.Hour).UTC()},
			"no expiry":           {"max_uses": 1},
		} {
			r := call(t, e, tok(coord), "POST", orgPath(o, "/invites"), body)
			if check(t, "invite with "+name, r, 422, "validation") && len(r.Problem(t).Errors) == 0 {
				t.Errorf("invite with %s: the 422 names no field", name)
			}
		}
	})
}

// 50 volunteers race for a 10-use code: exactly 10 get in.
func TestInviteConcurrentJoinsRespectMaxUses(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord := volunteer(t, e, "koordinator")
		o := createOrg(t, e, tok(admin), "31", coord.User.Email)
		inv := invite(t, e, tok(coord), o, 10)
		vs := make([]api.AuthResponse, 50)
		for i := range vs {
			vs[i] = volunteer(t, e, fmt.Sprintf("relawan%d", i))
		}
		rs := make([]apptest.Response, len(vs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range vs {
			wg.Go(func() {
				<-start
				rs[i] = join(t, e, tok(vs[i]), o, inv.Code)
			})
		}
		close(start)
		wg.Wait()
		got := map[string]int{}
		for _, r := range rs {
			key := fmt.Sprint(r.Status)
			if r.Status != 201 {
				key += " " + r.Problem(t).Type
			}
			got[key]++
		}
		want := map[string]int{"201": 10, "409 /v1/problems/invite-used-up": 40}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got answers %v, want %v", got, want)
		}
		if n := count(t, e, "memberships", "org_id = ? AND status = 'active' AND role = 'member'", o.ID); n != 10 {
			t.Errorf("got %d active members, want 10", n)
		}
		if n := count(t, e, "memberships", "org_id = ?", o.ID); n != 11 {
			t.Errorf("got %d membership rows, want 11 (10 and the coordinator)", n)
		}
		if n := count(t, e, "invites", "id = ? AND uses = 10", inv.ID); n != 1 {
			t.Errorf("the invite's uses is not 10")
		}
		var page api.Org
		call(t, e, "", "GET", orgPath(o, ""), nil).Decode(t, &page)
		if page.MemberCount != 11 {
			t.Errorf("got member_count %d, want 11", page.MemberCount)
		}
	})
}

// ---- coordinators ----------------------------------------------------------

func TestLastCoordinatorStays(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		first := volunteer(t, e, "pertama")
		second := volunteer(t, e, "kedua")
		o := createOrg(t, e, tok(admin), "", first.User.Email)
		addMember(t, e, tok(first), o, second)

		before := state(t, e)
		must(t, "last coordinator leaves", call(t, e, tok(first), "DELETE", memberPath(o, first.User.ID, ""), nil), 409, "last-coordinator")
		must(t, "last coordinator demotes self", call(t, e, tok(first), "PATCH", memberPath(o, first.User.ID, ""), map[string]any{"role": "member"}), 409, "last-coordinator")
		if after := state(t, e); after != before {
			t.Fatalf("refused changes changed the database:\n got  %s\n want %s", after, before)
		}

		r := call(t, e, tok(first), "PATCH", memberPath(o, second.User.ID, ""), map[string]any{"role": "coordinator"})
		must(t, "promote", r, 200, "")
		var m api.Membership
		r.Decode(t, &m)
		if m.Role != "coordinator" || m.Status != "active" {
			t.Fatalf("promote: got %+v, want an active coordinator", m)
		}
		must(t, "first leaves after a promotion", call(t, e, tok(first), "DELETE", memberPath(o, first.User.ID, ""), nil), 204, "")
		if s, _ := summaryOf(me(t, e, tok(first)), o.ID); s.Status != "left" {
			t.Errorf("the one who left: got status %q, want left", s.Status)
		}
		// Now second is the last one.
		must(t, "new last coordinator leaves", call(t, e, tok(second), "DELETE", memberPath(o, second.User.ID, ""), nil), 409, "last-coordinator")
		must(t, "new last coordinator demoted", call(t, e, tok(second), "PATCH", memberPath(o, second.User.ID, ""), map[string]any{"role": "member"}), 409, "last-coordinator")
		// The one who left is no coordinator any more.
		must(t, "former coordinator acts", call(t, e, tok(first), "DELETE", memberPath(o, second.User.ID, ""), nil), 404, "not-found")
	})
}

// Two coordinators leaving at the same moment cannot both go.
func TestCoordinatorsLeavingAtOnceKeepOne(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		for round := 0; round < 3; round++ {
			a, b := volunteer(t, e, "a"), volunteer(t, e, "b")
			o := createOrg(t, e, tok(admin), "", a.User.Email)
			addMember(t, e, tok(a), o, b)
			must(t, "promote", call(t, e, tok(a), "PATCH", memberPath(o, b.User.ID, ""), map[string]any{"role": "coordinator"}), 200, "")
			var wg sync.WaitGroup
			rs := make([]apptest.Response, 2)
			for i, c := range []api.AuthResponse{a, b} {
				wg.Go(func() { rs[i] = call(t, e, tok(c), "DELETE", memberPath(o, c.User.ID, ""), nil) })
			}
			wg.Wait()
			codes := []int{rs[0].Status, rs[1].Status}
			slices.Sort(codes)
			if codes[0] != 204 || codes[1] != 409 {
				t.Fatalf("round %d: got %v, want one 204 and one 409", round, codes)
			}
			if n := count(t, e, "memberships", "org_id = ? AND status = 'active' AND role = 'coordinator'", o.ID); n != 1 {
				t.Fatalf("round %d: got %d coordinators, want 1", round, n)
			}
		}
	})
}

// ---- accreditation ---------------------------------------------------------

func TestOrgSuspendRenewRevoke(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "dki", "31")
		coord := volunteer(t, e, "koordinator")
		member := volunteer(t, e, "anggota")
		o := createOrg(t, e, tok(admin), "3171", coord.User.Email)
		addMember(t, e, tok(coord), o, member)
		acc := orgPath(o, "/accreditation")

		r := call(t, e, tok(officer), "POST", acc, accreditation("suspend", "laporan dana kampanye", nil))
		must(t, "suspend", r, 200, "")
		var got api.Org
		r.Decode(t, &got)
		if got.Status != "suspended" || got.ID != o.ID || got.MemberCount != 2 {
			t.Fatalf("suspend: got %+v, want a suspended org with 2 members", got)
		}
		v := volunteer(t, e, "relawan")
		r = join(t, e, tok(v), o, "")
		must(t, "join a suspended org", r, 409, "org-not-accredited")
		if d := r.Problem(t).Detail; !strings.Contains(d, "suspended") {
			t.Errorf("got detail %q, want it to say suspended", d)
		}
		must(t, "invite in a suspended org", call(t, e, tok(coord), "POST", orgPath(o, "/invites"),
			map[string]any{"max_uses": 1, "expires_at": time.Now().Add(time.Hour).UTC()}), 409, "org-not-accredited")
		if s, ok := summaryOf(me(t, e, tok(member)), o.ID); !ok || s.OrgStatus != "suspended" || s.Status != "active" {
			t.Errorf("member's /v1/me: got %+v, want an active membership with org_status suspended", s)
		}
		must(t, "suspend twice", call(t, e, tok(officer), "POST", acc, accreditation("suspend", "lagi", nil)), 409, "accreditation-transition")

		past := time.Now().Add(-time.Hour)
		until := time.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Second)
		for name, body := range map[string]map[string]any{
			"renew without until":   accreditation("renew", "sudah diperbaiki", nil),
			"renew into the past":   accreditation("renew", "sudah diperbaiki", &past),
			"suspend with until":    accreditation("suspend", "sudah diperbaiki", &until),
			"renew without reason":  accreditation("renew", "", &until),
			"unknown action":        accreditation("pause", "sudah diperbaiki", nil),
			"reason of 2 chars":     accreditation("revoke", "ok", nil),
			"reason only of spaces": accreditation("revoke", "    ", nil),
		} {
			check(t, name, call(t, e, tok(officer), "POST", acc, body), 422, "validation")
		}
		r = call(t, e, tok(officer), "POST", acc, accreditation("renew", "sudah diperbaiki", &until))
		must(t, "renew", r, 200, "")
		r.Decode(t, &got)
		if got.Status != "accredited" || !got.AccreditedUntil.Equal(until) {
			t.Fatalf("renew: got %+v, want accredited until %s", got, until)
		}
		if s, _ := summaryOf(me(t, e, tok(member)), o.ID); s.OrgStatus != "accredited" {
			t.Errorf("member's /v1/me after renew: got org_status %q, want accredited", s.OrgStatus)
		}
		must(t, "join after renew", join(t, e, tok(v), o, ""), 201, "")

		// A renewal to a sub-microsecond time: the event and the audit row
		// say what is stored.
		precise := time.Date(2031, 5, 6, 7, 8, 9, 987654321, time.UTC)
		must(t, "renew to a precise time", call(t, e, tok(officer), "POST", acc, accreditation("renew", "diperpanjang", &precise)), 200, "")
		var stored api.Org
		call(t, e, "", "GET", orgPath(o, ""), nil).Decode(t, &stored)
		evs := named(events(t, e, "org:"+o.ID), "org.accreditation_changed")
		wantPayload(t, evs[len(evs)-1], map[string]any{"status": "accredited", "accredited_until": stored.AccreditedUntil.Format(time.RFC3339Nano)})
		if d := stored.Decisions[0]; d.Action != "renew" || d.Until == nil || !d.Until.Equal(stored.AccreditedUntil) {
			t.Errorf("renew decision: got %+v, want until %s as stored", d, stored.AccreditedUntil.Format(time.RFC3339Nano))
		}

		must(t, "revoke", call(t, e, tok(officer), "POST", acc, accreditation("revoke", "pelanggaran berat", nil)), 200, "")
		must(t, "renew a revoked org", call(t, e, tok(officer), "POST", acc, accreditation("renew", "banding", &until)), 409, "accreditation-transition")
		must(t, "suspend a revoked org", call(t, e, tok(officer), "POST", acc, accreditation("suspend", "lagi", nil)), 409, "accreditation-transition")
		must(t, "approve in a revoked org", call(t, e, tok(coord), "POST", memberPath(o, v.User.ID, "/decision"), map[string]any{"decision": "approve"}), 409, "org-not-accredited")
		var page api.Org
		call(t, e, "", "GET", orgPath(o, ""), nil).Decode(t, &page)
		if page.Status != "revoked" {
			t.Errorf("public page: got status %q, want revoked", page.Status)
		}
		if s, _ := summaryOf(me(t, e, tok(member)), o.ID); s.OrgStatus != "revoked" {
			t.Errorf("member's /v1/me after revoke: got org_status %q, want revoked", s.OrgStatus)
		}
		must(t, "accreditation of an unknown org", call(t, e, tok(officer), "POST", "/v1/orgs/0190c0de-0000-7000-8000-000000000000/accreditation",
			accreditation("suspend", "tidak ada", nil)), 404, "not-found")
	})
}

// An accreditation that runs out is "expired" at once, and the sweeper tells
// the org's stream exactly once however often and however many run it.
func TestOrgLapse(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord := volunteer(t, e, "koordinator")
		a := createOrg(t, e, tok(admin), "31", coord.User.Email)
		b := createOrg(t, e, tok(admin), "32", "")
		lapse := func(o api.Org) {
			exec(t, e, "UPDATE orgs SET accredited_until = ? WHERE id = ?", time.Now().Add(-time.Hour).UTC(), o.ID)
		}
		statusOf := func(o api.Org) string {
			var got api.Org
			call(t, e, "", "GET", orgPath(o, ""), nil).Decode(t, &got)
			return got.Status
		}
		// The status comes from the date, before any sweep: an org lapsed
		// just now has no event yet, unless the app's janitor swept in that
		// instant (it runs every minute); then once more, a minute away.
		for try := 0; ; try++ {
			o := createOrg(t, e, tok(admin), "33", "")
			lapse(o)
			if s := statusOf(o); s != "expired" {
				t.Fatalf("after accredited_until passed: got status %q, want expired", s)
			}
			if len(events(t, e, "org:"+o.ID)) == 0 {
				// Renewed before any sweep, so the sweeps below find A alone.
				exec(t, e, "UPDATE orgs SET accredited_until = ? WHERE id = ?", time.Now().Add(90*24*time.Hour).UTC(), o.ID)
				break
			}
			if try == 1 {
				t.Fatal("an org lapsed just now had its sweep's event twice over")
			}
		}
		lapse(a)
		if s := statusOf(a); s != "expired" {
			t.Fatalf("after accredited_until passed: got status %q, want expired", s)
		}
		if s, _ := summaryOf(me(t, e, tok(coord)), a.ID); s.OrgStatus != "expired" {
			t.Errorf("coordinator's /v1/me: got org_status %q, want expired", s.OrgStatus)
		}
		if evs := events(t, e, "org:"+a.ID); len(evs) > 1 {
			t.Fatalf("before the sweep: got %d events on the org stream, want at most the janitor's one", len(evs))
		}
		n1, err1 := e.App.Orgs.AnnounceLapses(ctx)
		n2, err2 := e.App.Orgs.AnnounceLapses(ctx)
		// (The app's own janitor sweeps too, at start and every minute, so
		// the first call may find nothing left to do; the events decide.)
		if err1 != nil || err2 != nil || n1 > 1 || n2 != 0 {
			t.Fatalf("two sweeps: got %d (%v), %d (%v), want 1 then 0", n1, err1, n2, err2)
		}
		evs := events(t, e, "org:"+a.ID)
		if len(evs) != 1 || evs[0].Name != "org.accreditation_changed" || evs[0].Seq != 1 {
			t.Fatalf("got events %+v, want one org.accreditation_changed", evs)
		}
		wantPayload(t, evs[0], map[string]any{"org_id": a.ID, "status": "expired"})
		if n := count(t, e, "audit_log", "action = 'org.accreditation.expire' AND target_id = ? AND actor_id IS NULL AND actor_role = 'system'", a.ID); n != 1 {
			t.Fatalf("got %d system org.accreditation.expire rows for A, want 1", n)
		}
		v := volunteer(t, e, "relawan")
		r := join(t, e, tok(v), a, "")
		must(t, "join an expired org", r, 409, "org-not-accredited")
		if d := r.Problem(t).Detail; !strings.Contains(d, "expired") {
			t.Errorf("got detail %q, want it to say expired", d)
		}
		must(t, "invite in an expired org", call(t, e, tok(coord), "POST", orgPath(a, "/invites"),
			map[string]any{"max_uses": 1, "expires_at": time.Now().Add(time.Hour).UTC()}), 409, "org-not-accredited")

		// Five sweepers at once.
		lapse(b)
		var wg sync.WaitGroup
		var won atomic.Int64
		for range 5 {
			wg.Go(func() {
				n, err := e.App.Orgs.AnnounceLapses(ctx)
				if err != nil {
					t.Errorf("concurrent sweep: %v", err)
				}
				won.Add(int64(n))
			})
		}
		wg.Wait()
		if won.Load() > 1 {
			t.Errorf("5 concurrent sweeps announced %d lapses, want 1", won.Load())
		}
		if evs := events(t, e, "org:"+b.ID); len(evs) != 1 {
			t.Errorf("got %d events on B's stream, want 1", len(evs))
		}
		// (Counted for A and B alone: an org of the first loop may have been
		// swept by the janitor too.)
		if n := count(t, e, "audit_log", "action = 'org.accreditation.expire' AND target_id IN (?, ?)", a.ID, b.ID); n != 2 {
			t.Errorf("got %d org.accreditation.expire rows for A and B, want 2", n)
		}

		// The public page shows the lapse; a renewal and a second lapse are
		// announced again.
		var page api.Org
		call(t, e, "", "GET", orgPath(a, ""), nil).Decode(t, &page)
		if len(page.Decisions) != 2 || page.Decisions[0].Action != "expire" || page.Decisions[0].Status != "expired" {
			t.Errorf("public page decisions: got %+v, want expire then create", page.Decisions)
		}
		until := time.Now().Add(30 * 24 * time.Hour)
		must(t, "renew an expired org", call(t, e, tok(officer), "POST", orgPath(a, "/accreditation"), accreditation("renew", "diperpanjang", &until)), 200, "")
		if s := statusOf(a); s != "accredited" {
			t.Fatalf("after renewal: got %q, want accredited", s)
		}
		must(t, "join after renewal", join(t, e, tok(v), a, ""), 201, "")
		lapse(a)
		if n, err := e.App.Orgs.AnnounceLapses(ctx); n > 1 || err != nil {
			t.Fatalf("sweep after a second lapse: got %d %v, want 1", n, err)
		}
		if evs := named(events(t, e, "org:"+a.ID), "org.accreditation_changed"); len(evs) != 3 {
			t.Errorf("got %d accreditation events on A's stream, want 3 (expire, renew, expire)", len(evs))
		}
	})
}

// ---- events ----------------------------------------------------------------

func TestMembershipEvents(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord := volunteer(t, e, "koordinator")
		o := createOrg(t, e, tok(admin), "31", coord.User.Email)

		// The first coordinator hears of it.
		if evs := named(events(t, e, "user:"+coord.User.ID), "membership.decided"); len(evs) != 1 {
			t.Errorf("first coordinator: got %d membership.decided, want 1", len(evs))
		} else {
			wantPayload(t, evs[0], map[string]any{"org_id": o.ID, "org_name": o.Name, "status": "active", "role": "coordinator"})
		}

		v := volunteer(t, e, "relawan")
		must(t, "join", join(t, e, tok(v), o, ""), 201, "")
		req := named(events(t, e, "review:"+o.ID), "membership.requested")
		if len(req) != 1 {
			t.Fatalf("got %d membership.requested on the review stream, want 1", len(req))
		}
		wantPayload(t, req[0], map[string]any{"org_id": o.ID, "user_id": v.User.ID, "user_name": "relawan", "role": "member", "status": "pending"})

		r := call(t, e, tok(coord), "POST", memberPath(o, v.User.ID, "/decision"), map[string]any{"decision": "reject"})
		must(t, "reject without a reason", r, 422, "validation")
		if !fieldErr(t, r, "reason") {
			t.Errorf("reject without a reason: got %s, want a field error on reason", r.Body)
		}
		if evs := named(events(t, e, "user:"+v.User.ID), "membership.decided"); len(evs) != 0 {
			t.Fatalf("a refused decision sent %d events, want 0", len(evs))
		}
		must(t, "approve", call(t, e, tok(coord), "POST", memberPath(o, v.User.ID, "/decision"), map[string]any{"decision": "approve"}), 200, "")
		dec := named(events(t, e, "user:"+v.User.ID), "membership.decided")
		if len(dec) != 1 {
			t.Fatalf("got %d membership.decided after approve, want 1", len(dec))
		}
		wantPayload(t, dec[0], map[string]any{"org_id": o.ID, "org_name": o.Name, "status": "active", "role": "member"})
		must(t, "approve twice", call(t, e, tok(coord), "POST", memberPath(o, v.User.ID, "/decision"), map[string]any{"decision": "approve"}), 409, "not-pending")

		w := volunteer(t, e, "ditolak")
		must(t, "join", join(t, e, tok(w), o, ""), 201, "")
		r = call(t, e, tok(coord), "POST", memberPath(o, w.User.ID, "/decision"), map[string]any{"decision": "reject", "reason": "bukan warga wilayah ini"})
		must(t, "reject", r, 200, "")
		var m api.Membership
		r.Decode(t, &m)
		if m.Status != "rejected" || m.Reason != "bukan warga wilayah ini" || m.DecidedAt == nil {
			t.Errorf("reject: got %+v, want rejected with the reason", m)
		}
		dec = named(events(t, e, "user:"+w.User.ID), "membership.decided")
		if len(dec) != 1 {
			t.Fatalf("got %d membership.decided after reject, want 1", len(dec))
		}
		wantPayload(t, dec[0], map[string]any{"org_id": o.ID, "org_name": o.Name, "status": "rejected", "role": "member", "reason": "bukan warga wilayah ini"})
		if s, _ := summaryOf(me(t, e, tok(w)), o.ID); s.Status != "rejected" || s.Reason != "bukan warga wilayah ini" {
			t.Errorf("rejected volunteer's /v1/me: got %+v, want rejected with the reason", s)
		}

		must(t, "promote", call(t, e, tok(coord), "PATCH", memberPath(o, v.User.ID, ""), map[string]any{"role": "coordinator"}), 200, "")
		rc := named(events(t, e, "user:"+v.User.ID), "membership.role_changed")
		if len(rc) != 1 {
			t.Fatalf("got %d membership.role_changed, want 1", len(rc))
		}
		wantPayload(t, rc[0], map[string]any{"org_id": o.ID, "org_name": o.Name, "role": "coordinator"})

		must(t, "suspend", call(t, e, tok(officer), "POST", orgPath(o, "/accreditation"), accreditation("suspend", "audit dana", nil)), 200, "")
		ac := named(events(t, e, "org:"+o.ID), "org.accreditation_changed")
		if len(ac) != 1 {
			t.Fatalf("got %d org.accreditation_changed, want 1", len(ac))
		}
		wantPayload(t, ac[0], map[string]any{"org_id": o.ID, "status": "suspended", "reason": "audit dana",
			"accredited_until": o.AccreditedUntil.UTC().Format(time.RFC3339Nano)})

		// Seqs rise by one on every stream touched.
		for _, s := range []string{"user:" + v.User.ID, "user:" + w.User.ID, "review:" + o.ID, "org:" + o.ID} {
			for i, ev := range events(t, e, s) {
				if ev.Seq != int64(i+1) {
					t.Errorf("%s: event %d has seq %d, want %d", s, i, ev.Seq, i+1)
				}
			}
		}
	})
}

// ---- audit -----------------------------------------------------------------

// Every privileged action leaves exactly one audit row; a refused one none.
func TestAuditOneRowPerAction(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord := volunteer(t, e, "koordinator")
		vol := volunteer(t, e, "relawan")
		var o api.Org

		// step runs do, wanting status and rows new audit rows of action
		// (and no others).
		step := func(what, action string, status, rows int, do func() apptest.Response) apptest.Response {
			t.Helper()
			total, before := e.Count(t, "audit_log"), auditRows(t, e, action)
			r := do()
			must(t, what, r, status, "")
			want := rows
			if got := auditRows(t, e, action) - before; got != want {
				t.Errorf("%s: got %d new %s rows, want %d", what, got, action, want)
			}
			if got := e.Count(t, "audit_log") - total; got != want {
				t.Errorf("%s: got %d new audit rows in all, want %d", what, got, want)
			}
			return r
		}
		as := func(a api.AuthResponse, method, path string, body any) func() apptest.Response {
			return func() apptest.Response { return call(t, e, tok(a), method, path, body) }
		}

		body := orgBody("31", coord.User.Email)
		step("volunteer creates an org", "org.create", 403, 0, as(vol, "POST", "/v1/orgs", body))
		step("create an org", "org.create", 201, 1, as(admin, "POST", "/v1/orgs", body)).Decode(t, &o)
		dup := orgBody("", "")
		dup["accreditation_number"] = body["accreditation_number"]
		step("duplicate accreditation number", "org.create", 409, 0, as(admin, "POST", "/v1/orgs", dup))
		bad := orgBody("", "")
		bad["name"] = ""
		step("empty name", "org.create", 422, 0, as(admin, "POST", "/v1/orgs", bad))

		acc := orgPath(o, "/accreditation")
		until := time.Now().Add(400 * 24 * time.Hour)
		past := time.Now().Add(-time.Hour)
		step("volunteer suspends", "org.accreditation.suspend", 403, 0, as(vol, "POST", acc, accreditation("suspend", "alasan", nil)))
		step("suspend", "org.accreditation.suspend", 200, 1, as(officer, "POST", acc, accreditation("suspend", "alasan", nil)))
		step("suspend twice", "org.accreditation.suspend", 409, 0, as(officer, "POST", acc, accreditation("suspend", "alasan", nil)))
		step("renew into the past", "org.accreditation.renew", 422, 0, as(officer, "POST", acc, accreditation("renew", "alasan", &past)))
		step("renew", "org.accreditation.renew", 200, 1, as(officer, "POST", acc, accreditation("renew", "alasan", &until)))

		inv := map[string]any{"max_uses": 2, "expires_at": time.Now().Add(time.Hour).UTC()}
		step("volunteer makes an invite", "invite.create", 403, 0, as(vol, "POST", orgPath(o, "/invites"), inv))
		step("invite with max_uses 0", "invite.create", 422, 0, as(coord, "POST", orgPath(o, "/invites"), map[string]any{"max_uses": 0, "expires_at": time.Now().Add(time.Hour).UTC()}))
		var code api.Invite
		step("make an invite", "invite.create", 201, 1, as(coord, "POST", orgPath(o, "/invites"), inv)).Decode(t, &code)

		total := e.Count(t, "audit_log")
		must(t, "join", join(t, e, tok(vol), o, ""), 201, "")
		byCode := volunteer(t, e, "berkode")
		must(t, "join with a code", join(t, e, tok(byCode), o, code.Code), 201, "")
		rejected := volunteer(t, e, "ditolak")
		must(t, "join", join(t, e, tok(rejected), o, ""), 201, "")
		if got := e.Count(t, "audit_log"); got != total {
			t.Errorf("joins wrote %d audit rows, want 0", got-total)
		}

		decide := func(v api.AuthResponse) string { return memberPath(o, v.User.ID, "/decision") }
		step("volunteer approves self", "membership.approve", 403, 0, as(vol, "POST", decide(vol), map[string]any{"decision": "approve"}))
		step("approve", "membership.approve", 200, 1, as(coord, "POST", decide(vol), map[string]any{"decision": "approve"}))
		step("approve twice", "membership.approve", 409, 0, as(coord, "POST", decide(vol), map[string]any{"decision": "approve"}))
		step("reject without reason", "membership.reject", 422, 0, as(coord, "POST", decide(rejected), map[string]any{"decision": "reject"}))
		step("reject", "membership.reject", 200, 1, as(coord, "POST", decide(rejected), map[string]any{"decision": "reject", "reason": "tidak dikenal"}))

		role := func(v api.AuthResponse) string { return memberPath(o, v.User.ID, "") }
		step("member promotes self", "membership.role_change", 403, 0, as(vol, "PATCH", role(vol), map[string]any{"role": "coordinator"}))
		step("promote", "membership.role_change", 200, 1, as(coord, "PATCH", role(vol), map[string]any{"role": "coordinator"}))
		step("promote again (no change)", "membership.role_change", 200, 0, as(coord, "PATCH", role(vol), map[string]any{"role": "coordinator"}))
		step("bad role", "membership.role_change", 422, 0, as(coord, "PATCH", role(vol), map[string]any{"role": "ketua"}))

		step("member removes another", "membership.remove", 404, 0, as(byCode, "DELETE", role(rejected), nil))
		step("remove", "membership.remove", 204, 1, as(coord, "DELETE", role(byCode), nil))
		step("remove twice", "membership.remove", 409, 0, as(coord, "DELETE", role(byCode), nil))
		step("leave", "membership.leave", 204, 1, as(vol, "DELETE", role(vol), nil))
		step("last coordinator leaves", "membership.leave", 409, 0, as(coord, "DELETE", role(coord), nil))

		step("volunteer revokes", "org.accreditation.revoke", 403, 0, as(vol, "POST", acc, accreditation("revoke", "alasan", nil)))
		step("revoke", "org.accreditation.revoke", 200, 1, as(officer, "POST", acc, accreditation("revoke", "alasan", nil)))
		step("renew a revoked org", "org.accreditation.renew", 409, 0, as(officer, "POST", acc, accreditation("renew", "alasan", &until)))

		staff := map[string]any{"email": "petugas.audit@bawaslu.go.id", "password": apptest.Password, "name": "Petugas", "role": "officer", "region_code": "31"}
		step("volunteer makes staff", "user.create", 403, 0, as(vol, "POST", "/v1/admin/users", staff))
		step("officer makes staff", "user.create", 403, 0, as(officer, "POST", "/v1/admin/users", staff))
		step("admin makes staff", "user.create", 201, 1, as(admin, "POST", "/v1/admin/users", staff))
		step("admin makes the same staff again", "user.create", 409, 0, as(admin, "POST", "/v1/admin/users", staff))
		weak := map[string]any{"email": "lemah@bawaslu.go.id", "password": "1234567890", "name": "Petugas", "role": "officer"}
		step("admin makes staff with a weak password", "user.create", 422, 0, as(admin, "POST", "/v1/admin/users", weak))

		// The rows say who did it, to what, with the request id.
		r := call(t, e, tok(officer), "GET", "/v1/audit?target_type=org&target_id="+url.QueryEscape(o.ID), nil)
		must(t, "read the audit trail", r, 200, "")
		var page api.Page[api.AuditEntry]
		r.Decode(t, &page)
		var actions []string
		for _, en := range page.Items {
			actions = append(actions, en.Action)
			if en.TargetType != "org" || en.TargetID != o.ID || en.RequestID == "" {
				t.Errorf("audit entry %+v: want target org %s and a request id", en, o.ID)
			}
			wantActor := officer.User.ID
			switch en.Action {
			case "org.create":
				wantActor = admin.User.ID
			case "invite.create":
				wantActor = coord.User.ID
			}
			if en.ActorID == nil || *en.ActorID != wantActor {
				t.Errorf("%s: got actor %v, want %s", en.Action, en.ActorID, wantActor)
			}
		}
		want := []string{"org.accreditation.revoke", "invite.create", "org.accreditation.renew", "org.accreditation.suspend", "org.create"}
		if !slices.Equal(actions, want) {
			t.Errorf("got org trail %v, want %v (newest first)", actions, want)
		}
		if strings.Contains(string(r.Body), code.Code) {
			t.Error("the audit trail shows an invite code")
		}
	})
}

// ---- registry --------------------------------------------------------------

// The public page lists the accreditation decisions, never who made them.
func TestOrgPublicPage(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "dki", "31")
		coord := volunteer(t, e, "koordinator")
		o := createOrg(t, e, tok(admin), "3171", coord.User.Email)
		if o.Status != "accredited" || o.MemberCount != 1 || o.RegionCode == nil || *o.RegionCode != "3171" {
			t.Fatalf("created: got %+v, want accredited, 1 member, region 3171", o)
		}
		acc := orgPath(o, "/accreditation")
		must(t, "suspend", call(t, e, tok(officer), "POST", acc, accreditation("suspend", "laporan dana kampanye terlambat", nil)), 200, "")
		until := time.Now().Add(200 * 24 * time.Hour).UTC().Truncate(time.Second)
		must(t, "renew", call(t, e, tok(officer), "POST", acc, accreditation("renew", "laporan sudah diserahkan", &until)), 200, "")

		r := call(t, e, "", "GET", orgPath(o, ""), nil)
		must(t, "public page", r, 200, "")
		var page api.Org
		r.Decode(t, &page)
		type dec struct {
			action, status, reason string
			until                  time.Time
		}
		want := []dec{
			{"renew", "accredited", "laporan sudah diserahkan", until},
			{"suspend", "suspended", "laporan dana kampanye terlambat", o.AccreditedUntil},
			{"create", "accredited", "", o.AccreditedUntil},
		}
		if len(page.Decisions) != len(want) {
			t.Fatalf("got decisions %+v, want %d", page.Decisions, len(want))
		}
		for i, d := range page.Decisions {
			w := want[i]
			if d.Action != w.action || d.Status != w.status || d.Reason != w.reason || d.Until == nil || !d.Until.Equal(w.until) || d.At.IsZero() {
				t.Errorf("decision %d: got %+v (until %v), want %+v", i, d, d.Until, w)
			}
		}
		for _, secret := range []string{officer.User.ID, admin.User.ID, coord.User.ID, coord.User.Email, "actor", "created_by", "request_id"} {
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("the public page shows %q: %s", secret, r.Body)
			}
		}
		var raw struct {
			Decisions []map[string]any `json:"decisions"`
		}
		json.Unmarshal(r.Body, &raw)
		for _, d := range raw.Decisions {
			for k := range d {
				if !slices.Contains([]string{"action", "status", "reason", "until", "at"}, k) {
					t.Errorf("a decision carries %q", k)
				}
			}
		}
		if page.Status != "accredited" || !page.AccreditedUntil.Equal(until) || page.MemberCount != 1 {
			t.Errorf("page: got %+v", page)
		}
		must(t, "unknown org", call(t, e, "", "GET", "/v1/orgs/0190c0de-0000-7000-8000-000000000000", nil), 404, "not-found")
		must(t, "garbage id", call(t, e, "", "GET", "/v1/orgs/'%20OR%201=1", nil), 404, "not-found")
	})
}

func TestOrgListPaginationAndFilters(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		var created []api.Org
		for _, reg := range []string{"31", "3171", "32", "", ""} {
			created = append(created, createOrg(t, e, tok(admin), reg, ""))
		}
		list := func(query string) (api.Page[api.Org], apptest.Response) {
			t.Helper()
			r := call(t, e, "", "GET", "/v1/orgs"+query, nil)
			must(t, "GET /v1/orgs"+query, r, 200, "")
			var p api.Page[api.Org]
			r.Decode(t, &p)
			return p, r
		}
		var seen []string
		cursor := ""
		var sizes []int
		for i := 0; i < 10; i++ {
			q := "?limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p, r := list(q)
			sizes = append(sizes, len(p.Items))
			for _, o := range p.Items {
				seen = append(seen, o.ID)
			}
			if p.NextCursor == "" {
				if strings.Contains(string(r.Body), "next_cursor") {
					t.Errorf("the last page carries next_cursor: %s", r.Body)
				}
				break
			}
			cursor = p.NextCursor
		}
		var wantIDs []string
		for i := len(created) - 1; i >= 0; i-- {
			wantIDs = append(wantIDs, created[i].ID)
		}
		if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(seen, wantIDs) {
			t.Fatalf("got pages of %v with %v, want pages of [2 2 1] with %v (newest first, no repeats)", sizes, seen, wantIDs)
		}

		must(t, "suspend", call(t, e, tok(officer), "POST", orgPath(created[2], "/accreditation"), accreditation("suspend", "alasan", nil)), 200, "")
		must(t, "revoke", call(t, e, tok(officer), "POST", orgPath(created[3], "/accreditation"), accreditation("revoke", "alasan", nil)), 200, "")
		exec(t, e, "UPDATE orgs SET accredited_until = ? WHERE id = ?", time.Now().Add(-time.Minute).UTC(), created[1].ID)
		ids := func(query string) []string {
			p, _ := list(query)
			var out []string
			for _, o := range p.Items {
				out = append(out, o.ID)
			}
			return out
		}
		for _, c := range []struct {
			query string
			want  []int // indexes into created, newest first
		}{
			{"?status=accredited", []int{4, 0}},
			{"?status=suspended", []int{2}},
			{"?status=revoked", []int{3}},
			{"?status=expired", []int{1}},
			{"?region=31", []int{1, 0}},
			{"?region=3171", []int{1}},
			{"?region=32", []int{2}},
			{"?region=11", nil},
			{"?region=31&status=accredited", []int{0}},
			{"?limit=200", []int{4, 3, 2, 1, 0}},
		} {
			var want []string
			for _, i := range c.want {
				want = append(want, created[i].ID)
			}
			if got := ids(c.query); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", c.query, got, want)
			}
		}
		var expired api.Org
		call(t, e, "", "GET", orgPath(created[1], ""), nil).Decode(t, &expired)
		if expired.Status != "expired" {
			t.Errorf("an org past accredited_until: got status %q, want expired", expired.Status)
		}

		for _, q := range []string{"?cursor=!!!", "?cursor=%00", "?limit=0", "?limit=201", "?limit=-1", "?limit=two", "?status=bogus", "?region=99", "?region=3170"} {
			r := call(t, e, "", "GET", "/v1/orgs"+q, nil)
			check(t, "GET /v1/orgs"+q, r, 400, "")
		}
	})
}

// Refused registrations name the field at fault and change nothing.
func TestOrgCreateValidation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		vol := volunteer(t, e, "relawan")
		taken := orgBody("", "")
		must(t, "first org", call(t, e, tok(admin), "POST", "/v1/orgs", taken), 201, "")

		with := func(k string, v any) map[string]any {
			b := orgBody("31", vol.User.Email)
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		cases := []struct {
			name   string
			body   map[string]any
			status int
			typ    string
			field  string
		}{
			{"empty name", with("name", ""), 422, "validation", "name"},
			{"blank name", with("name", "   "), 422, "validation", "name"},
			{"missing accreditation number", with("accreditation_number", ""), 422, "validation", "accreditation_number"},
			{"accredited_until in the past", with("accredited_until", time.Now().Add(-time.Hour).UTC()), 422, "validation", "accredited_until"},
			{"accredited_until missing", with("accredited_until", nil), 422, "validation", "accredited_until"},
			{"unknown province", with("region_code", "99"), 422, "validation", "region_code"},
			{"regency 70", with("region_code", "3170"), 422, "validation", "region_code"},
			{"letters as region", with("region_code", "DKI"), 422, "validation", "region_code"},
			{"coordinator without account", with("coordinator_email", "belum.daftar@example.org"), 422, "validation", "coordinator_email"},
			{"officer as coordinator", with("coordinator_email", officer.User.Email), 422, "validation", "coordinator_email"},
			{"admin as coordinator", with("coordinator_email", admin.User.Email), 422, "validation", "coordinator_email"},
			{"malformed coordinator email", with("coordinator_email", "bukan-email"), 422, "validation", "coordinator_email"},
			{"duplicate accreditation number", with("accreditation_number", taken["accreditation_number"]), 409, "accreditation-number-taken", ""},
			{"duplicate number with spaces", with("accreditation_number", " "+taken["accreditation_number"].(string)+" "), 409, "accreditation-number-taken", ""},
			{"unknown field", with("website", "https://example.org"), 400, "malformed", ""},
		}
		before := state(t, e)
		for _, c := range cases {
			r := call(t, e, tok(officer), "POST", "/v1/orgs", c.body)
			if !check(t, c.name, r, c.status, c.typ) {
				continue
			}
			if c.field != "" && !fieldErr(t, r, c.field) {
				t.Errorf("%s: got errors %+v, want one on %s", c.name, r.Problem(t).Errors, c.field)
			}
		}
		if after := state(t, e); after != before {
			t.Fatalf("refused registrations changed the database:\n got  %s\n want %s", after, before)
		}

		// The valid body works, and its coordinator sees the membership.
		r := call(t, e, tok(officer), "POST", "/v1/orgs", with("name", "  Komite Independen Pemantau Pemilu  "))
		must(t, "valid create", r, 201, "")
		var o api.Org
		r.Decode(t, &o)
		if o.Name != "Komite Independen Pemantau Pemilu" || o.Status != "accredited" || o.MemberCount != 1 || r.Header.Get("Location") != "/v1/orgs/"+o.ID {
			t.Errorf("created: got %+v (Location %q)", o, r.Header.Get("Location"))
		}
		if s, ok := summaryOf(me(t, e, tok(vol)), o.ID); !ok || s.Role != "coordinator" || s.Status != "active" || s.OrgStatus != "accredited" {
			t.Errorf("the named coordinator's /v1/me: got %+v, want an active coordinator", s)
		}

		// The answer to a create shows what was stored.
		precise := orgBody("", "")
		precise["accredited_until"] = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		r = call(t, e, tok(officer), "POST", "/v1/orgs", precise)
		must(t, "create with a nanosecond accredited_until", r, 201, "")
		var created, read api.Org
		r.Decode(t, &created)
		call(t, e, "", "GET", orgPath(created, ""), nil).Decode(t, &read)
		if !created.AccreditedUntil.Equal(read.AccreditedUntil) {
			t.Errorf("accredited_until: the create answer says %s, a read says %s", created.AccreditedUntil.Format(time.RFC3339Nano), read.AccreditedUntil.Format(time.RFC3339Nano))
		}
	})
}
