package push_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// An alert reaches, encrypted and signed, exactly the devices of the
// volunteers of its region that want alerts; its retraction replaces it
// (same Topic); the reach counts the pushes accepted and the devices that
// showed it.
func TestAlertPushedToRegionDevices(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer := w.User(t, "officer", "petugas", "31")
		jakarta := w.User(t, "volunteer", "ani", "3171")
		bandung := w.User(t, "volunteer", "budi", "3273")
		national := w.User(t, "volunteer", "citra", "")
		assignOnly := w.User(t, "volunteer", "dewi", "31")

		phone, laptop := w.ps.NewDevice(t), w.ps.NewDevice(t)
		subscribe(t, w.Env, jakarta.Tokens.AccessToken, phone)
		subscribe(t, w.Env, jakarta.Tokens.AccessToken, laptop, api.PushAlerts)
		other := w.ps.NewDevice(t)
		subscribe(t, w.Env, bandung.Tokens.AccessToken, other)
		nat := w.ps.NewDevice(t)
		subscribe(t, w.Env, national.Tokens.AccessToken, nat)
		quiet := w.ps.NewDevice(t)
		subscribe(t, w.Env, assignOnly.Tokens.AccessToken, quiet, api.PushAssignments)
		officerPhone := w.ps.NewDevice(t)
		subscribe(t, w.Env, officer.Tokens.AccessToken, officerPhone)

		a := createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Hoaks relokasi TPS 12",
			"body": "Pesan berantai tentang pemindahan TPS 12 adalah hoaks.", "severity": "critical", "region_code": "31"})
		ms := w.ps.Wait(t, 10*time.Second, "the alert on both Jakarta devices", func(ms []pushtest.Message) bool { return len(ms) >= 2 })
		idle(t, w.Env)
		ms = w.ps.Messages()
		if got := byDevice(ms); len(ms) != 2 || got[phone.ID] != 1 || got[laptop.ID] != 1 {
			t.Fatalf("got pushes %v, want one each on the two Jakarta devices only", got)
		}
		topic := strings.ReplaceAll(a.ID, "-", "")
		for _, m := range ms {
			p := payload(t, m)
			if p.Kind != "alert" || !strings.Contains(p.Title, a.Title) || p.Severity != "critical" ||
				p.Region != "Daerah Khusus Ibukota Jakarta" || p.URL != "/#/alerts/"+a.ID || p.Lang != "id" || p.Ack == "" {
				t.Errorf("got payload %+v", p)
			}
			if !strings.Contains(p.Title, "KRITIS") {
				t.Errorf("got title %q, want the severity in Indonesian", p.Title)
			}
			if m.Urgency != "high" || m.Topic != topic || m.TTL < 86000 || m.TTL > 86400 {
				t.Errorf("got urgency %q topic %q ttl %d, want high, %s, about 24 h", m.Urgency, m.Topic, m.TTL, topic)
			}
		}
		if errs := w.ps.Errors(); len(errs) > 0 {
			t.Fatalf("push service refused pushes: %v", errs)
		}

		// The phone showed it: its service worker acks with the ack string.
		ack := payload(t, ms[0]).Ack
		if r := w.Do(t, "POST", "/v1/push/acks", api.PushAckRequest{Ack: ack}); r.Status != http.StatusNoContent {
			t.Fatalf("ack: got %d %s", r.Status, r.Body)
		}
		w.Do(t, "POST", "/v1/push/acks", api.PushAckRequest{Ack: ack}) // repeated: counted once
		forged := ack[:len(ack)-2] + "AA"
		if r := w.Do(t, "POST", "/v1/push/acks", api.PushAckRequest{Ack: forged}); r.Status != http.StatusUnprocessableEntity || r.Problem(t).Type != "/v1/problems/invalid-push-ack" {
			t.Fatalf("forged ack: got %d %s, want 422 invalid-push-ack", r.Status, r.Body)
		}
		var reach api.Reach
		r := w.Do(t, "GET", "/v1/alerts/"+a.ID+"/reach", nil, apptest.Bearer(officer.Tokens.AccessToken)...)
		r.Decode(t, &reach)
		if reach.Pushed != 2 || reach.Displayed != 1 {
			t.Fatalf("got reach %+v, want pushed 2, displayed 1", reach)
		}

		// The retraction replaces it: same topic, to the same devices.
		r = w.Do(t, "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]string{"reason": "Salah wilayah"}, apptest.Bearer(officer.Tokens.AccessToken)...)
		if r.Status != http.StatusOK {
			t.Fatalf("retract: got %d %s", r.Status, r.Body)
		}
		w.ps.Wait(t, 10*time.Second, "the retraction on both devices", func(ms []pushtest.Message) bool { return len(ms) >= 4 })
		idle(t, w.Env)
		ms = w.ps.Messages()[2:]
		if got := byDevice(ms); len(ms) != 2 || got[phone.ID] != 1 || got[laptop.ID] != 1 {
			t.Fatalf("got retraction pushes %v, want one on each Jakarta device", got)
		}
		for _, m := range ms {
			p := payload(t, m)
			if p.Kind != "retraction" || m.Topic != topic || p.Tag != "alert-"+a.ID || !strings.Contains(p.Body, "Salah wilayah") {
				t.Errorf("got retraction %+v topic %q", p, m.Topic)
			}
		}
		r = w.Do(t, "GET", "/v1/alerts/"+a.ID+"/reach", nil, apptest.Bearer(officer.Tokens.AccessToken)...)
		r.Decode(t, &reach)
		if reach.Pushed != 2 {
			t.Fatalf("got reach %+v after the retraction, want pushed still 2 (the alert's own pushes)", reach)
		}

		// A national alert reaches every volunteer's device that wants alerts.
		createAlert(t, w.Env, mustNational(t, w), map[string]any{"title": "Info nasional", "body": "Untuk semua.", "severity": "info"})
		w.ps.Wait(t, 10*time.Second, "the national alert", func(ms []pushtest.Message) bool { return len(ms) >= 8 })
		idle(t, w.Env)
		ms = w.ps.Messages()[4:]
		got := byDevice(ms)
		if len(ms) != 4 || got[phone.ID] != 1 || got[laptop.ID] != 1 || got[other.ID] != 1 || got[nat.ID] != 1 {
			t.Fatalf("got national pushes %v, want one on each of the four volunteer devices that want alerts", got)
		}
		if ms[0].Urgency != "normal" {
			t.Errorf("got urgency %q for an info alert, want normal", ms[0].Urgency)
		}

		// A month on, the outbox's rows go and the reach reads the same
		// (from push_reach), on the alert and in the officers' statistics.
		stats := func() string {
			var st api.AlertStats
			r := w.Do(t, "GET", "/v1/stats/alerts", nil, apptest.Bearer(officer.Tokens.AccessToken)...)
			r.Decode(t, &st)
			var b strings.Builder
			for _, it := range st.Items {
				fmt.Fprintf(&b, "%s pushed %d displayed %d; ", it.AlertID, it.Pushed, it.Displayed)
			}
			return b.String()
		}
		before := stats()
		ctx := context.Background()
		if _, err := w.App.DB.NewUpdate().Table("push_jobs").Set("created_at = ?", time.Now().Add(-push.Retention-time.Hour).UTC()).Where("1 = 1").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := w.App.Push.Purge(ctx)
		if err != nil || n != 3 {
			t.Fatalf("purge: %d jobs, %v; want the alert's, the retraction's and the national alert's", n, err)
		}
		for _, table := range []string{"push_jobs", "push_batches", "push_deliveries", "push_acks"} {
			if c, err := w.App.DB.NewSelect().Table(table).Count(ctx); err != nil || c != 0 {
				t.Errorf("%s: %d rows left (%v)", table, c, err)
			}
		}
		r = w.Do(t, "GET", "/v1/alerts/"+a.ID+"/reach", nil, apptest.Bearer(officer.Tokens.AccessToken)...)
		r.Decode(t, &reach)
		if reach.Pushed != 2 || reach.Displayed != 1 {
			t.Fatalf("reach after the purge: %+v, want pushed 2, displayed 1 as before", reach)
		}
		if after := stats(); after != before || !strings.Contains(after, "pushed 2 displayed 1") {
			t.Fatalf("statistics after the purge:\n%s\nbefore:\n%s", after, before)
		}
		if n, err := w.App.Push.Purge(ctx); err != nil || n != 0 {
			t.Fatalf("purge again: %d, %v; want nothing left", n, err)
		}
		// A phone that shows the push only now is not counted any more.
		if r := w.Do(t, "POST", "/v1/push/acks", api.PushAckRequest{Ack: payload(t, w.ps.Messages()[1]).Ack}); r.Status != http.StatusNoContent {
			t.Fatalf("ack of a purged push: got %d %s, want 204", r.Status, r.Body)
		}
		r = w.Do(t, "GET", "/v1/alerts/"+a.ID+"/reach", nil, apptest.Bearer(officer.Tokens.AccessToken)...)
		r.Decode(t, &reach)
		if reach.Displayed != 1 {
			t.Fatalf("reach after a late ack: %+v, want displayed still 1", reach)
		}
	})
}

// mustNational makes a national officer and returns its token.
func mustNational(t *testing.T, w world) string {
	return w.User(t, "officer", "pusat", "").Tokens.AccessToken
}

// Each device gets the push in its account's language: Indonesian unless
// the account chose English (PATCH /v1/me).
func TestPushInTheAccountsLanguage(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		officer := w.User(t, "officer", "petugas", "31")
		ani := w.User(t, "volunteer", "ani", "3171")
		john := w.User(t, "volunteer", "john", "3171")
		en := "en"
		if r := w.Do(t, "PATCH", "/v1/me", api.UpdateMeRequest{Language: &en}, apptest.Bearer(john.Tokens.AccessToken)...); r.Status != http.StatusOK {
			t.Fatalf("john chooses English: got %d %s", r.Status, r.Body)
		}
		aniPhone, johnPhone := w.ps.NewDevice(t), w.ps.NewDevice(t)
		subscribe(t, w.Env, ani.Tokens.AccessToken, aniPhone)
		subscribe(t, w.Env, john.Tokens.AccessToken, johnPhone)
		createAlert(t, w.Env, officer.Tokens.AccessToken, map[string]any{"title": "Hoaks relokasi TPS 12",
			"body": "Pesan berantai itu hoaks.", "severity": "critical", "region_code": "31"})
		ms := w.ps.Wait(t, 10*time.Second, "the alert on both phones", func(ms []pushtest.Message) bool { return len(ms) >= 2 })
		for _, m := range ms {
			p := payload(t, m)
			want, word := "id", "KRITIS"
			if m.Device == johnPhone.ID {
				want, word = "en", "CRITICAL"
			}
			if p.Lang != want || !strings.Contains(strings.ToUpper(p.Title), word) {
				t.Errorf("device %s: got %q in %q, want %s with %q", m.Device, p.Title, p.Lang, want, word)
			}
		}
	})
}

// The data export holds the caller's push devices (endpoint, events,
// times) and the pushes they showed, never the devices' keys.
func TestExportHoldsDevices(t *testing.T) {
	each(t, func(t *testing.T, w world) {
		ani := w.User(t, "volunteer", "ani", "31")
		dev := w.ps.NewDevice(t)
		sub := subscribe(t, w.Env, ani.Tokens.AccessToken, dev, api.PushAssignments)
		bearer := apptest.Bearer(ani.Tokens.AccessToken)
		if r := w.Do(t, "POST", "/v1/push/test", nil, bearer...); r.Status != http.StatusAccepted {
			t.Fatalf("push test: got %d %s", r.Status, r.Body)
		}
		w.ps.Wait(t, 10*time.Second, "the test push", func(ms []pushtest.Message) bool { return len(ms) >= 1 })
		if r := w.Do(t, "POST", "/v1/push/acks", api.PushAckRequest{Ack: payload(t, w.ps.Messages()[0]).Ack}); r.Status != http.StatusNoContent {
			t.Fatalf("ack: got %d %s", r.Status, r.Body)
		}

		r := w.Do(t, "GET", "/v1/me/export", nil, bearer...)
		if r.Status != http.StatusOK {
			t.Fatalf("export: got %d %s", r.Status, r.Body)
		}
		var doc struct {
			Subs     []api.PushSubscription `json:"push_subscriptions"`
			Displays []struct {
				SubscriptionID string    `json:"subscription_id"`
				Kind           string    `json:"kind"`
				At             time.Time `json:"at"`
			} `json:"push_displays"`
		}
		r.Decode(t, &doc)
		if len(doc.Subs) != 1 || doc.Subs[0].ID != sub.ID || doc.Subs[0].Endpoint != dev.Endpoint ||
			len(doc.Subs[0].Events) != 1 || doc.Subs[0].Events[0] != api.PushAssignments || doc.Subs[0].CreatedAt.IsZero() {
			t.Errorf("push_subscriptions: %+v, want the device %+v", doc.Subs, sub)
		}
		if len(doc.Displays) != 1 || doc.Displays[0].SubscriptionID != sub.ID || doc.Displays[0].Kind != "test" || doc.Displays[0].At.IsZero() {
			t.Errorf("push_displays: %+v, want the test push shown on the device", doc.Displays)
		}
		for _, key := range []string{dev.P256dh(), dev.Auth(), "p256dh"} {
			if strings.Contains(string(r.Body), key) {
				t.Errorf("the export holds key material (%q)", key)
			}
		}
	})
}
