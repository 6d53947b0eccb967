package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/notice"
)

func patchMe(t testing.TB, e *apptest.Env, token string, body any) apptest.Response {
	t.Helper()
	return call(t, e, token, "PATCH", "/v1/me", body)
}

// The owner changes their name and language; a volunteer's region change is
// audited and reaches their open feed connection at once: the old region's
// streams leave it, the new region's join, and an alert to the new region
// arrives on it. Staff cannot move themselves.
func TestUpdateMe(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Wulan")
		r := patchMe(t, e, tok(v), map[string]any{"region_code": "3171"})
		must(t, "set region", r, http.StatusOK, "")
		feed := openFeed(t, e, tok(v), nil)
		if _, ok := feed.streams()["region:3171"]; !ok {
			t.Fatalf("welcome streams %v lack region:3171", feed.streams())
		}

		r = patchMe(t, e, tok(v), map[string]any{"name": "  Wulan Sari  ", "language": "en", "region_code": "3273"})
		must(t, "update", r, http.StatusOK, "")
		var u api.User
		r.Decode(t, &u)
		if u.Name != "Wulan Sari" || u.Language != "en" || u.RegionCode == nil || *u.RegionCode != "3273" {
			t.Fatalf("got %+v", u)
		}
		ev, _ := feed.await(api.EventAccountUpdated, "region_code", "3273")
		if got := string(ev.Data); !contains(got, `"region:32"`) || !contains(got, `"region:3273"`) || !contains(got, `"remove":["region:31","region:3171"]`) {
			t.Errorf("account.updated %s: want region:32 and region:3273 added, region:31 and region:3171 removed", got)
		}
		officer := e.User(t, api.RoleOfficer, "Petugas", "32")
		a := createAlert(t, e, tok(officer), alertBody("3273"))
		feed.await("alert.published", "id", a.ID)
		if n := count(t, e, "audit_log", "action = 'user.region_change' AND target_id = ?", v.User.ID); n != 2 {
			t.Errorf("got %d user.region_change audit rows, want 2", n)
		}
		m := me(t, e, tok(v))
		if m.User.Name != "Wulan Sari" || m.User.Language != "en" {
			t.Errorf("GET /v1/me: %+v", m.User)
		}

		// Name or language alone is not audited, and announces nothing.
		must(t, "rename", patchMe(t, e, tok(v), map[string]any{"name": "Wulan"}), http.StatusOK, "")
		if n := count(t, e, "audit_log", "action = 'user.region_change' AND target_id = ?", v.User.ID); n != 2 {
			t.Errorf("a rename was audited as a region change")
		}
		must(t, "officer moves", patchMe(t, e, tok(officer), map[string]any{"region_code": ""}), http.StatusForbidden, "region-by-admin")
		must(t, "officer renames", patchMe(t, e, tok(officer), map[string]any{"name": "Petugas Baru"}), http.StatusOK, "")
		for _, c := range []struct {
			name string
			body any
			code int
			typ  string
		}{
			{"empty", map[string]any{}, 422, "validation"},
			{"bad language", map[string]any{"language": "jv"}, 422, "validation"},
			{"bad region", map[string]any{"region_code": "3170"}, 422, "validation"},
			{"empty name", map[string]any{"name": " "}, 422, "validation"},
			{"unknown field", map[string]any{"email": "x@example.org"}, 400, "malformed"},
			{"role", map[string]any{"role": "admin"}, 400, "malformed"},
		} {
			must(t, c.name, patchMe(t, e, tok(v), c.body), c.code, c.typ)
		}
		must(t, "anonymous", patchMe(t, e, "", map[string]any{"name": "X"}), http.StatusUnauthorized, "unauthenticated")
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func login(t testing.TB, e *apptest.Env, email, password, device string) apptest.Response {
	t.Helper()
	return call(t, e, "", "POST", "/v1/auth/login", map[string]any{"email": email, "password": password, "device_token": device})
}

func refresh(t testing.TB, e *apptest.Env, token string) apptest.Response {
	t.Helper()
	return call(t, e, "", "POST", "/v1/auth/refresh", map[string]any{"refresh_token": token})
}

// A password change needs the current password (throttled like logins), ends
// every other session and trusted device, and gives the caller a new
// session.
func TestChangePassword(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Dimas")
		other := login(t, e, v.User.Email, apptest.Password, "")
		must(t, "second login", other, http.StatusOK, "")
		var second api.AuthResponse
		other.Decode(t, &second)
		bystander := volunteer(t, e, "Rina")

		pw := func(cur, next string) apptest.Response {
			return call(t, e, tok(v), "POST", "/v1/me/password", map[string]any{"current_password": cur, "new_password": next})
		}
		must(t, "wrong current", pw("bukan-kata-sandi-ini", "kata-sandi-baru-2029"), http.StatusForbidden, "wrong-password")
		must(t, "weak new", pw(apptest.Password, "1234567890"), http.StatusUnprocessableEntity, "validation")
		must(t, "same", pw(apptest.Password, apptest.Password), http.StatusUnprocessableEntity, "validation")
		must(t, "missing", call(t, e, tok(v), "POST", "/v1/me/password", map[string]any{"new_password": "kata-sandi-baru-2029"}), http.StatusUnprocessableEntity, "validation")

		r := pw(apptest.Password, "kata-sandi-baru-2029")
		must(t, "change", r, http.StatusOK, "")
		var s api.SessionResponse
		r.Decode(t, &s)
		if s.Tokens.RefreshToken == "" || s.DeviceToken == "" {
			t.Fatalf("no new session: %s", r.Body)
		}
		must(t, "old session refresh", refresh(t, e, v.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		must(t, "other session refresh", refresh(t, e, second.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		must(t, "new session refresh", refresh(t, e, s.Tokens.RefreshToken), http.StatusOK, "")
		if n := count(t, e, "device_tokens", "user_id = ?", v.User.ID); n != 1 {
			t.Errorf("got %d device tokens, want only the new one", n)
		}
		must(t, "old password", login(t, e, v.User.Email, apptest.Password, ""), http.StatusUnauthorized, "invalid-credentials")
		must(t, "new password", login(t, e, v.User.Email, "kata-sandi-baru-2029", s.DeviceToken), http.StatusOK, "")
		must(t, "bystander untouched", refresh(t, e, bystander.Tokens.RefreshToken), http.StatusOK, "")
		if n := count(t, e, "audit_log", "action = 'user.password_change' AND target_id = ?", v.User.ID); n != 1 {
			t.Errorf("got %d user.password_change audit rows, want 1", n)
		}

		// Guessing the current password with a stolen access token is
		// throttled as logins are (10 per account and address).
		thief := volunteer(t, e, "Korban")
		var last apptest.Response
		for i := 0; i < 12; i++ {
			last = call(t, e, tok(thief), "POST", "/v1/me/password", map[string]any{"current_password": "tebakan-ke-" + string(rune('a'+i)), "new_password": "kata-sandi-baru-2029"})
		}
		must(t, "guessing", last, http.StatusTooManyRequests, "rate-limited")
		if last.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})
}

// The caller lists their sessions and devices and ends one; another
// account's are out of reach.
func TestSessionsAndDevices(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Bayu")
		r := login(t, e, v.User.Email, apptest.Password, "")
		must(t, "login", r, http.StatusOK, "")
		var second api.AuthResponse
		r.Decode(t, &second)
		stranger := volunteer(t, e, "Asing")

		var s api.Sessions
		r = call(t, e, tok(v), "GET", "/v1/me/sessions", nil)
		must(t, "list", r, http.StatusOK, "")
		r.Decode(t, &s)
		if len(s.Sessions) != 2 || len(s.Devices) != 2 {
			t.Fatalf("got %d sessions and %d devices, want 2 and 2: %s", len(s.Sessions), len(s.Devices), r.Body)
		}
		newest := s.Sessions[0]
		must(t, "stranger ends it", call(t, e, tok(stranger), "DELETE", "/v1/me/sessions/"+newest.ID, nil), http.StatusNotFound, "not-found")
		must(t, "stranger forgets device", call(t, e, tok(stranger), "DELETE", "/v1/me/devices/"+s.Devices[0].ID, nil), http.StatusNotFound, "not-found")
		must(t, "end newest", call(t, e, tok(v), "DELETE", "/v1/me/sessions/"+newest.ID, nil), http.StatusNoContent, "")
		must(t, "ended session", refresh(t, e, second.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		must(t, "first session", refresh(t, e, v.Tokens.RefreshToken), http.StatusOK, "")
		must(t, "end again", call(t, e, tok(v), "DELETE", "/v1/me/sessions/"+newest.ID, nil), http.StatusNotFound, "not-found")
		must(t, "forget device", call(t, e, tok(v), "DELETE", "/v1/me/devices/"+s.Devices[1].ID, nil), http.StatusNoContent, "")
		r = call(t, e, tok(v), "GET", "/v1/me/sessions", nil)
		r.Decode(t, &s)
		if len(s.Sessions) != 1 || len(s.Devices) != 1 {
			t.Fatalf("after: %s", r.Body)
		}
	})
}

// Signing up needs consent to the notice in force; a staff account made by
// an admin has consent due at its first sign-in: its writes wait for
// consent, but reads, alerts and the feed do not.
func TestConsentOfStaffAccount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		var n api.PrivacyNotice
		r := call(t, e, "", "GET", "/v1/privacy", nil)
		must(t, "notice", r, http.StatusOK, "")
		r.Decode(t, &n)
		if n.Version != notice.Version || len(n.Languages["id"].Sections) == 0 || len(n.Languages["en"].Sections) == 0 {
			t.Fatalf("notice: %s", r.Body)
		}
		signup := map[string]any{"email": "setuju@example.org", "password": apptest.Password, "name": "Setuju"}
		must(t, "signup without consent", call(t, e, "", "POST", "/v1/auth/signup", signup), http.StatusUnprocessableEntity, "validation")
		signup["privacy_version"] = "2001-01-01"
		must(t, "signup with a stale version", call(t, e, "", "POST", "/v1/auth/signup", signup), http.StatusUnprocessableEntity, "validation")
		if c := count(t, e, "users", "email = 'setuju@example.org'"); c != 0 {
			t.Fatal("a refused signup left an account")
		}
		signup["privacy_version"] = n.Version
		r = call(t, e, "", "POST", "/v1/auth/signup", signup)
		must(t, "signup", r, http.StatusCreated, "")
		var vol api.AuthResponse
		r.Decode(t, &vol)
		if vol.ConsentDue || vol.User.PrivacyVersion == nil || *vol.User.PrivacyVersion != n.Version {
			t.Fatalf("signup answer: %s", r.Body)
		}
		if c := count(t, e, "consents", "user_id = ? AND version = ?", vol.User.ID, n.Version); c != 1 {
			t.Fatalf("got %d consent rows, want 1", c)
		}

		admin := e.User(t, api.RoleAdmin, "Admin", "")
		must(t, "create officer", call(t, e, tok(admin), "POST", "/v1/admin/users",
			map[string]any{"email": "petugas.baru@bawaslu.example", "password": apptest.Password, "name": "Petugas Baru", "role": "officer"}), http.StatusCreated, "")
		r = login(t, e, "petugas.baru@bawaslu.example", apptest.Password, "")
		must(t, "officer login", r, http.StatusOK, "")
		var off api.AuthResponse
		r.Decode(t, &off)
		if !off.ConsentDue || off.User.PrivacyVersion != nil {
			t.Fatalf("first login of a staff account: %s", r.Body)
		}
		feed := openFeed(t, e, tok(off), nil)
		must(t, "write before consent", call(t, e, tok(off), "POST", "/v1/orgs", orgBody("", "")), http.StatusForbidden, "consent-required")
		must(t, "read before consent", call(t, e, tok(off), "GET", "/v1/reports", nil), http.StatusOK, "")
		a := createAlert(t, e, tok(off), alertBody(""))
		feed.await("alert.published", "id", a.ID)
		if m := me(t, e, tok(off)); !m.ConsentDue {
			t.Error("GET /v1/me: consent_due false before consent")
		}
		must(t, "stale consent", call(t, e, tok(off), "POST", "/v1/me/consent", map[string]any{"version": "2001-01-01"}), http.StatusUnprocessableEntity, "validation")
		r = call(t, e, tok(off), "POST", "/v1/me/consent", map[string]any{"version": n.Version})
		must(t, "consent", r, http.StatusOK, "")
		var u api.User
		r.Decode(t, &u)
		if u.PrivacyVersion == nil || *u.PrivacyVersion != n.Version {
			t.Fatalf("after consent: %s", r.Body)
		}
		must(t, "write after consent", call(t, e, tok(off), "POST", "/v1/orgs", orgBody("", "")), http.StatusCreated, "")
		must(t, "consent again", call(t, e, tok(off), "POST", "/v1/me/consent", map[string]any{"version": n.Version}), http.StatusOK, "")
		if c := count(t, e, "consents", "user_id = ?", off.User.ID); c != 1 {
			t.Errorf("got %d consent rows, want 1 (consenting again to one version records nothing)", c)
		}
		a = createAlert(t, e, tok(off), alertBody(""))
		feed.await("alert.published", "id", a.ID)
	})
}

// A new version of the notice (a release rolled out to a second instance)
// makes consent due at the next login; giving it records the new version,
// and the feed works throughout.
func TestConsentAfterNewNotice(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			next := notice.WithVersion("2027-06-01")
			withNext := func(o *app.Options) { o.Notice = &next }
			oldApp, newApp := apptest.TwoOf(t, b, nil, []apptest.Option{withNext})
			v := volunteer(t, oldApp, "Lama")
			officer := newApp.User(t, api.RoleOfficer, "Petugas", "")
			feed := openFeed(t, newApp, tok(v), nil)

			r := login(t, newApp, v.User.Email, apptest.Password, v.DeviceToken)
			must(t, "login after the new notice", r, http.StatusOK, "")
			var again api.AuthResponse
			r.Decode(t, &again)
			if !again.ConsentDue || again.User.PrivacyVersion == nil || *again.User.PrivacyVersion != notice.Version {
				t.Fatalf("login answer: %s", r.Body)
			}
			if m := me(t, newApp, tok(again)); !m.ConsentDue {
				t.Error("GET /v1/me: consent_due false")
			}
			o := createOrg(t, newApp, tok(officer), "", "")
			must(t, "join before consent", join(t, newApp, tok(again), o, ""), http.StatusForbidden, "consent-required")
			a := createAlert(t, newApp, tok(officer), alertBody(""))
			feed.await("alert.published", "id", a.ID)
			must(t, "feed acks still count", call(t, newApp, tok(again), "GET", "/v1/alerts/"+a.ID, nil), http.StatusOK, "")

			must(t, "consent to the old version", call(t, newApp, tok(again), "POST", "/v1/me/consent", map[string]any{"version": notice.Version}), http.StatusUnprocessableEntity, "validation")
			r = call(t, newApp, tok(again), "POST", "/v1/me/consent", map[string]any{"version": next.Version})
			must(t, "consent", r, http.StatusOK, "")
			var u api.User
			r.Decode(t, &u)
			if u.PrivacyVersion == nil || *u.PrivacyVersion != next.Version {
				t.Fatalf("after consent: %s", r.Body)
			}
			var versions []string
			if err := newApp.App.DB.NewSelect().Table("consents").Column("version").Where("user_id = ?", v.User.ID).OrderExpr("at").Scan(context.Background(), &versions); err != nil {
				t.Fatal(err)
			}
			if len(versions) != 2 || versions[0] != notice.Version || versions[1] != next.Version {
				t.Errorf("consents %v, want [%s %s]", versions, notice.Version, next.Version)
			}
			must(t, "join after consent", join(t, newApp, tok(again), o, ""), http.StatusCreated, "")
			a = createAlert(t, newApp, tok(officer), alertBody(""))
			feed.await("alert.published", "id", a.ID)
		})
	}
}

// Someone who has not consented to a new notice can still step back:
// remove their push devices and leave an organisation (their own
// membership only); other writes, removing another member among them,
// wait for consent.
func TestConsentDueMayStepBack(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			next := notice.WithVersion("2027-06-01")
			oldApp, newApp := apptest.TwoOf(t, b, nil, []apptest.Option{func(o *app.Options) { o.Notice = &next }})
			admin := oldApp.User(t, api.RoleAdmin, "Admin", "")
			coord, o := taskOrg(t, oldApp, admin, "31")
			v, w := volunteer(t, oldApp, "Menolak"), volunteer(t, oldApp, "Lain")
			addMember(t, oldApp, tok(coord), o, v)
			addMember(t, oldApp, tok(coord), o, w)
			dev := subscribeDevice(t, oldApp, tok(v))

			must(t, "subscribe before consent", call(t, newApp, tok(v), "POST", "/v1/push/subscriptions", map[string]any{}), http.StatusForbidden, "consent-required")
			must(t, "remove another before consent", call(t, newApp, tok(coord), "DELETE", memberPath(o, w.User.ID, ""), nil), http.StatusForbidden, "consent-required")
			must(t, "remove own device", call(t, newApp, tok(v), "DELETE", "/v1/push/subscriptions/"+dev.ID, nil), http.StatusNoContent, "")
			must(t, "leave", call(t, newApp, tok(v), "DELETE", memberPath(o, v.User.ID, ""), nil), http.StatusNoContent, "")
			if n := count(t, newApp, "push_subscriptions", "user_id = ?", v.User.ID); n != 0 {
				t.Errorf("%d devices left", n)
			}
			if n := count(t, newApp, "memberships", "user_id = ? AND status = 'active'", v.User.ID); n != 0 {
				t.Errorf("still an active member")
			}
			if n := count(t, newApp, "memberships", "user_id = ? AND status = 'active'", w.User.ID); n != 1 {
				t.Errorf("the other member was removed before consent")
			}
		})
	}
}

// A session that ran out (never revoked) is ended already: GET
// /v1/me/sessions hides it and ending it is a 404, as for one ended by
// hand.
func TestExpiredSessionEnded(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Kedaluwarsa")
		must(t, "second login", login(t, e, v.User.Email, apptest.Password, ""), http.StatusOK, "")
		var s api.Sessions
		call(t, e, tok(v), "GET", "/v1/me/sessions", nil).Decode(t, &s)
		if len(s.Sessions) != 2 {
			t.Fatalf("got %d sessions, want 2", len(s.Sessions))
		}
		old := s.Sessions[0]
		if _, err := e.App.DB.NewRaw("UPDATE refresh_tokens SET expires_at = ? WHERE family_id = ?", time.Now().Add(-time.Hour), old.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		call(t, e, tok(v), "GET", "/v1/me/sessions", nil).Decode(t, &s)
		if len(s.Sessions) != 1 || s.Sessions[0].ID == old.ID {
			t.Fatalf("after it ran out: %+v", s.Sessions)
		}
		must(t, "end the run-out session", call(t, e, tok(v), "DELETE", "/v1/me/sessions/"+old.ID, nil), http.StatusNotFound, "not-found")
		if n := count(t, e, "refresh_tokens", "family_id = ? AND revoked_at IS NOT NULL", old.ID); n != 0 {
			t.Errorf("%d tokens of the run-out session marked revoked", n)
		}
		must(t, "end the live one", call(t, e, tok(v), "DELETE", "/v1/me/sessions/"+s.Sessions[0].ID, nil), http.StatusNoContent, "")
	})
}
