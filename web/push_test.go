package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/pushtest"
)

// swRegistration waits for the console's service worker to be active and
// returns its registration id, read from the DevTools ServiceWorker domain.
func (b *browser) swRegistration() serviceworker.RegistrationID {
	b.T.Helper()
	var mu sync.Mutex
	var id serviceworker.RegistrationID
	chromedp.Listen(b.Ctx, func(ev any) {

		if e, ok := ev.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			for _, r := range e.Registrations {
				if strings.HasPrefix(r.ScopeURL, b.Base) && !r.IsDeleted {
					mu.Lock()
					id = r.RegistrationID
					mu.Unlock()
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		b.T.Fatalf("ServiceWorker.enable: %v", err)
	}
	b.Eval(`navigator.serviceWorker.ready.then(() => { window.swReady = true; }), true`)
	b.WaitJS("the service worker to be active", "window.swReady === true", 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := id
		mu.Unlock()
		if got != "" {
			return got
		}
		if time.Now().After(deadline) {
			b.T.Fatal("no service worker registration reported by DevTools")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliverPush hands data to the service worker as its push service would
// (DevTools' ServiceWorker.deliverPushMessage).
func (b *browser) deliverPush(reg serviceworker.RegistrationID, data []byte) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
		Origin: b.Base, RegistrationID: reg, Data: string(data)}); err != nil {
		b.T.Fatalf("deliver push: %v", err)
	}
}

// shownNotification is a notification the service worker shows.
type shownNotification struct {
	Title, Body, Tag, Icon, Badge string
	RequireInteraction, Renotify  bool
	Data                          struct {
		URL      string `json:"url"`
		Severity string `json:"severity"`
		Again    bool   `json:"again"`
	}
}

// notifications delivers data to the service worker and reads
// registration.getNotifications() until one tagged tag with a title
// starting with title is shown. Headless Chromium now and then (about one
// run in thirty, here) keeps no notification although showNotification
// resolved; the same push is then delivered once more, as a push service
// may: the tag makes a repeat replace, never add, a notification.
func (b *browser) notifications(what string, reg serviceworker.RegistrationID, data []byte, tag, title string) []shownNotification {
	b.T.Helper()
	b.deliverPush(reg, data)
	read := `(navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => { window.shown = ns.map((n) => ({
		title: n.title, body: n.body, tag: n.tag, icon: n.icon, badge: n.badge, requireInteraction: n.requireInteraction, renotify: n.renotify, data: n.data })); }), true)`
	start := time.Now()
	redelivered := false
	for {
		b.Eval(read)
		time.Sleep(50 * time.Millisecond)
		var ns []shownNotification
		json.Unmarshal(b.Eval(`window.shown || []`), &ns)
		for _, n := range ns {
			if n.Tag == tag && strings.HasPrefix(n.Title, title) {
				return ns
			}
		}
		switch {
		case !redelivered && time.Since(start) > 3*time.Second:
			b.T.Logf("%s: not shown after 3 s; delivering the push again", what)
			b.deliverPush(reg, data)
			redelivered = true
		case time.Since(start) > 10*time.Second:
			b.T.Fatalf("%s: no notification %q tagged %s among %+v", what, title, tag, ns)
		}
	}
}

// A volunteer's console, closed to the feed, gets an officer's critical
// alert as a notification: the server encrypts it for the device, the local
// push service decrypts it as a browser's push service would hand it on,
// and DevTools delivers it to the console's real service worker, which shows
// it (title, body, severity icon, badge, tag) and acks it, so the alert's
// reach counts one phone that displayed it. The retraction replaces it
// (same tag). The settings screen asks for no permission until pressed.
func TestBrowserPushNotification(t *testing.T) {
	ps, e, officer, vol := pushWorld(t)

	v := newBrowser(t, e.URL, 360, 740)
	v.signIn(vol.User.Email)
	v.goTo("#/notifications")
	v.waitText("main", "Peringatan Bawaslu untuk wilayah saya", 5*time.Second)
	v.waitText("#notify-status", "belum aktif", 5*time.Second)
	if perm := string(v.Eval(`Notification.permission`)); perm != `"default"` {
		t.Fatalf("the console asked for notification permission without a gesture: %s", perm)
	}
	v.checkA11y("notifications")
	v.noHorizontalScroll("notifications")
	v.shot("notifications-settings")

	// The browser's own subscription (PushManager.subscribe) needs a push
	// service headless Chromium lacks; the device is registered through the
	// API with a key pair of the local push service instead.
	dev := ps.NewDevice(t)
	r := e.Do(t, "POST", "/v1/push/subscriptions", map[string]any{"endpoint": dev.Endpoint,
		"keys": map[string]string{"p256dh": dev.P256dh(), "auth": dev.Auth()}}, apptest.Bearer(vol.Tokens.AccessToken)...)
	if r.Status != 201 {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	v.goTo("#/me")
	v.goTo("#/notifications")
	v.waitText("#notify-devices", "Perangkat lain", 5*time.Second)
	v.shot("notifications-devices")

	if _, err := chromedp.CallBrowser(v.Ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: e.URL}); err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	v.open("#/tasks") // a new page with the permission; away from the alerts: the notification, not the page, must show it
	reg := v.swRegistration()

	var a api.Alert
	r = e.Do(t, "POST", "/v1/alerts", map[string]any{"title": "Hoaks relokasi TPS 12", "body": "Pesan berantai tentang pemindahan TPS 12 adalah hoaks.",
		"severity": "critical", "region_code": "31"}, apptest.Bearer(officer.Tokens.AccessToken)...)
	r.Decode(t, &a)
	ms := ps.Wait(t, 10*time.Second, "the alert's push", func(ms []pushtest.Message) bool { return len(ms) >= 1 })
	ns := v.notifications("the alert", reg, ms[0].Payload, "alert-"+a.ID, "[KRITIS] Hoaks relokasi TPS 12")
	n := ns[0]
	if len(ns) != 1 || !strings.Contains(n.Body, "Daerah Khusus Ibukota Jakarta") || !strings.HasSuffix(n.Icon, "/app/icons/alert-critical.png") ||
		!strings.HasSuffix(n.Badge, "/app/icons/badge-72.png") || !n.RequireInteraction || n.Data.URL != "/#/alerts/"+a.ID || n.Data.Severity != "critical" {
		t.Fatalf("got notifications %+v", ns)
	}

	// The same push again (a push service redelivering it): it replaces
	// its notification without sounding again.
	v.deliverPush(reg, ms[0].Payload)
	v.WaitJS("the repeated push shown", `(navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => {
		window.again = ns.length === 1 && ns[0].data.again === true && ns[0].renotify === false; }), window.again === true)`, 10*time.Second)

	// The service worker acked it: one phone displayed the alert.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var reach api.Reach
		e.Do(t, "GET", "/v1/alerts/"+a.ID+"/reach", nil, apptest.Bearer(officer.Tokens.AccessToken)...).Decode(t, &reach)
		if reach.Displayed == 1 && reach.Pushed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got reach %+v, want pushed 1 and displayed 1 after the service worker showed it", reach)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The retraction replaces the notification.
	r = e.Do(t, "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]string{"reason": "Salah wilayah sasaran"}, apptest.Bearer(officer.Tokens.AccessToken)...)
	if r.Status != 200 {
		t.Fatalf("retract: %d %s", r.Status, r.Body)
	}
	ms = ps.Wait(t, 10*time.Second, "the retraction's push", func(ms []pushtest.Message) bool { return len(ms) >= 2 })
	ns = v.notifications("the retraction", reg, ms[1].Payload, "alert-"+a.ID, "Dicabut: Hoaks relokasi TPS 12")
	if len(ns) != 1 || !strings.Contains(ns[0].Body, "Salah wilayah sasaran") {
		t.Fatalf("got notifications %+v, want the retraction in place of the alert", ns)
	}

	// Where a tap leads: the alert first on the alerts screen.
	v.goTo("#/alerts/" + a.ID)
	v.waitText("#alert-shown", "Hoaks relokasi TPS 12", 5*time.Second)

	// The device can be removed from the settings screen.
	v.goTo("#/notifications")
	v.clickText("#notify-devices", "Hapus")
	v.waitText("#notify-devices", "Belum ada perangkat", 5*time.Second)
	if n := e.Count(t, "push_subscriptions"); n != 0 {
		t.Fatalf("%d subscriptions left after removing the device", n)
	}
}

// pushStub replaces the page's PushManager (headless Chromium has no push
// service: a real subscribe ends the page) with one that hands out the
// given devices' subscriptions in turn, its state kept in localStorage so
// it lasts across reloads: stub.push is {current, made} (-1: none).
func pushStub(devs ...*pushtest.Device) string {
	type sub struct{ Endpoint, P256dh, Auth string }
	var subs []sub
	for _, d := range devs {
		subs = append(subs, sub{d.Endpoint, d.P256dh(), d.Auth()})
	}
	j, _ := json.Marshal(subs)
	return `(() => {
  const subs = ` + string(j) + `;
  const state = () => JSON.parse(localStorage.getItem('stub.push') || '{"current":-1,"made":0}');
  const keep = (s) => localStorage.setItem('stub.push', JSON.stringify(s));
  const made = (i) => ({
    endpoint: subs[i].Endpoint,
    toJSON: () => ({ endpoint: subs[i].Endpoint, keys: { p256dh: subs[i].P256dh, auth: subs[i].Auth } }),
    unsubscribe: async () => { const s = state(); s.current = -1; keep(s); return true; },
  });
  PushManager.prototype.getSubscription = async function () { const s = state(); return s.current < 0 ? null : made(s.current); };
  PushManager.prototype.subscribe = async function () { const s = state(); s.current = s.made++; keep(s); return made(s.current); };
})();`
}

// The console repairs this browser's registration when it opens, asking
// nothing: after a rotation of the server's key (the stored key differs)
// it subscribes afresh, registers the new device with the events chosen
// and removes the old one, and the next alert reaches the new device; a
// subscription the browser renewed by itself (another endpoint) is
// registered likewise; nothing changes when all is as registered.
func TestBrowserPushRenewed(t *testing.T) {
	ps, e, officer, vol := pushWorld(t)
	old, rotated, renewed := ps.NewDevice(t), ps.NewDevice(t), ps.NewDevice(t)

	// The device as registered before the rotation, alerts only.
	var before api.PushSubscription
	r := e.Do(t, "POST", "/v1/push/subscriptions", map[string]any{"endpoint": old.Endpoint,
		"keys": map[string]string{"p256dh": old.P256dh(), "auth": old.Auth()}, "events": []string{"alert.published"}}, apptest.Bearer(vol.Tokens.AccessToken)...)
	if r.Status != 201 {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &before)

	v := newBrowser(t, e.URL, 360, 740)
	if _, err := chromedp.Call(v.Ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: pushStub(old, rotated, renewed)}); err != nil {
		t.Fatalf("stub PushManager: %v", err)
	}
	if _, err := chromedp.CallBrowser(v.Ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: e.URL}); err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	v.signIn(vol.User.Email)
	v.swRegistration()
	mine := func(id, key, endpoint string) string {
		j, _ := json.Marshal(map[string]any{"id": id, "key": key, "user": vol.User.ID, "endpoint": endpoint, "events": []string{"alert.published"}})
		return string(j)
	}
	v.Eval(fmt.Sprintf(`localStorage.setItem('jarimu.push', %q); localStorage.setItem('stub.push', '{"current":0,"made":1}'), true`,
		mine(before.ID, "kunci-lama", old.Endpoint)))

	devices := func(what, endpoint string) api.PushSubscription {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got api.Page[api.PushSubscription]
			e.Do(t, "GET", "/v1/push/subscriptions", nil, apptest.Bearer(vol.Tokens.AccessToken)...).Decode(t, &got)
			if len(got.Items) == 1 && got.Items[0].Endpoint == endpoint {
				s := got.Items[0]
				if len(s.Events) != 1 || s.Events[0] != "alert.published" {
					t.Fatalf("%s: events %v, want the ones chosen", what, s.Events)
				}
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: devices %+v, want the one at %s", what, got.Items, endpoint)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	reopen := func() { // the console opens again: a new document
		v.Do("reopen", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	}

	// The key changed: a fresh subscription replaces the old device.
	reopen()
	after := devices("after the rotation", rotated.Endpoint)
	if key := string(v.Eval(`JSON.parse(localStorage.getItem('jarimu.push')).key`)); key != fmt.Sprintf("%q", e.App.VAPID.PublicKey()) {
		t.Fatalf("stored key %s, want the server's", key)
	}
	e.Do(t, "POST", "/v1/alerts", map[string]any{"title": "Hoaks relokasi TPS 12", "body": "Pesan berantai tentang pemindahan TPS 12 adalah hoaks.",
		"severity": "critical", "region_code": "31"}, apptest.Bearer(officer.Tokens.AccessToken)...)
	ms := ps.Wait(t, 10*time.Second, "the alert's push", func(ms []pushtest.Message) bool { return len(ms) >= 1 })
	if ms[0].Device != rotated.ID || ps.Tries(old.ID) != 0 {
		t.Fatalf("the alert went to %s (%d tries at the old device), want the renewed one", ms[0].Device, ps.Tries(old.ID))
	}

	// The browser renewed its subscription by itself: registered likewise.
	v.Eval(`localStorage.setItem('stub.push', '{"current":2,"made":3}'), true`)
	reopen()
	last := devices("after the browser's renewal", renewed.Endpoint)

	// All as registered: nothing is sent again.
	reopen()
	time.Sleep(500 * time.Millisecond)
	if again := devices("with nothing changed", renewed.Endpoint); again.ID != last.ID || again.CreatedAt != last.CreatedAt || after.ID == last.ID {
		t.Fatalf("devices %+v then %+v, want the same registration kept", last, again)
	}
}

// pushWorld is an embedded server that pushes to a local push service, with
// an officer and a volunteer of Jakarta Pusat.
func pushWorld(t *testing.T) (*pushtest.Service, *apptest.Env, api.AuthResponse, api.AuthResponse) {
	t.Helper()
	ps := pushtest.New(t, "")
	e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) {
		o.Push = push.Config{Hosts: []string{ps.Host()}, Client: ps.Client(), Poll: 20 * time.Millisecond}
	})
	ps.SetVAPIDKey(e.App.VAPID.PublicKey())
	return ps, e, e.User(t, "officer", "petugas-ri", ""), e.User(t, "volunteer", "sari", "3171")
}
