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

// A live reload that redraws a list while a finger is on one of its
// buttons leaves the button where it is: the tap still clicks, whether the
// redraw has the same items or one fewer before it. (Redrawing by replacing
// the list's children took every element out of the page and put it back,
// and Chromium then fired no click.)
func TestBrowserRedrawKeepsATap(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	b := newBrowser(t, e.URL, 360, 740)
	b.open("#/")
	for _, c := range []struct{ name, tap, js, want string }{
		{"the same items", "b", "", `"[\"b\"]"`},
		{"the first item gone", "c", "items.shift();", `"[\"c\"]"`},
	} {
		t.Run(c.name, func(t *testing.T) { tapDuringRedraw(t, b, c.tap, c.js, c.want) })
	}
}

// tapDuringRedraw draws a list of buttons a, b and c; a press on the
// button tap runs change (on the items) and redraws the list before the
// release; the clicks must then be want.
func tapDuringRedraw(t *testing.T, b *browser, tap, change, want string) {
	b.Eval(`document.getElementById('redraw-list')?.remove(); window.__clicks = null; window.__redraws = 0; (async () => {
		const m = await import('/app/js/views/parts.js');
		const list = document.createElement('ul');
		list.id = 'redraw-list';
		list.style.cssText = 'position:relative;height:220px;list-style:none;margin:0;padding:0';
		document.querySelector('main').prepend(list);
		const items = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
		const draw = () => m.renderList(list, items, (x) => {
			const li = document.createElement('li');
			const btn = document.createElement('button');
			btn.type = 'button';
			btn.id = 'tap-' + x.id;
			btn.textContent = 'Ambil ' + x.id;
			btn.style.cssText = 'display:block;width:200px;height:60px';
			// Each button keeps its place whatever its neighbours do: the
			// test is about the element leaving the page, not moving.
			li.style.cssText = 'position:absolute;left:0;top:' + 70 * 'abc'.indexOf(x.id) + 'px';
			btn.addEventListener('click', () => { window.__clicks.push(x.id); });
			li.append(btn);
			return li;
		}, 'none');
		draw();
		// The redraw lands between the press and the release.
		list.addEventListener('mousedown', () => { ` + change + ` draw(); window.__redraws++; });
		window.__clicks = [];
	})()`)
	b.WaitJS("the list", "Array.isArray(window.__clicks)", 10*time.Second)
	var box struct{ X, Y float64 }
	raw := b.Eval(`(() => { const r = document.getElementById('tap-` + tap + `').getBoundingClientRect(); return { X: r.x + r.width / 2, Y: r.y + r.height / 2 }; })()`)
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
	if got := string(b.Eval(`JSON.stringify(window.__clicks)`)); got != want {
		t.Fatalf("clicks after a redraw during the tap on %s: %s, want %s", tap, got, want)
	}
}
