package push_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// Subscriptions refuse what no browser sends and what would aim the server
// elsewhere; an account holds at most 10 devices and sees and deletes only
// its own; the legitimate calls work.
func TestSubscriptionRules(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		ani := w.User(t, "volunteer", "ani", "31")
		budi := w.User(t, "volunteer", "budi", "31")
		tok := apptest.Bearer(ani.Tokens.AccessToken)
		dev := w.ps.NewDevice(t)
		good := func() map[string]any {
			return map[string]any{"endpoint": dev.Endpoint, "keys": map[string]any{"p256dh": dev.P256dh(), "auth": dev.Auth()}}
		}
		with := func(key string, v any) map[string]any {
			b := good()
			if k, ok := strings.CutPrefix(key, "keys."); ok {
				b["keys"].(map[string]any)[k] = v
			} else {
				b[key] = v
			}
			return b
		}
		for _, c := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"malformed JSON", `{"endpoint": "https://x",`, 400, ""},
			{"unknown field", with("expirationTime", nil), 400, ""},
			{"key not a string", with("keys.auth", 16), 400, ""},
			{"short p256dh", with("keys.p256dh", base64.RawURLEncoding.EncodeToString(make([]byte, 64))), 422, "keys.p256dh"},
			{"p256dh off the curve", with("keys.p256dh", base64.RawURLEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...))), 422, "keys.p256dh"},
			{"long auth", with("keys.auth", base64.RawURLEncoding.EncodeToString(make([]byte, 17))), 422, "keys.auth"},
			{"auth not base64url", with("keys.auth", "!!!!!!!!!!!!!!!!!!!!!!"), 422, "keys.auth"},
			{"http endpoint", with("endpoint", strings.Replace(dev.Endpoint, "https:", "http:", 1)), 422, "endpoint"},
			{"host not allowed", with("endpoint", "https://169.254.169.254/latest/meta-data"), 422, "endpoint"},
			{"allowed host under another port", with("endpoint", "https://"+strings.Split(w.ps.Host(), ":")[0]+":1/push/x"), 422, "endpoint"},
			{"relative endpoint", with("endpoint", "/push/x"), 422, "endpoint"},
			{"unknown event", with("events", []string{"report.submitted"}), 422, "events"},
		} {
			r := w.Do(t, "POST", "/v1/push/subscriptions", c.body, tok...)
			if r.Status != c.status {
				t.Errorf("%s: got %d %s, want %d", c.name, r.Status, r.Body, c.status)
				continue
			}
			if c.field != "" {
				p := r.Problem(t)
				if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
					t.Errorf("%s: got errors %+v, want field %s", c.name, p.Errors, c.field)
				}
			}
		}
		if n := w.Count(t, "push_subscriptions"); n != 0 {
			t.Fatalf("refused subscriptions left %d rows", n)
		}
		if r := w.Do(t, "POST", "/v1/push/subscriptions", good()); r.Status != http.StatusUnauthorized {
			t.Fatalf("without a token: got %d, want 401", r.Status)
		}

		// The legitimate path: 201, then the same endpoint again is an update.
		first := subscribe(t, w.Env, ani.Tokens.AccessToken, dev)
		if len(first.Events) != 2 {
			t.Fatalf("got events %v, want both by default", first.Events)
		}
		r := w.Do(t, "POST", "/v1/push/subscriptions", with("events", []string{api.PushAssignments}), tok...)
		var again api.PushSubscription
		r.Decode(t, &again)
		if r.Status != http.StatusOK || again.ID != first.ID || len(again.Events) != 1 || again.Events[0] != api.PushAssignments {
			t.Fatalf("resubscribe: got %d %+v, want 200, the same id, assignments only", r.Status, again)
		}
		for range 9 {
			subscribe(t, w.Env, ani.Tokens.AccessToken, w.ps.NewDevice(t))
		}
		eleventh := w.ps.NewDevice(t)
		r = w.Do(t, "POST", "/v1/push/subscriptions", map[string]any{"endpoint": eleventh.Endpoint,
			"keys": map[string]string{"p256dh": eleventh.P256dh(), "auth": eleventh.Auth()}}, tok...)
		if r.Status != http.StatusConflict || r.Problem(t).Type != "/v1/problems/push-device-limit" {
			t.Fatalf("11th device: got %d %s, want 409 push-device-limit", r.Status, r.Body)
		}
		var list api.Page[api.PushSubscription]
		w.Do(t, "GET", "/v1/push/subscriptions", nil, tok...).Decode(t, &list)
		if len(list.Items) != 10 {
			t.Fatalf("got %d devices listed, want 10", len(list.Items))
		}

		// Someone else's device is not there for budi; his own is.
		bt := apptest.Bearer(budi.Tokens.AccessToken)
		if r := w.Do(t, "DELETE", "/v1/push/subscriptions/"+first.ID, nil, bt...); r.Status != http.StatusNotFound {
			t.Fatalf("deleting another's device: got %d, want 404", r.Status)
		}
		w.Do(t, "GET", "/v1/push/subscriptions", nil, bt...).Decode(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("budi lists %d devices, want none (ani's are hers)", len(list.Items))
		}
		if r := w.Do(t, "DELETE", "/v1/push/subscriptions/"+first.ID, nil, tok...); r.Status != http.StatusNoContent {
			t.Fatalf("deleting her own device: got %d, want 204", r.Status)
		}
		if r := w.Do(t, "DELETE", "/v1/push/subscriptions/"+first.ID, nil, tok...); r.Status != http.StatusNotFound {
			t.Fatalf("deleting it twice: got %d, want 404", r.Status)
		}

		// The key browsers subscribe with.
		var key api.PushKey
		w.Do(t, "GET", "/v1/push/key", nil).Decode(t, &key)
		if key.PublicKey != w.App.VAPID.PublicKey() || len(key.PublicKey) != 87 {
			t.Fatalf("got key %q, want the VAPID public key (87 base64url characters)", key.PublicKey)
		}
	})
}

// A deleted account's devices are deleted with it; a suspended account's
// devices get nothing while it is suspended.
func TestAccountStatusStopsPushes(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		admin := w.User(t, "admin", "admin", "")
		officer := w.User(t, "officer", "petugas", "")
		ani := w.User(t, "volunteer", "ani", "31")
		budi := w.User(t, "volunteer", "budi", "31")
		citra := w.User(t, "volunteer", "citra", "31")
		subscribe(t, w.Env, ani.Tokens.AccessToken, w.ps.NewDevice(t))
		budiDev := w.ps.NewDevice(t)
		subscribe(t, w.Env, budi.Tokens.AccessToken, budiDev)
		citraDev := w.ps.NewDevice(t)
		subscribe(t, w.Env, citra.Tokens.AccessToken, citraDev)
		at := apptest.Bearer(admin.Tokens.AccessToken)
		if r := w.Do(t, "PATCH", "/v1/admin/users/"+ani.User.ID, map[string]string{"status": "deleted"}, at...); r.Status != http.StatusOK {
			t.Fatalf("delete account: got %d %s", r.Status, r.Body)
		}
		n, err := w.App.DB.NewSelect().Table("push_subscriptions").Where("user_id = ?", ani.User.ID).Count(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("a deleted account keeps %d devices (%v), want 0", n, err)
		}
		if r := w.Do(t, "PATCH", "/v1/admin/users/"+budi.User.ID, map[string]string{"status": "suspended"}, at...); r.Status != http.StatusOK {
			t.Fatalf("suspend: got %d %s", r.Status, r.Body)
		}
		createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Peringatan", "body": "Isi.", "severity": "warning"})
		idle(t, w.Env)
		if got := byDevice(w.ps.Messages()); len(got) != 1 || got[citraDev.ID] != 1 {
			t.Fatalf("got pushes %v, want only the active account's device", got)
		}
	})
}

// Two accounts registering the same browser at the same moment (a phone
// passed from one volunteer to the next) both succeed: the later one has
// the device, and the endpoint's unique index never answers 500.
func TestSameDeviceSubscribedAtOnce(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		for round := range 10 {
			ani := w.User(t, "volunteer", fmt.Sprintf("ani-%d", round), "31")
			budi := w.User(t, "volunteer", fmt.Sprintf("budi-%d", round), "31")
			dev := w.ps.NewDevice(t)
			body := map[string]any{"endpoint": dev.Endpoint, "keys": map[string]string{"p256dh": dev.P256dh(), "auth": dev.Auth()}}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, u := range []api.AuthResponse{ani, budi} {
				wg.Go(func() {
					statuses[i] = w.Do(t, "POST", "/v1/push/subscriptions", body, apptest.Bearer(u.Tokens.AccessToken)...).Status
				})
			}
			wg.Wait()
			for i, st := range statuses {
				if st != http.StatusCreated {
					t.Fatalf("round %d: subscriber %d got %d, want 201", round, i, st)
				}
			}
			var n int
			if err := w.App.DB.NewSelect().Table("push_subscriptions").ColumnExpr("count(*)").Where("endpoint = ?", dev.Endpoint).Scan(context.Background(), &n); err != nil || n != 1 {
				t.Fatalf("round %d: %d rows for the endpoint (%v), want 1", round, n, err)
			}
		}
	})
}
