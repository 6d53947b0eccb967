package web_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// A live reload that redraws a list with the same items while a finger is
// on one of its buttons leaves the button where it is: the tap still
// clicks. (Redrawing by replacing the list's children took every element
// out of the page and put it back, and Chromium then fired no click.)
func TestBrowserRedrawKeepsATap(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	b := newBrowser(t, e.URL, 360, 740)
	b.open("#/")
	b.Eval(`window.__clicks = null; window.__redraws = 0; (async () => {
		const m = await import('/app/js/views/parts.js');
		const list = document.createElement('ul');
		list.id = 'redraw-list';
		document.querySelector('main').prepend(list);
		const items = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
		const draw = () => m.renderList(list, items, (x) => {
			const li = document.createElement('li');
			const btn = document.createElement('button');
			btn.type = 'button';
			btn.id = 'tap-' + x.id;
			btn.textContent = 'Ambil ' + x.id;
			btn.style.cssText = 'display:block;width:200px;height:60px';
			btn.addEventListener('click', () => { window.__clicks.push(x.id); });
			li.append(btn);
			return li;
		}, 'none');
		draw();
		// The redraw lands between the press and the release.
		list.addEventListener('mousedown', () => { draw(); window.__redraws++; });
		window.__clicks = [];
	})()`)
	b.WaitJS("the list", "Array.isArray(window.__clicks)", 10*time.Second)
	var box struct{ X, Y float64 }
	raw := b.Eval(`(() => { const r = document.getElementById('tap-b').getBoundingClientRect(); return { X: r.x + r.width / 2, Y: r.y + r.height / 2 }; })()`)
	if err := json.Unmarshal(raw, &box); err != nil {
		t.Fatal(err)
	}
	// A press and a release, as chromedp's click sends them.
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(box.X, box.Y)); err != nil {
		t.Fatal(err)
	}
	b.WaitJS("the redraw", "window.__redraws === 1", 5*time.Second)
	if got := string(b.Eval(`JSON.stringify(window.__clicks)`)); got != `"[\"b\"]"` {
		t.Fatalf("clicks after a redraw during the tap: %s, want b's", got)
	}
}
