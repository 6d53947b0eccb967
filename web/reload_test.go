package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// A list's answers can come back out of order (a busy server, a flaky
// network): the console's reloads draw the answer asked for last, never an
// older one that arrives after it. The loads here are promises the test
// settles in the wrong order, through the console's own modules.
func TestBrowserLateAnswerDrawsNothing(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	b := newBrowser(t, e.URL, 360, 740)
	b.open("#/")
	b.Eval(`window.__lists = null; (async () => {
		const m = await import('/app/js/views/parts.js');
		const item = (x) => { const li = document.createElement('li'); li.textContent = x.id; return li; };
		const out = {};

		// A screen's reload: ticket first, draw only while still the latest.
		const fresh = m.latest();
		const drawn = [];
		const settle = [];
		const reload = async () => {
			const still = fresh();
			const items = await new Promise((r) => settle.push(r));
			if (still()) drawn.push(items);
		};
		const first = reload(), second = reload();
		settle[1]('new'); await second;
		settle[0]('old'); await first;
		out.reload = drawn.slice();
		// A later reload that fails leaves the earlier answer to draw.
		const fails = [];
		const failing = async () => {
			const still = fresh();
			await new Promise((_, no) => fails.push(no));
			if (still()) drawn.push('never');
		};
		const third = reload(), fourth = failing().catch(() => {});
		fails[0](new Error('offline')); await fourth;
		settle[2]('earlier'); await third;
		out.afterFailure = drawn.slice(1);

		// The pager: a reset answered after a later reset draws nothing,
		// and a page asked for before a reset is not added after it.
		const list = document.createElement('ul');
		const asked = [];
		const p = m.pager(list, (cursor) => new Promise((r) => asked.push({ cursor, r })), item, 'none');
		const a = p.reload(), c = p.reload();
		asked[1].r({ items: [{ id: 'new-1' }, { id: 'new-2' }], next_cursor: 'k' }); await c;
		asked[0].r({ items: [{ id: 'old-1' }] }); await a;
		out.pager = [...list.children].map((e) => e.textContent);
		const more = list.nextElementSibling;
		out.moreShown = !more.hidden;
		more.click();
		const d = p.reload();
		asked[3].r({ items: [{ id: 'newest-1' }] }); await d;
		asked[2].r({ items: [{ id: 'stale-3' }] });
		await new Promise((r) => setTimeout(r, 0));
		out.afterMore = [...list.children].map((e) => e.textContent);
		out.cursors = asked.map((x) => x.cursor);
		window.__lists = out;
	})()`)
	b.WaitJS("the lists", "window.__lists !== null", 10*time.Second)
	var got struct {
		Reload    []string `json:"reload"`
		Failure   []string `json:"afterFailure"`
		Pager     []string `json:"pager"`
		MoreShown bool     `json:"moreShown"`
		AfterMore []string `json:"afterMore"`
		Cursors   []string `json:"cursors"`
	}
	if err := json.Unmarshal(b.Eval(`window.__lists`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Reload) != 1 || got.Reload[0] != "new" {
		t.Errorf("reloads drew %q, want only the later one's answer", got.Reload)
	}
	if len(got.Failure) != 1 || got.Failure[0] != "earlier" {
		t.Errorf("after a later reload failed, drew %q, want the earlier one's answer", got.Failure)
	}
	if len(got.Pager) != 2 || got.Pager[0] != "new-1" || got.Pager[1] != "new-2" || !got.MoreShown {
		t.Errorf("pager after two resets answered out of order: %q (more shown %v), want new-1, new-2 and more", got.Pager, got.MoreShown)
	}
	if len(got.AfterMore) != 1 || got.AfterMore[0] != "newest-1" {
		t.Errorf("pager after a page asked for before a reset: %q, want only the reset's newest-1", got.AfterMore)
	}
	if want := []string{"", "", "k", ""}; strings.Join(got.Cursors, ",") != strings.Join(want, ",") {
		t.Errorf("cursors asked for: %q, want %q", got.Cursors, want)
	}
}
