package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/region"
)

// ---- helpers -------------------------------------------------------------------

func getClaim(t testing.TB, e *apptest.Env, token, id string) api.Claim {
	t.Helper()
	r := call(t, e, token, "GET", claimPath(id, ""), nil)
	must(t, "GET claim", r, http.StatusOK, "")
	var c api.Claim
	r.Decode(t, &c)
	return c
}

// claimUses are what a holder does with a claim: extend, complete, and
// file a report under it.
func claimUses(t testing.TB, e *apptest.Env, token, claimID string) (extend, complete, report apptest.Response) {
	t.Helper()
	body := reportBody("", "", "")
	body["claim_id"] = claimID
	return call(t, e, token, "POST", claimPath(claimID, "/extend"), nil),
		call(t, e, token, "POST", claimPath(claimID, "/complete"), map[string]any{"outcome": "done"}),
		call(t, e, token, "POST", "/v1/reports", body)
}

// refusedUses checks that every use of a claim is refused with status and
// typ (the report: reportStatus, reportType) and that nothing was filed.
func refusedUses(t testing.TB, e *apptest.Env, who, token, claimID string, status int, typ string, reportStatus int, reportType string) {
	t.Helper()
	n := e.Count(t, "reports")
	extend, complete, report := claimUses(t, e, token, claimID)
	check(t, who+": extend", extend, status, typ)
	check(t, who+": complete", complete, status, typ)
	check(t, who+": report under the claim", report, reportStatus, reportType)
	if got := e.Count(t, "reports"); got != n {
		t.Errorf("%s: %d reports filed under the claim, want 0", who, got-n)
	}
}

// usable checks that the holder may still extend and then complete.
func usable(t testing.TB, e *apptest.Env, who, token, claimID string) {
	t.Helper()
	must(t, who+": extend", call(t, e, token, "POST", claimPath(claimID, "/extend"), nil), http.StatusOK, "")
	must(t, who+": complete", call(t, e, token, "POST", claimPath(claimID, "/complete"), map[string]any{"outcome": "done"}), http.StatusOK, "")
}

// wantEnded checks that the claim was released by the server for reason,
// that its holder got claim.ended and that its task's last task.updated
// tells slots.
func wantEnded(t testing.TB, e *apptest.Env, holder api.AuthResponse, c api.Claim, orgID, reason string, slots int) {
	t.Helper()
	wantEndedAs(t, e, tok(holder), holder, c, "org:"+orgID, reason, slots)
}

// wantEndedAs is wantEnded with the claim read by reader (the holder may
// no longer read it) and task.updated looked for on the task's stream.
func wantEndedAs(t testing.TB, e *apptest.Env, reader string, holder api.AuthResponse, c api.Claim, taskStream, reason string, slots int) {
	t.Helper()
	got := getClaim(t, e, reader, c.ID)
	if got.Status != api.ClaimReleased || got.EndReason == nil || *got.EndReason != reason || got.EndedAt == nil || got.Version != c.Version+1 {
		t.Errorf("claim %s: got %+v (end_reason %v), want released with end_reason %s at version %d", c.ID, got, deref(got.EndReason), reason, c.Version+1)
	}
	evs := about(t, named(taskEvents(t, e, "user:"+holder.User.ID), "claim.ended"), "claim_id", c.ID)
	if len(evs) != 1 {
		t.Fatalf("claim %s: %d claim.ended events for the holder, want 1", c.ID, len(evs))
	}
	wantPayload(t, evs[0], map[string]any{"task_id": c.TaskID, "reason": reason})
	if payload(t, evs[0])["task_title"] == "" {
		t.Errorf("claim.ended without task_title: %s", evs[0].Data)
	}
	updates := named(about(t, taskEvents(t, e, taskStream), "id", c.TaskID), "task.updated")
	if len(updates) == 0 || int(payload(t, updates[len(updates)-1])["slots_taken"].(float64)) != slots {
		t.Errorf("task %s: last task.updated does not tell %d slots taken (%d updates)", c.TaskID, slots, len(updates))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// ---- membership ----------------------------------------------------------------

// A member removed, leaving or rejected loses their claims on the org's
// tasks at once: the slot is free for the others, and the old claim can no
// longer be extended, completed or reported under. Their claims elsewhere
// stay; members who stay keep theirs.
func TestClaimsEndWithMembership(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord, o := taskOrg(t, e, admin, "")
		coordB, b := taskOrg(t, e, admin, "")
		ms := taskMembers(t, e, coord, o, 7, "")

		t.Run("removed", func(t *testing.T) {
			m, stay := ms[0], ms[1]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, e, tok(m), tk.ID)
			// Claims that are not the org's: another org's task, the national pool.
			must(t, "join org B", join(t, e, tok(m), b, invite(t, e, tok(coordB), b, 1).Code), http.StatusCreated, "")
			cB := claimTask(t, e, tok(m), createTask(t, e, tok(coordB), taskBody(b.ID, 1)).ID)
			cN := claimTask(t, e, tok(m), createTask(t, e, tok(officer), taskBody("", 1)).ID)

			must(t, "remove the member", call(t, e, tok(coord), "DELETE", memberPath(o, m.User.ID, ""), nil), http.StatusNoContent, "")
			wantEnded(t, e, m, c, o.ID, api.ClaimEndMembership, 0)
			assertSlots(t, e, tok(coord), tk.ID, 0)
			refusedUses(t, e, "removed member", tok(m), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			check(t, "removed member releases", call(t, e, tok(m), "POST", claimPath(c.ID, "/release"), nil), http.StatusConflict, "claim-not-active")
			check(t, "removed member claims again", call(t, e, tok(m), "POST", taskPath(tk.ID, "/claims"), nil), http.StatusNotFound, "not-found")

			// The freed slot goes to a member who stays, who uses it.
			s := claimTask(t, e, tok(stay), tk.ID)
			usable(t, e, "a member who stays", tok(stay), s.ID)
			assertSlots(t, e, tok(coord), tk.ID, 1)
			// The removed member's other claims are untouched.
			usable(t, e, "the claim in org B", tok(m), cB.ID)
			usable(t, e, "the national-pool claim", tok(m), cN.ID)
		})

		t.Run("left", func(t *testing.T) {
			m, next := ms[2], ms[3]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, e, tok(m), tk.ID)
			must(t, "leave", call(t, e, tok(m), "DELETE", memberPath(o, m.User.ID, ""), nil), http.StatusNoContent, "")
			wantEnded(t, e, m, c, o.ID, api.ClaimEndMembership, 0)
			refusedUses(t, e, "a member who left", tok(m), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			n := claimTask(t, e, tok(next), tk.ID)
			usable(t, e, "the next member", tok(next), n.ID)
		})

		t.Run("rejected", func(t *testing.T) {
			// A claim left over from before (a membership put back to
			// pending by hand, its claim still active): rejecting the
			// request ends it.
			m := ms[4]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, e, tok(m), tk.ID)
			exec(t, e, "UPDATE memberships SET status = 'pending' WHERE org_id = ? AND user_id = ?", o.ID, m.User.ID)
			must(t, "reject", call(t, e, tok(coord), "POST", memberPath(o, m.User.ID, "/decision"), map[string]any{"decision": "reject", "reason": "data diri tidak lengkap"}), http.StatusOK, "")
			wantEnded(t, e, m, c, o.ID, api.ClaimEndMembership, 0)
			refusedUses(t, e, "a rejected user", tok(m), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			assertSlots(t, e, tok(coord), tk.ID, 0)
		})

		t.Run("membership gone, claim still active", func(t *testing.T) {
			// What a race or older data could leave: the membership is
			// removed but the claim is still active. It cannot be used;
			// the holder may still give it back.
			m, stay := ms[5], ms[6]
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(m), tk.ID)
			s := claimTask(t, e, tok(stay), tk.ID)
			exec(t, e, "UPDATE memberships SET status = 'removed' WHERE org_id = ? AND user_id = ?", o.ID, m.User.ID)
			refusedUses(t, e, "holder no longer a member", tok(m), c.ID, http.StatusConflict, "membership-ended", http.StatusForbidden, "not-a-member")
			if st := claimStatus(t, e, c.ID); st != "active" || count(t, e, "claims", "id = ? AND version = 1", c.ID) != 1 {
				t.Errorf("refused uses changed the claim (status %s)", st)
			}
			must(t, "the holder gives it back", call(t, e, tok(m), "POST", claimPath(c.ID, "/release"), nil), http.StatusOK, "")
			usable(t, e, "a member who stays", tok(stay), s.ID)
			assertSlots(t, e, tok(coord), tk.ID, 1)
		})
	})
}

// On PostgreSQL, claims a member makes while being removed never survive
// the removal: each either commits first and is ended by it, or is refused
// after it.
func TestClaimsEndWithMembershipRace(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		const rounds = 12
		ms := taskMembers(t, e, coord, o, rounds, "")
		tasks := make([]api.Task, 3)
		for i := range tasks {
			tasks[i] = createTask(t, e, tok(coord), taskBody(o.ID, 1000))
		}
		ended, refused := 0, 0
		for _, m := range ms {
			rs := race(t, len(tasks)+1, func(i int) (string, string, string, string, any) {
				if i == len(tasks) {
					return e.URL, tok(coord), "DELETE", memberPath(o, m.User.ID, ""), nil
				}
				return e.URL, tok(m), "POST", taskPath(tasks[i].ID, "/claims"), nil
			})
			if rs[len(tasks)].Status != http.StatusNoContent {
				t.Fatalf("remove: got %v", rs[len(tasks)])
			}
			for _, r := range rs[:len(tasks)] {
				switch r.String() {
				case "201":
					ended++
				case "404 not-found": // the task is the org's: no longer visible
					refused++
				default:
					t.Errorf("a claim during the removal: got %v", r)
				}
			}
			if n := count(t, e, "claims", "user_id = ? AND status = 'active'", m.User.ID); n != 0 {
				t.Errorf("member %s: %d active claims outlived the removal", m.User.ID, n)
			}
		}
		for _, tk := range tasks {
			assertSlots(t, e, tok(coord), tk.ID, 0)
		}
		t.Logf("%d claims ended by the removal, %d refused after it", ended, refused)
	})
}

// ---- the org ---------------------------------------------------------------------

// Suspending, revoking or the lapse of an org's accreditation ends every
// active claim on its tasks in the same transaction; other orgs' claims
// stay, and after a renewal members claim again.
func TestClaimsEndWithOrg(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord, o := taskOrg(t, e, admin, "")
		coordK, keep := taskOrg(t, e, admin, "")
		ms := taskMembers(t, e, coord, o, 4, "")
		k := taskMembers(t, e, coordK, keep, 1, "")[0]
		accredit := func(action, reason string, until *time.Time) {
			t.Helper()
			must(t, action, call(t, e, tok(officer), "POST", orgPath(o, "/accreditation"), accreditation(action, reason, until)), http.StatusOK, "")
		}
		updates := func(taskID string) int {
			return len(named(about(t, taskEvents(t, e, "org:"+o.ID), "id", taskID), "task.updated"))
		}

		t.Run("suspended", func(t *testing.T) {
			two := createTask(t, e, tok(coord), taskBody(o.ID, 3))
			one := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			late := createTask(t, e, tok(coord), taskBody(o.ID, 1))
			c0, c1 := claimTask(t, e, tok(ms[0]), two.ID), claimTask(t, e, tok(ms[1]), two.ID)
			c2 := claimTask(t, e, tok(ms[2]), one.ID)
			c3 := claimTask(t, e, tok(ms[3]), late.ID)
			setLease(t, e, c3.ID, time.Now().Add(-time.Minute)) // overdue, not swept yet
			kc := claimTask(t, e, tok(k), createTask(t, e, tok(coordK), taskBody(keep.ID, 1)).ID)
			before := updates(two.ID)

			accredit("suspend", "laporan dana kampanye belum diserahkan", nil)
			wantEnded(t, e, ms[0], c0, o.ID, api.ClaimEndOrgSuspended, 0)
			wantEnded(t, e, ms[1], c1, o.ID, api.ClaimEndOrgSuspended, 0)
			wantEnded(t, e, ms[2], c2, o.ID, api.ClaimEndOrgSuspended, 0)
			if n := updates(two.ID) - before; n != 1 {
				t.Errorf("task with two ended claims: %d task.updated, want 1", n)
			}
			// The overdue claim expired as the sweeper would have expired it.
			if st := claimStatus(t, e, c3.ID); st != api.ClaimExpired {
				t.Errorf("overdue claim: got %s, want expired", st)
			}
			if n := len(about(t, named(taskEvents(t, e, "user:"+ms[3].User.ID), "claim.expired"), "claim_id", c3.ID)); n != 1 {
				t.Errorf("overdue claim: %d claim.expired, want 1", n)
			}
			for _, tk := range []api.Task{two, one, late} {
				assertSlots(t, e, tok(coord), tk.ID, 0)
			}
			refusedUses(t, e, "member of a suspended org", tok(ms[0]), c0.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			refusedUses(t, e, "another member of a suspended org", tok(ms[2]), c2.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			check(t, "claim while suspended", call(t, e, tok(ms[0]), "POST", taskPath(two.ID, "/claims"), nil), http.StatusConflict, "org-not-accredited")
			usable(t, e, "a member of another org", tok(k), kc.ID)

			until := time.Now().Add(90 * 24 * time.Hour)
			accredit("renew", "laporan diterima lengkap", &until)
			again := claimTask(t, e, tok(ms[0]), two.ID)
			usable(t, e, "a member after the renewal", tok(ms[0]), again.ID)
		})

		t.Run("revoked", func(t *testing.T) {
			tk := createTask(t, e, tok(coord), taskBody(o.ID, 2))
			c := claimTask(t, e, tok(ms[1]), tk.ID)
			accredit("revoke", "pelanggaran berat kode etik pemantau", nil)
			wantEnded(t, e, ms[1], c, o.ID, api.ClaimEndOrgRevoked, 0)
			assertSlots(t, e, tok(coord), tk.ID, 0)
			refusedUses(t, e, "member of a revoked org", tok(ms[1]), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			check(t, "claim after revocation", call(t, e, tok(ms[2]), "POST", taskPath(tk.ID, "/claims"), nil), http.StatusConflict, "org-not-accredited")
		})
	})
}

// The lapse of accreditation: before the janitor announces it, the claims
// are still active but cannot be used; the announcement ends them.
func TestClaimsEndWithLapse(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		coord, o := taskOrg(t, e, admin, "")
		coordK, keep := taskOrg(t, e, admin, "")
		m := taskMembers(t, e, coord, o, 1, "")[0]
		k := taskMembers(t, e, coordK, keep, 1, "")[0]
		tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
		c := claimTask(t, e, tok(m), tk.ID)
		kc := claimTask(t, e, tok(k), createTask(t, e, tok(coordK), taskBody(keep.ID, 1)).ID)

		exec(t, e, "UPDATE orgs SET accredited_until = ? WHERE id = ?", time.Now().Add(-time.Hour).UTC(), o.ID)
		// The app's janitor may announce the lapse at its minute tick; the
		// claim then answers claim-not-active, which is as good. When it
		// announced during the three calls, each may answer either.
		announced := func() bool {
			return count(t, e, "audit_log", "action = 'org.accreditation.expire' AND target_id = ?", o.ID) == 1
		}
		before := announced()
		extend, complete, report := claimUses(t, e, tok(m), c.ID)
		after := announced()
		for _, u := range []struct {
			what string
			r    apptest.Response
		}{{"extend", extend}, {"complete", complete}, {"report", report}} {
			want := "org-not-accredited"
			if before || (after && u.r.Problem(t).Type == api.ProblemTypePrefix+"claim-not-active") {
				want = "claim-not-active"
			}
			check(t, u.what+" after the lapse", u.r, http.StatusConflict, want)
		}

		if _, err := e.App.Orgs.AnnounceLapses(ctx); err != nil {
			t.Fatal(err)
		}
		wantEnded(t, e, m, c, o.ID, api.ClaimEndOrgExpired, 0)
		assertSlots(t, e, tok(coord), tk.ID, 0)
		refusedUses(t, e, "member of a lapsed org", tok(m), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
		usable(t, e, "a member of another org", tok(k), kc.ID)
	})
}

// ---- the account ----------------------------------------------------------------------

// setStatus is an admin's PATCH of an account's status.
func setStatus(t testing.TB, e *apptest.Env, admin api.AuthResponse, userID, status string) {
	t.Helper()
	must(t, "set the account "+status, call(t, e, tok(admin), "PATCH", "/v1/admin/users/"+userID, map[string]any{"status": status}), http.StatusOK, "")
}

// An account an admin suspends or deletes gives back every claim it holds,
// on its orgs' tasks and the national pool, in the same transaction: the
// slots go to others at once. Its memberships stay; reactivated, it claims
// again but its old claims stay ended. Other volunteers keep theirs.
func TestClaimsEndWithAccount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord, o := taskOrg(t, e, admin, "")
		ms := taskMembers(t, e, coord, o, 4, "")
		national := region.Stream("")

		for i, status := range []string{api.UserSuspended, api.UserDeleted} {
			t.Run(status, func(t *testing.T) {
				m, next := ms[2*i], ms[2*i+1]
				reason := map[string]string{api.UserSuspended: api.ClaimEndSuspended, api.UserDeleted: api.ClaimEndDeleted}[status]
				tk := createTask(t, e, tok(coord), taskBody(o.ID, 1))
				nt := createTask(t, e, tok(officer), taskBody("", 1))
				c, cn := claimTask(t, e, tok(m), tk.ID), claimTask(t, e, tok(m), nt.ID)
				kept := claimTask(t, e, tok(next), createTask(t, e, tok(coord), taskBody(o.ID, 1)).ID)

				setStatus(t, e, admin, m.User.ID, status)
				wantEndedAs(t, e, tok(coord), m, c, "org:"+o.ID, reason, 0)
				wantEndedAs(t, e, tok(officer), m, cn, national, reason, 0)
				assertSlots(t, e, tok(coord), tk.ID, 0)
				assertSlots(t, e, tok(officer), nt.ID, 0)
				if n := count(t, e, "claims", "user_id = ? AND status = 'active'", m.User.ID); n != 0 {
					t.Errorf("%d claims of the %s account still active", n, status)
				}
				// The slots are free for others; the other member's claim stays.
				usable(t, e, "the next member, on the org's task", tok(next), claimTask(t, e, tok(next), tk.ID).ID)
				usable(t, e, "the next member, on the national pool", tok(next), claimTask(t, e, tok(next), nt.ID).ID)
				usable(t, e, "a member's own claim", tok(next), kept.ID)

				// Back to active: a member still, with the old claims ended.
				setStatus(t, e, admin, m.User.ID, api.UserActive)
				if got := getClaim(t, e, tok(coord), c.ID); got.Status != api.ClaimReleased {
					t.Errorf("reactivated: the old claim is %s, want released", got.Status)
				}
				if n := count(t, e, "memberships", "org_id = ? AND user_id = ? AND status = 'active'", o.ID, m.User.ID); n != 1 {
					t.Errorf("reactivated: %d active memberships, want 1", n)
				}
			})
		}

		t.Run("suspended again", func(t *testing.T) {
			// Suspended, then deleted: the second change ends nothing more
			// and tells nothing twice.
			m := ms[0]
			login := func() api.AuthResponse {
				r := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": m.User.Email, "password": apptest.Password})
				must(t, "login", r, http.StatusOK, "")
				var a api.AuthResponse
				r.Decode(t, &a)
				return a
			}
			a := login()
			c := claimTask(t, e, tok(a), createTask(t, e, tok(coord), taskBody(o.ID, 1)).ID)
			setStatus(t, e, admin, m.User.ID, api.UserSuspended)
			setStatus(t, e, admin, m.User.ID, api.UserDeleted)
			wantEndedAs(t, e, tok(coord), a, c, "org:"+o.ID, api.ClaimEndSuspended, 0)
		})
	})
}

// Claims a volunteer makes while an admin suspends or erases their account
// never outlive it: each either commits first and is ended by it, or is
// refused after it (401; 404 for an org's task once an erasure ended the
// membership), on an org's tasks and the national pool alike. On
// PostgreSQL neither waits for the other in a deadlock (500).
func TestClaimsEndWithAccountRace(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		officer := e.User(t, "officer", "pusat", "")
		coord, o := taskOrg(t, e, admin, "")
		const rounds = 8
		ms := taskMembers(t, e, coord, o, 2*rounds, "")
		tasks := []api.Task{
			createTask(t, e, tok(coord), taskBody(o.ID, 1000)),
			createTask(t, e, tok(officer), taskBody("", 1000)),
			createTask(t, e, tok(coord), taskBody(o.ID, 1000)),
		}
		for i, end := range []string{"suspend", "erase"} {
			ended, refused := 0, 0
			for _, m := range ms[i*rounds : (i+1)*rounds] {
				rs := race(t, len(tasks)+1, func(i int) (string, string, string, string, any) {
					switch {
					case i < len(tasks):
						return e.URL, tok(m), "POST", taskPath(tasks[i].ID, "/claims"), nil
					case end == "suspend":
						return e.URL, tok(admin), "PATCH", "/v1/admin/users/" + m.User.ID, map[string]any{"status": api.UserSuspended}
					}
					return e.URL, tok(admin), "POST", "/v1/admin/users/" + m.User.ID + "/erasure", map[string]any{"reason": "permintaan subjek data"}
				})
				if rs[len(tasks)].Status != http.StatusOK {
					t.Fatalf("%s: got %v", end, rs[len(tasks)])
				}
				for _, r := range rs[:len(tasks)] {
					switch r.String() {
					case "201":
						ended++
					case "401 invalid-token", "404 not-found":
						refused++
					default:
						t.Errorf("a claim during the %s: got %v", end, r)
					}
				}
				if n := count(t, e, "claims", "user_id = ? AND status = 'active'", m.User.ID); n != 0 {
					t.Errorf("%s, member %s: %d active claims outlived it", end, m.User.ID, n)
				}
			}
			t.Logf("%s: %d claims ended by it, %d refused after it", end, ended, refused)
		}
		for _, tk := range tasks {
			assertSlots(t, e, tok(officer), tk.ID, 0)
		}
	})
}

// ---- two instances ------------------------------------------------------------------

// A member removed through one instance: another instance's REST shows the
// claim ended and the slot free, and its feeds tell the coordinator
// (task.updated) and the member (claim.ended).
func TestClaimEndAcrossInstances(t *testing.T) {
	for _, bk := range dbtest.Backends(t) {
		t.Run(string(bk), func(t *testing.T) {
			a, b := apptest.Two(t, bk)
			admin := a.User(t, "admin", "root", "")
			coord, o := taskOrg(t, a, admin, "")
			ms := taskMembers(t, a, coord, o, 2, "")
			m, stay := ms[0], ms[1]
			tk := createTask(t, a, tok(coord), taskBody(o.ID, 1))
			c := claimTask(t, b, tok(m), tk.ID)

			coordFeed := openFeed(t, b, tok(coord), nil)
			memberFeed := openFeed(t, b, tok(m), nil)
			must(t, "remove through A", call(t, a, tok(coord), "DELETE", memberPath(o, m.User.ID, ""), nil), http.StatusNoContent, "")

			f, _ := coordFeed.await("task.updated", "id", tk.ID)
			var seen api.Task
			if err := json.Unmarshal(f.Data, &seen); err != nil || seen.SlotsTaken != 0 {
				t.Errorf("B's feed: task.updated %s, want slots_taken 0", f.Data)
			}
			f, _ = memberFeed.await("claim.ended", "claim_id", c.ID)
			if f.field("reason") != api.ClaimEndMembership || f.field("task_id") != tk.ID {
				t.Errorf("B's feed: claim.ended %s, want reason %s on task %s", f.Data, api.ClaimEndMembership, tk.ID)
			}

			got := getClaim(t, b, tok(m), c.ID)
			if got.Status != api.ClaimReleased || got.EndReason == nil || *got.EndReason != api.ClaimEndMembership {
				t.Errorf("B's GET claim: %+v, want released for %s", got, api.ClaimEndMembership)
			}
			if got := getTask(t, b, tok(coord), tk.ID); got.SlotsTaken != 0 {
				t.Errorf("B's GET task: slots_taken %d, want 0", got.SlotsTaken)
			}
			refusedUses(t, b, "removed member through B", tok(m), c.ID, http.StatusConflict, "claim-not-active", http.StatusConflict, "claim-not-active")
			s := claimTask(t, b, tok(stay), tk.ID)
			usable(t, b, "a member who stays, through B", tok(stay), s.ID)
		})
	}
}
