package realtime_test

import (
	"testing"

	"github.com/jarimu/jarimu/apptest"
)

// A client that reconnects with its last seq gets exactly what it missed,
// in order, then live events.
func TestResumeDeliversWhatWasMissed(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		f := newOrg(t, e)
		c, w := open(t, e.URL, f.coord.Tokens.AccessToken, nil)
		last := seqOf(w, f.stream())
		if last < 0 {
			t.Fatalf("welcome %v lacks %s", w.Streams, f.stream())
		}
		c.ws.Close()
		missed := appendEvents(t, e, f.stream(), "test.missed", 50)
		c, w = open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{f.stream(): last})
		if got := seqOf(w, f.stream()); got != last+50 {
			t.Fatalf("welcome says %s is at %d, want %d", f.stream(), got, last+50)
		}
		got := c.events(f.stream(), last, 50)
		for i := range got {
			if got[i].ID != missed[i].ID || got[i].Event != "test.missed" {
				t.Fatalf("event %d: got %v id %s, want id %s", i, got[i], got[i].ID, missed[i].ID)
			}
		}
		appendEvents(t, e, f.stream(), "test.live", 1)
		if ev := c.events(f.stream(), last+50, 1)[0]; ev.Event != "test.live" {
			t.Fatalf("got %v, want the live event", ev)
		}
		c.barrier()
	})
}

// Resuming where the log no longer reaches, or from beyond its head, gets a
// reset to the head; resuming from exactly the oldest kept seq's predecessor
// or from the head itself does not.
func TestResumeReset(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		f := newOrg(t, e)
		s := f.stream()
		_, w := open(t, e.URL, f.coord.Tokens.AccessToken, nil)
		base := seqOf(w, s)
		appendEvents(t, e, s, "test.old", 50)
		purgeAll(t, e)
		head := base + 50

		// Everything purged: any resume below the head is a reset.
		for _, from := range []int64{base, head - 1} {
			c, _ := open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{s: from})
			if r := c.next(); r.Type != "reset" || r.Stream != s || r.Seq != head {
				t.Fatalf("resume from %d after purge: got %v, want reset %s %d", from, r, s, head)
			}
			c.barrier()
		}
		// Beyond the head: reset to the head.
		c, _ := open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{s: head + 7})
		if r := c.next(); r.Type != "reset" || r.Stream != s || r.Seq != head {
			t.Fatalf("resume from beyond the head: got %v, want reset %s %d", r, s, head)
		}
		appendEvents(t, e, s, "test.live", 1)
		c.events(s, head, 1) // continues from the head after a reset

		// Events kept after the purge: resuming from just before the oldest
		// kept one replays them; from one earlier it is a reset.
		appendEvents(t, e, s, "test.new", 4) // head+2..head+5 kept; head+1 too
		newHead := head + 5
		c, _ = open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{s: head})
		c.events(s, head, 5)
		c.barrier()
		c, _ = open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{s: head - 1})
		if r := c.next(); r.Type != "reset" || r.Seq != newHead {
			t.Fatalf("resume from below the oldest kept: got %v, want reset %d", r, newHead)
		}
		c.barrier()
		// At the head: nothing to send.
		c, _ = open(t, e.URL, f.coord.Tokens.AccessToken, map[string]int64{s: newHead})
		c.barrier()
	})
}

// Purge keeps alerts forever, so a stream's history can have holes after
// its oldest kept event. A resume across a hole must not skip seqs
// silently: the contract promises no gaps, and a reset where the history
// does not reach.
func TestResumeAcrossPurgedHole(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		u := e.User(t, "volunteer", "vol", "")
		s := "region:national"
		appendEvents(t, e, s, "task.created", 1)    // 1, purged
		appendEvents(t, e, s, "alert.published", 1) // 2, kept forever
		appendEvents(t, e, s, "task.updated", 1)    // 3, purged
		purgeAll(t, e)
		appendEvents(t, e, s, "task.created", 1) // 4, kept
		for _, from := range []int64{1, 2} {
			c, _ := open(t, e.URL, u.Tokens.AccessToken, map[string]int64{s: from})
			var got []frame
			for {
				f := c.next()
				got = append(got, f)
				if f.Type == "event" && f.Seq == 4 || f.Type == "reset" && f.Seq == 4 {
					break
				}
			}
			// Whatever is sent, seqs must rise by one or a reset must cover
			// the hole before seq 4 is reached.
			pos := from
			for _, f := range got {
				switch {
				case f.Type == "reset":
					pos = f.Seq
				case f.Type == "event" && f.Seq == pos+1:
					pos = f.Seq
				default:
					t.Fatalf("resume from %d: got %v after position %d (frames %v): a silent gap", from, f, pos, got)
				}
			}
			c.barrier()
		}
	})
}
