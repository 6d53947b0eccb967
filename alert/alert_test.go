package alert_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/problem"
)

func ptr(s string) *string { return &s }

// publish creates an alert and returns it with the seq of its
// alert.published event.
func publish(t *testing.T, e *apptest.Env, by api.AuthResponse, regionCode *string) (api.Alert, string, int64) {
	t.Helper()
	ctx := context.Background()
	a, err := e.App.Alerts.Create(ctx, apptest.Principal(by), api.CreateAlertRequest{Title: "Hoaks TPS dipindah", Body: "Tidak benar.",
		Severity: "info", RegionCode: regionCode})
	if err != nil {
		t.Fatalf("create alert: %v", err)
	}
	stream := "region:national"
	if regionCode != nil {
		stream = "region:" + *regionCode
	}
	evs, err := e.App.Events.After(ctx, stream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		var d struct {
			ID string `json:"id"`
		}
		if ev.Name == "alert.published" && json.Unmarshal(ev.Data, &d) == nil && d.ID == a.ID {
			return a, stream, ev.Seq
		}
	}
	t.Fatalf("no alert.published for %s on %s", a.ID, stream)
	return a, "", 0
}

func reach(t *testing.T, e *apptest.Env, by api.AuthResponse, id string) api.Reach {
	t.Helper()
	r, err := e.App.Alerts.Reach(context.Background(), apptest.Principal(by), id)
	if err != nil {
		t.Fatalf("reach: %v", err)
	}
	return r
}

// ack records one feed ack of u as the feed would pass it on: everything
// after from (where u's connection began the stream) up to seq received.
func ack(e *apptest.Env, u api.AuthResponse, stream string, from, seq int64, at time.Time) {
	ackOn(e.App.Acks, u, stream, from, seq, at)
}

func ackOn(acks *alert.Acks, u api.AuthResponse, stream string, from, seq int64, at time.Time) {
	code := ""
	if u.User.RegionCode != nil {
		code = *u.User.RegionCode
	}
	acks.Record(u.User.ID, u.User.Role, code, stream, from, seq, at)
}

// Acks count toward an alert's reach only from volunteers whose own region
// streams carry it, once each; an ack covers what its connection delivered
// (after where the connection began the stream) and this instance has not
// counted yet. Nothing is written before the flush, and a flush writes
// counts, one row per alert and delay bucket.
func TestRecordAck(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		off31 := e.User(t, "officer", "dki", "31")
		v3171 := e.User(t, "volunteer", "jakpus", "3171")
		v31 := e.User(t, "volunteer", "dki", "31")
		v32 := e.User(t, "volunteer", "jabar", "32")
		vNat := e.User(t, "volunteer", "pusat", "")
		a, stream, seq := publish(t, e, off31, ptr("31"))
		now := time.Now()

		ack(e, v3171, stream, seq-1, seq, now)
		ack(e, v3171, stream, seq-1, seq, now.Add(time.Second)) // again: counted once
		ack(e, v32, stream, seq-1, seq, now)                    // not a stream of 32
		ack(e, vNat, stream, seq-1, seq, now)                   // national volunteers hear region:national only
		ack(e, off31, stream, seq-1, seq, now)                  // officers are not volunteers
		ack(e, v31, "user:"+v31.User.ID, seq-1, seq, now)       // not a region stream
		ack(e, v31, stream, seq-2, seq-1, now)                  // before the alert
		if r := reach(t, e, off31, a.ID); r.Delivered != 0 {
			t.Errorf("reach before the flush: %+v, want nothing written yet", r)
		}
		e.App.Acks.Flush(ctx)
		r := reach(t, e, off31, a.ID)
		if r.Delivered != 1 || r.Meant != 2 || r.P50Ms == nil {
			t.Errorf("reach: %+v, want meant 2 (the volunteers of 31), delivered 1", r)
		}
		ack(e, v31, stream, seq-2, seq+500, now) // covers everything since its last ack, however far
		ack(e, v3171, stream, seq-1, seq, now)   // not past its last ack: nothing
		e.App.Acks.Flush(ctx)
		if r := reach(t, e, off31, a.ID); r.Delivered != 2 {
			t.Errorf("reach after a later ack: %+v", r)
		}
		// A connection that began the stream at the alert's seq did not
		// deliver it.
		late := e.User(t, "volunteer", "telat", "31")
		ack(e, late, stream, seq, seq+1, now)
		e.App.Acks.Flush(ctx)
		if st := e.App.Acks.Stats(); st.Counted != 2 || st.Rows != 2 || st.Dropped != 0 || st.Statements != 5 {
			t.Errorf("ack stats %+v, want 2 counted in 2 rows, 5 statements (3 reads, 2 inserts)", st)
		}
		var rows int
		if err := e.App.DB.NewRaw("SELECT count(*) FROM alert_ack_counts WHERE alert_id = ?", a.ID).Scan(ctx, &rows); err != nil || rows != 2 {
			t.Errorf("%d count rows (%v), want 2", rows, err)
		}
	})
}

// A volunteer counts once per alert across instances when the client
// resumes where it was: the second instance's connection begins the
// stream at the resume position. Two connections of one user on one
// instance count once, from the one that began earlier.
func TestAcksAcrossInstances(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		off := e.User(t, "officer", "jabar", "32")
		v := e.User(t, "volunteer", "bdg", "3273")
		w := e.User(t, "volunteer", "bgr", "3201")
		a, stream, seq := publish(t, e, off, ptr("32"))
		now := time.Now()
		other := alert.NewAcks(e.App.DB, slog.New(slog.DiscardHandler))

		ack(e, v, stream, seq-1, seq, now)
		e.App.Acks.Flush(ctx)
		ackOn(other, v, stream, seq, seq+3, now.Add(time.Minute)) // reconnected elsewhere, resuming at seq
		other.Flush(ctx)
		if r := reach(t, e, off, a.ID); r.Delivered != 1 {
			t.Errorf("reach after a resume on another instance: %+v, want 1", r)
		}

		ack(e, w, stream, seq, seq+2, now)   // a phone that connected after the alert
		ack(e, w, stream, seq-5, seq+1, now) // and a laptop connected before it
		e.App.Acks.Flush(ctx)
		if r := reach(t, e, off, a.ID); r.Delivered != 2 {
			t.Errorf("reach with two connections of one volunteer: %+v, want 2", r)
		}
	})
}

// The reach's percentiles are nearest-rank over the delay buckets, each the
// bound of its bucket: of ten delays 100..1000 ms (in the buckets 100, 200,
// 300, 500, 500, 700, 700, 1000, 1000, 1000) the p50 is 500 and the p90
// 1000; of two, the p50 is the smaller.
func TestReachPercentiles(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		vols := make([]api.AuthResponse, 10)
		for i := range vols {
			vols[i] = e.User(t, "volunteer", "jabar", "3273")
		}
		a, stream, seq := publish(t, e, admin, ptr("32"))
		b, streamB, seqB := publish(t, e, admin, ptr("3273"))
		var published time.Time
		if err := e.App.DB.NewRaw("SELECT at FROM events WHERE stream = ? AND seq = ?", stream, seq).Scan(ctx, &published); err != nil {
			t.Fatal(err)
		}
		var publishedB time.Time
		if err := e.App.DB.NewRaw("SELECT at FROM events WHERE stream = ? AND seq = ?", streamB, seqB).Scan(ctx, &publishedB); err != nil {
			t.Fatal(err)
		}
		for i, v := range vols {
			ack(e, v, stream, seq-1, seq, published.Add(time.Duration(100*(i+1))*time.Millisecond))
			if i < 2 {
				ack(e, v, streamB, seqB-1, seqB, publishedB.Add(time.Duration(100*(i+1))*time.Millisecond))
			}
		}
		e.App.Acks.Flush(ctx)
		r := reach(t, e, admin, a.ID)
		if r.Delivered != 10 || r.P50Ms == nil || r.P90Ms == nil || *r.P50Ms != 500 || *r.P90Ms != 1000 {
			t.Errorf("reach of ten: %+v (p50 %v, p90 %v), want p50 500 and p90 1000", r, deref(r.P50Ms), deref(r.P90Ms))
		}
		r = reach(t, e, admin, b.ID)
		if r.Delivered != 2 || r.P50Ms == nil || *r.P50Ms != 100 || *r.P90Ms != 200 {
			t.Errorf("reach of two: %+v (p50 %v, p90 %v), want p50 100 and p90 200", r, deref(r.P50Ms), deref(r.P90Ms))
		}
		// Nobody acked: no percentiles.
		c, _, _ := publish(t, e, admin, nil)
		if r := reach(t, e, admin, c.ID); r.Delivered != 0 || r.P50Ms != nil || r.P90Ms != nil {
			t.Errorf("reach of none: %+v", r)
		}
	})
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// Who publishes where, and who sees the reach.
func TestCreateAndReachRights(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		off31 := e.User(t, "officer", "dki", "31")
		off3171 := e.User(t, "officer", "jakpus", "3171")
		offNat := e.User(t, "officer", "pusat", "")
		vol := e.User(t, "volunteer", "relawan", "31")
		req := func(code *string) api.CreateAlertRequest {
			return api.CreateAlertRequest{Title: "Hoaks", Body: "Tidak benar.", Severity: "info", RegionCode: code}
		}
		for _, c := range []struct {
			who  api.AuthResponse
			code *string
			typ  string
		}{
			{vol, ptr("31"), "forbidden"},
			{off31, nil, "outside-region"},
			{off31, ptr("32"), "outside-region"},
			{off3171, ptr("31"), "outside-region"},
			{off31, ptr("317101"), "validation"},
			// Coverage comes first: a code that is not a region code lies
			// in no officer's region; only one who covers everything
			// learns that it is invalid.
			{off31, ptr("3"), "outside-region"},
			{offNat, ptr("3"), "validation"},
		} {
			_, err := e.App.Alerts.Create(ctx, apptest.Principal(c.who), req(c.code))
			if !problem.Is(err, c.typ) {
				t.Errorf("%s alerts %v: got %v, want %s", c.who.User.Name, deref2(c.code), err, c.typ)
			}
		}
		a, err := e.App.Alerts.Create(ctx, apptest.Principal(off3171), req(ptr("3171")))
		if err != nil {
			t.Fatal(err)
		}
		for who, ok := range map[*api.AuthResponse]bool{&off31: true, &off3171: true, &vol: false} {
			_, err := e.App.Alerts.Reach(ctx, apptest.Principal(*who), a.ID)
			if (err == nil) != ok {
				t.Errorf("%s sees reach: %v, want %v", who.User.Name, err, ok)
			}
		}
		if _, err := e.App.Alerts.Reach(ctx, apptest.Principal(off31), "01900000-0000-7000-8000-000000000000"); !problem.Is(err, "not-found") {
			t.Errorf("reach of no alert: %v", err)
		}
	})
}

func deref2(s *string) string {
	if s == nil {
		return "national"
	}
	return *s
}

func TestAlertAPI(t *testing.T) {
	at := time.Date(2029, 2, 14, 7, 0, 0, 0, time.FixedZone("WIB", 7*3600))
	a := alert.Alert{ID: "x", ReportIDs: "not json", Links: `["https://kpu.go.id"]`, PublishedAt: at}
	got := a.API()
	if got.ReportIDs == nil || len(got.ReportIDs) != 0 || len(got.Links) != 1 || got.Retracted || got.RetractedAt != nil {
		t.Errorf("API: %+v", got)
	}
	if got.PublishedAt.Location() != time.UTC || !got.PublishedAt.Equal(at) {
		t.Errorf("published_at %v, want %v in UTC", got.PublishedAt, at)
	}
	a.RetractedAt = &at
	got = a.API()
	if !got.Retracted || got.RetractedAt == nil || got.RetractedAt.Location() != time.UTC {
		t.Errorf("retracted API: %+v", got)
	}
}
