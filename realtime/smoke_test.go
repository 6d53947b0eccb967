package realtime_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

func dial(t *testing.T, e *apptest.Env, token string, resume map[string]int64) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(e.URL, "http")+"/v1/feed", http.Header{})
	if err != nil {
		t.Fatalf("dial: %v %v", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	ws.WriteJSON(api.ClientFrame{Type: "hello", Token: token, Resume: resume})
	return ws
}

func next(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func TestFeedSmoke(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		coord := e.User(t, "volunteer", "coord", "31")
		vol := e.User(t, "volunteer", "vol", "3171")
		r := e.Do(t, "POST", "/v1/orgs", map[string]any{"name": "KOPEL", "accreditation_number": "001/2029",
			"accredited_until": time.Now().Add(24 * time.Hour), "coordinator_email": coord.User.Email}, apptest.Bearer(admin.Tokens.AccessToken)...)
		var o api.Org
		r.Decode(t, &o)
		ws := dial(t, e, coord.Tokens.AccessToken, nil)
		w := next(t, ws)
		if w["type"] != "welcome" {
			t.Fatalf("got %v, want welcome", w)
		}
		t.Logf("welcome %v", w)
		r = e.Do(t, "POST", "/v1/orgs/"+o.ID+"/memberships", map[string]any{}, apptest.Bearer(vol.Tokens.AccessToken)...)
		if r.Status != 201 {
			t.Fatalf("join %d %s", r.Status, r.Body)
		}
		ev := next(t, ws)
		if ev["event"] != "membership.requested" || ev["stream"] != "review:"+o.ID {
			t.Fatalf("got %v", ev)
		}
		vws := dial(t, e, vol.Tokens.AccessToken, nil)
		w = next(t, vws)
		t.Logf("vol welcome %v", w)
		r = e.Do(t, "POST", "/v1/orgs/"+o.ID+"/memberships/"+vol.User.ID+"/decision", map[string]any{"decision": "approve"}, apptest.Bearer(coord.Tokens.AccessToken)...)
		if r.Status != 200 {
			t.Fatalf("decide %d %s", r.Status, r.Body)
		}
		for i := 0; i < 2; i++ {
			t.Logf("vol got %v", next(t, vws))
		}
		r = e.Do(t, "POST", "/v1/orgs/"+o.ID+"/accreditation", map[string]any{"action": "suspend", "reason": "laporan akhir belum"}, apptest.Bearer(admin.Tokens.AccessToken)...)
		if r.Status != 200 {
			t.Fatalf("suspend %d %s", r.Status, r.Body)
		}
		ev = next(t, vws)
		if ev["event"] != "org.accreditation_changed" {
			t.Fatalf("got %v", ev)
		}
	})
}
