package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// ---- a feed client -----------------------------------------------------------

// feedFrame is any server frame, decoded loosely.
type feedFrame struct {
	Type    string               `json:"type"`
	Streams []api.StreamPosition `json:"streams"`
	Stream  string               `json:"stream"`
	Seq     int64                `json:"seq"`
	ID      string               `json:"id"`
	Event   string               `json:"event"`
	At      time.Time            `json:"at"`
	Data    json.RawMessage      `json:"data"`
}

func (f feedFrame) String() string {
	if f.Type == "event" {
		return fmt.Sprintf("event %s#%d %s %s", f.Stream, f.Seq, f.Event, f.Data)
	}
	return fmt.Sprintf("%s %s %d", f.Type, f.Stream, f.Seq)
}

// field is a top-level string of the event's data.
func (f feedFrame) field(key string) string {
	var m map[string]any
	json.Unmarshal(f.Data, &m)
	s, _ := m[key].(string)
	return s
}

// feedClient is one connection to GET /v1/feed.
type feedClient struct {
	t       testing.TB
	ws      *websocket.Conn
	welcome feedFrame
}

// openFeed connects with subprotocol jarimu.v1, says hello (with resume)
// and reads the welcome.
func openFeed(t testing.TB, e *apptest.Env, token string, resume map[string]int64) *feedClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(e.URL, "http")+"/v1/feed", nil)
	if err != nil {
		t.Fatalf("dial feed: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	c := &feedClient{t: t, ws: ws}
	if err := ws.WriteJSON(api.ClientFrame{Type: "hello", Token: token, Resume: resume}); err != nil {
		t.Fatalf("hello: %v", err)
	}
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("welcome: %v", err)
		}
		if f.Type == "welcome" {
			c.welcome = f
			return c
		}
		t.Fatalf("got %v before the welcome", f)
	}
}

func (c *feedClient) read(d time.Duration) (feedFrame, error) {
	c.ws.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return feedFrame{}, err
	}
	var f feedFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return feedFrame{}, fmt.Errorf("server frame is not JSON: %q", b)
	}
	return f, nil
}

// streams are the welcome's stream positions.
func (c *feedClient) streams() map[string]int64 {
	m := map[string]int64{}
	for _, s := range c.welcome.Streams {
		m[s.Name] = s.Seq
	}
	return m
}

// await reads until the event name whose data has key = value and returns
// it with the events read before it; it fails the test after 5 s.
func (c *feedClient) await(name, key, value string) (feedFrame, []feedFrame) {
	c.t.Helper()
	var skipped []feedFrame
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %s with %s=%s: %v (read before: %v)", name, key, value, err, skipped)
		}
		if f.Type == "event" && f.Event == name && f.field(key) == value {
			return f, skipped
		}
		skipped = append(skipped, f)
	}
}

// quiet reads for d and fails the test on any event called name. A read
// timeout leaves a gorilla connection unusable: the caller is done with c.
func (c *feedClient) quiet(d time.Duration, name string) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		f, err := c.read(time.Until(deadline))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return
		}
		if err != nil {
			c.t.Fatalf("want the connection open: %v", err)
		}
		if f.Type == "event" && f.Event == name {
			c.t.Errorf("got %v, want no %s", f, name)
		}
	}
}

func (c *feedClient) ack(stream string, seq int64) {
	c.t.Helper()
	if err := c.ws.WriteJSON(api.ClientFrame{Type: "ack", Stream: stream, Seq: seq}); err != nil {
		c.t.Fatalf("ack: %v", err)
	}
}

// barrier sends a ping and reads up to its pong: the server handles a
// connection's frames in order, so every frame sent before (acks) has been
// acted on. It returns the frames read before the pong.
func (c *feedClient) barrier() []feedFrame {
	c.t.Helper()
	if err := c.ws.WriteJSON(api.ClientFrame{Type: "ping"}); err != nil {
		c.t.Fatalf("ping: %v", err)
	}
	var before []feedFrame
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for pong: %v", err)
		}
		if f.Type == "pong" {
			return before
		}
		before = append(before, f)
	}
}

// ---- alert helpers -------------------------------------------------------------

var alertSeq atomic.Int64

// alertBody is a valid POST /v1/alerts body for regionCode ("" national).
func alertBody(regionCode string, reportIDs ...string) map[string]any {
	b := map[string]any{
		"title":    fmt.Sprintf("Hoaks pemindahan TPS #%d", alertSeq.Add(1)),
		"body":     "Informasi bahwa TPS dipindah adalah tidak benar. Periksa lokasi TPS di situs resmi KPU.",
		"severity": "warning",
		"category": "disinformation",
		"links":    []string{"https://www.kpu.go.id/berita"},
	}
	if regionCode != "" {
		b["region_code"] = regionCode
	}
	if len(reportIDs) > 0 {
		b["report_ids"] = reportIDs
	}
	return b
}

func createAlert(t testing.TB, e *apptest.Env, token string, body map[string]any) api.Alert {
	t.Helper()
	r := call(t, e, token, "POST", "/v1/alerts", body)
	must(t, "create alert", r, http.StatusCreated, "")
	var a api.Alert
	r.Decode(t, &a)
	return a
}

func reachOf(t testing.TB, e *apptest.Env, token, id string) api.Reach {
	t.Helper()
	r := call(t, e, token, "GET", "/v1/alerts/"+id+"/reach", nil)
	must(t, "reach", r, http.StatusOK, "")
	var rc api.Reach
	r.Decode(t, &rc)
	return rc
}

// waitReach polls the reach until cond holds (5 s).
func waitReach(t testing.TB, e *apptest.Env, token, id string, cond func(api.Reach) bool) api.Reach {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc := reachOf(t, e, token, id)
		if cond(rc) {
			return rc
		}
		if time.Now().After(deadline) {
			t.Fatalf("reach of %s: %+v after 5 s", id, rc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verified files a report of org A in 3171 and takes it to verified.
func (w *reportWorld) verified(t testing.TB) api.Report {
	t.Helper()
	return w.build(t, []string{"review endorse", "verification verified"})
}

// ---- the whole path --------------------------------------------------------------

// A volunteer reports, the coordinator endorses, the officer of 31 verifies
// and broadcasts to 31: a volunteer of 3171 on the feed gets it live and
// acks, one of 32 does not; a national alert reaches both; the reach counts
// the acks of volunteers meant.
func TestAlertWholePath(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		v32, err := newMember(e, "", "", "32")
		if err != nil {
			t.Fatal(err)
		}
		reporterFeed := openFeed(t, e, tok(w.reporter), nil)
		volFeed := openFeed(t, e, tok(w.vol), nil)
		v32Feed := openFeed(t, e, tok(v32), nil)
		for c, want := range map[*feedClient][]string{volFeed: {"region:national", "region:31", "region:3171"}, v32Feed: {"region:national", "region:32"}} {
			got := c.streams()
			for _, s := range want {
				if _, ok := got[s]; !ok {
					t.Errorf("welcome %v: no %s", got, s)
				}
			}
		}
		if _, ok := v32Feed.streams()["region:31"]; ok {
			t.Errorf("a volunteer of 32 listens to region:31")
		}

		// Report, endorse, verify; the coordinator hears of the report on
		// review:<org>, the officer of 31 once it is endorsed, on review:31;
		// the reporter follows on user:<id>.
		coordFeed := openFeed(t, e, tok(w.coordA), nil)
		offFeed := openFeed(t, e, tok(w.off31), nil)
		rep := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		if f, _ := coordFeed.await("report.submitted", "id", rep.ID); f.Stream != "review:"+w.orgA.ID || f.field("status") != api.ReportSubmitted {
			t.Errorf("coordinator's event: %v", f)
		}
		must(t, "endorse", actionNamed("review endorse").do(t, e, tok(w.coordA), rep.ID, ""), http.StatusOK, "")
		f, skipped := offFeed.await("report.submitted", "id", rep.ID)
		if f.Stream != "review:31" || f.field("status") != api.ReportEndorsed {
			t.Errorf("officer's event: %v", f)
		}
		for _, s := range skipped {
			if s.Event == "report.submitted" {
				t.Errorf("the officer heard of the report before it was endorsed: %v", s)
			}
		}
		f, _ = reporterFeed.await("report.status_changed", "status", api.ReportEndorsed)
		if f.Stream != "user:"+w.reporter.User.ID || f.field("report_id") != rep.ID {
			t.Errorf("reporter's event: %v", f)
		}
		must(t, "verify", actionNamed("verification verified").do(t, e, tok(w.off31), rep.ID, ""), http.StatusOK, "")
		if f, _ := reporterFeed.await("report.status_changed", "status", api.ReportVerified); f.field("report_id") != rep.ID {
			t.Errorf("reporter's event: %v", f)
		}

		// The officer of 31 broadcasts to 31, citing the report.
		a31 := createAlert(t, e, tok(w.off31), alertBody("31", rep.ID))
		if a31.RegionCode == nil || *a31.RegionCode != "31" || len(a31.ReportIDs) != 1 || a31.Retracted || a31.RetractedAt != nil {
			t.Errorf("alert: %+v", a31)
		}
		got, skipped := volFeed.await("alert.published", "id", a31.ID)
		if got.Stream != "region:31" {
			t.Errorf("alert on %s, want region:31", got.Stream)
		}
		for _, s := range skipped {
			if strings.HasPrefix(s.Event, "alert.") {
				t.Errorf("before the alert: %v", s)
			}
		}
		v32Feed.quiet(400*time.Millisecond, "alert.published")

		// The 3171 volunteer's client acks; the reach shows it.
		volFeed.ack(got.Stream, got.Seq)
		rc := waitReach(t, e, tok(w.off31), a31.ID, func(r api.Reach) bool { return r.Delivered > 0 })
		// Meant: the active volunteers of 31 (reporter, member, vol; the
		// coordinators signed up without a region).
		if rc.Delivered != 1 || rc.Meant != 3 || rc.P50Ms == nil || rc.P90Ms == nil || *rc.P50Ms < 0 || rc.AlertID != a31.ID {
			t.Errorf("reach: %+v, want meant 3, delivered 1 with a p50", rc)
		}
		// Acking again counts once.
		volFeed.ack(got.Stream, got.Seq)
		volFeed.barrier()
		if rc := reachOf(t, e, tok(w.off31), a31.ID); rc.Delivered != 1 {
			t.Errorf("reach after a repeated ack: %+v", rc)
		}
		// Who sees the reach: the issuer and officers covering 31.
		check(t, "reach as national officer", call(t, e, tok(w.offNat), "GET", "/v1/alerts/"+a31.ID+"/reach", nil), http.StatusOK, "")
		check(t, "reach as officer of 32", call(t, e, tok(w.off32), "GET", "/v1/alerts/"+a31.ID+"/reach", nil), http.StatusForbidden, "")
		check(t, "reach as volunteer", call(t, e, tok(w.vol), "GET", "/v1/alerts/"+a31.ID+"/reach", nil), http.StatusForbidden, "")
		check(t, "reach anonymously", call(t, e, "", "GET", "/v1/alerts/"+a31.ID+"/reach", nil), http.StatusUnauthorized, "")

		// A national alert (a national officer) reaches both volunteers; the
		// 32 volunteer resumes where its first connection was, so anything
		// sent to it meanwhile would show up first.
		v32Feed = openFeed(t, e, tok(v32), v32Feed.streams())
		national := createAlert(t, e, tok(w.offNat), alertBody(""))
		if national.RegionCode != nil {
			t.Errorf("national alert region %v", *national.RegionCode)
		}
		gotVol, _ := volFeed.await("alert.published", "id", national.ID)
		gotV32, skipped := v32Feed.await("alert.published", "id", national.ID)
		for _, f := range []feedFrame{gotVol, gotV32} {
			if f.Stream != "region:national" {
				t.Errorf("national alert on %s", f.Stream)
			}
		}
		for _, s := range skipped {
			if strings.HasPrefix(s.Event, "alert.") {
				t.Errorf("the volunteer of 32 got %v", s)
			}
		}
		volFeed.ack(gotVol.Stream, gotVol.Seq)
		v32Feed.ack(gotV32.Stream, gotV32.Seq)
		rn := waitReach(t, e, tok(w.offNat), national.ID, func(r api.Reach) bool { return r.Delivered >= 2 })
		// Meant: every active volunteer (the six of the world and v32).
		if rn.Delivered != 2 || rn.Meant != 6 || rn.P50Ms == nil {
			t.Errorf("national reach: %+v, want meant 6, delivered 2", rn)
		}
		check(t, "national reach as officer of 31", call(t, e, tok(w.off31), "GET", "/v1/alerts/"+national.ID+"/reach", nil), http.StatusForbidden, "")

		// An ack on a stream that is not the client's own counts nothing.
		v32Feed.ack("region:31", got.Seq)
		v32Feed.barrier()
		if rc := reachOf(t, e, tok(w.off31), a31.ID); rc.Delivered != 1 {
			t.Errorf("a volunteer of 32 acked region:31 and the 31 alert's reach became %+v, want delivered 1 (meant %d)", rc, rc.Meant)
		}
	})
}

// ---- the rules of alerts ----------------------------------------------------------

func TestAlertRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		volFeed := openFeed(t, e, tok(w.vol), nil)
		rep := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		n := e.Count(t, "alerts")
		audits := e.Count(t, "audit_log")

		// An officer of 32 cannot verify in 31 (the report does not exist
		// for them) nor alert there.
		check(t, "officer of 32 verifies in 31", actionNamed("verification verified").do(t, e, tok(w.off32), rep.ID, ""), http.StatusNotFound, "not-found")
		check(t, "officer of 32 alerts 31", call(t, e, tok(w.off32), "POST", "/v1/alerts", alertBody("31")), http.StatusForbidden, "outside-region")
		check(t, "officer of 32 alerts 3171", call(t, e, tok(w.off32), "POST", "/v1/alerts", alertBody("3171")), http.StatusForbidden, "outside-region")
		check(t, "officer of 31 alerts nationally", call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody("")), http.StatusForbidden, "outside-region")
		check(t, "volunteer alerts", call(t, e, tok(w.vol), "POST", "/v1/alerts", alertBody("3171")), http.StatusForbidden, "")
		check(t, "coordinator alerts", call(t, e, tok(w.coordA), "POST", "/v1/alerts", alertBody("31")), http.StatusForbidden, "")
		check(t, "anonymous alert", call(t, e, "", "POST", "/v1/alerts", alertBody("31")), http.StatusUnauthorized, "")
		// Districts and below have no feed stream: 422. A code that is not
		// a region code lies in no regional officer's region (403); a
		// national officer, who covers every region, learns it is invalid.
		for who, code := range map[api.AuthResponse]string{w.off31: "317101", w.offNat: "3171011001"} {
			r := call(t, e, tok(who), "POST", "/v1/alerts", alertBody(code))
			if check(t, "alert to "+code, r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "region_code") {
				t.Errorf("alert to %s: the problem does not name region_code: %s", code, r.Body)
			}
		}
		for _, code := range []string{"99", "3"} {
			check(t, "officer of 31 alerts "+code, call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody(code)), http.StatusForbidden, "outside-region")
			r := call(t, e, tok(w.offNat), "POST", "/v1/alerts", alertBody(code))
			if check(t, "national officer alerts "+code, r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "region_code") {
				t.Errorf("alert to %s: the problem does not name region_code: %s", code, r.Body)
			}
		}
		// Cited reports must be verified (and exist, and be in the region).
		for what, ids := range map[string][]string{
			"a submitted report": {rep.ID},
			"no such report":     {"01900000-0000-7000-8000-000000000000"},
		} {
			r := call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody("31", ids...))
			if check(t, "alert citing "+what, r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "report_ids") {
				t.Errorf("alert citing %s: the problem does not name report_ids: %s", what, r.Body)
			}
		}
		must(t, "endorse", actionNamed("review endorse").do(t, e, tok(w.coordA), rep.ID, ""), http.StatusOK, "")
		check(t, "alert citing an endorsed report", call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody("31", rep.ID)), http.StatusUnprocessableEntity, "validation")
		must(t, "verify", actionNamed("verification verified").do(t, e, tok(w.off31), rep.ID, ""), http.StatusOK, "")
		check(t, "officer of 32 cites a verified 31 report", call(t, e, tok(w.off32), "POST", "/v1/alerts", alertBody("32", rep.ID)), http.StatusUnprocessableEntity, "validation")
		if got := e.Count(t, "alerts"); got != n {
			t.Errorf("refused alerts: %d rows, want %d", got, n)
		}
		if got := e.Count(t, "audit_log"); got != audits+2 { // endorse, verify
			t.Errorf("refused alerts wrote %d audit rows", got-audits-2)
		}

		a := createAlert(t, e, tok(w.off31), alertBody("31", rep.ID))
		reg := createAlert(t, e, tok(w.off31), alertBody("3171"))
		other := createAlert(t, e, tok(w.off32), alertBody("32"))
		national := createAlert(t, e, tok(w.admin), alertBody(""))
		volFeed.await("alert.published", "id", a.ID)
		volFeed.await("alert.published", "id", reg.ID)

		// Retraction: officers covering the region only, once.
		check(t, "officer of 32 retracts", call(t, e, tok(w.off32), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": "salah wilayah"}), http.StatusForbidden, "")
		check(t, "volunteer retracts", call(t, e, tok(w.vol), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": "salah wilayah"}), http.StatusForbidden, "")
		check(t, "retraction without reason", call(t, e, tok(w.off31), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": " "}), http.StatusUnprocessableEntity, "validation")
		check(t, "retract no alert", call(t, e, tok(w.off31), "POST", "/v1/alerts/01900000-0000-7000-8000-000000000000/retraction", map[string]any{"reason": "salah wilayah"}), http.StatusNotFound, "")
		r := call(t, e, tok(w.off31), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": "Klarifikasi KPU: TPS memang dipindah."})
		must(t, "retract", r, http.StatusOK, "")
		var ra api.Alert
		r.Decode(t, &ra)
		if !ra.Retracted || ra.RetractedAt == nil || ra.RetractionReason != "Klarifikasi KPU: TPS memang dipindah." {
			t.Errorf("retracted alert: %+v", ra)
		}
		f, _ := volFeed.await("alert.retracted", "id", a.ID)
		if f.Stream != "region:31" {
			t.Errorf("alert.retracted on %s", f.Stream)
		}
		check(t, "retract twice", call(t, e, tok(w.offNat), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": "sekali lagi"}), http.StatusConflict, "already-retracted")

		// The public list (no login) flags it; region filters.
		list := func(query string) map[string]api.Alert {
			t.Helper()
			r := call(t, e, "", "GET", "/v1/alerts"+query, nil)
			must(t, "GET /v1/alerts"+query, r, http.StatusOK, "")
			var page api.Page[api.Alert]
			r.Decode(t, &page)
			m := map[string]api.Alert{}
			for _, x := range page.Items {
				m[x.ID] = x
			}
			return m
		}
		all := list("")
		if len(all) != 4 {
			t.Errorf("list: %d alerts, want 4", len(all))
		}
		if got := all[a.ID]; !got.Retracted || got.RetractedAt == nil || !got.RetractedAt.Equal(*ra.RetractedAt) {
			t.Errorf("list: retracted alert shows as %+v", got)
		}
		for _, id := range []string{reg.ID, other.ID, national.ID} {
			if got := all[id]; got.Retracted || got.RetractedAt != nil {
				t.Errorf("list: alert %s flagged retracted: %+v", id, got)
			}
		}
		r = call(t, e, "", "GET", "/v1/alerts/"+a.ID, nil)
		must(t, "GET alert anonymously", r, http.StatusOK, "")
		if strings.Contains(string(r.Body), w.off31.User.ID) {
			t.Errorf("the public alert names its issuer: %s", r.Body)
		}
		for query, want := range map[string][]string{
			"?region=31":   {a.ID, reg.ID, national.ID},
			"?region=3171": {a.ID, reg.ID, national.ID},
			"?region=32":   {other.ID, national.ID},
		} {
			got := list(query)
			if len(got) != len(want) {
				t.Errorf("list%s: %d alerts, want %d", query, len(got), len(want))
			}
			for _, id := range want {
				if _, ok := got[id]; !ok {
					t.Errorf("list%s: no %s", query, id)
				}
			}
		}
		if got := list("?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
			t.Errorf("list since the future: %d alerts", len(got))
		}
	})
}

// Retractions of one alert at once: one is made (200), the others find it
// made (409 already-retracted); one alert.retracted, one retraction push
// job, one audit entry, and the reason stored is the one answered.
func TestRetractionsAtOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		officer := e.User(t, "officer", "pusat", "")
		for round := range 5 {
			a := createAlert(t, e, tok(officer), alertBody(""))
			rs := race(t, 6, func(i int) (string, string, string, string, any) {
				return e.URL, tok(officer), "POST", "/v1/alerts/" + a.ID + "/retraction", map[string]any{"reason": fmt.Sprintf("alasan %d", i)}
			})
			made := -1
			for i, r := range rs {
				switch r.String() {
				case "200":
					if made >= 0 {
						t.Fatalf("round %d: retractions %d and %d both made", round, made, i)
					}
					made = i
				case "409 already-retracted":
				default:
					t.Fatalf("round %d: got %v", round, r)
				}
			}
			if made < 0 {
				t.Fatalf("round %d: no retraction made", round)
			}
			var got api.Alert
			call(t, e, tok(officer), "GET", "/v1/alerts/"+a.ID, nil).Decode(t, &got)
			if got.RetractionReason != fmt.Sprintf("alasan %d", made) {
				t.Errorf("round %d: reason %q stored, %q answered", round, got.RetractionReason, fmt.Sprintf("alasan %d", made))
			}
			if n := count(t, e, "audit_log", "action = 'alert.retract' AND target_id = ?", a.ID); n != 1 {
				t.Errorf("round %d: %d audit entries", round, n)
			}
			if n := count(t, e, "push_jobs", "kind = 'retraction' AND ref_id = ?", a.ID); n != 1 {
				t.Errorf("round %d: %d retraction push jobs", round, n)
			}
		}
	})
}
