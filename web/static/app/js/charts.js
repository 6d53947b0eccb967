// Small charts drawn as SVG by the console itself (no chart library, no
// request to anyone), for Statistik and the public transparency report:
// stacked bars, lines and horizontal (stacked) bars, each with a <title>
// and <desc> for screen readers, a legend and its numbers as a table. The
// SVG scales to its box, so a 360 px phone shows it whole.
import { h } from './dom.js';
import { t, fmtNumber } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg'; // the SVG namespace: a name, never fetched
const W = 340, H = 190, L = 34, R = 8, T = 10, B = 34;

// COLOURS tell series apart; each is at least 4.5:1 against white.
export const COLOURS = ['#8a1c1c', '#1f4f8a', '#1e6b33', '#7a4b00', '#5b2a86', '#00707a', '#a33d00', '#4d4d4d'];

// paint colours the i-th series or item: by a class of the stylesheet
// (cls, such as 'c-ok') when it has one, else by one of COLOURS.
const paint = (x, i) => (x.cls ? { class: x.cls } : { fill: COLOURS[(x.colour ?? i) % COLOURS.length] });

// s builds an SVG element: s('rect', {x: 1}, child...).
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

let uid = 0;

// frame is the <svg> with its title and description.
function frame(title, desc, cls) {
  const id = `chart${++uid}`;
  return s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}t ${id}d`, class: `chart ${cls || ''}` },
    s('title', { id: `${id}t` }, title), s('desc', { id: `${id}d` }, desc));
}

// niceMax rounds max up to 1, 2 or 5 times a power of ten, so four ticks fall on round numbers.
export function niceMax(max) {
  if (!(max > 0)) return 4;
  const step = max / 4, p = 10 ** Math.floor(Math.log10(step));
  const n = [1, 2, 5, 10].find((m) => m * p >= step);
  return Math.max(4, n * p * 4);
}

// axes draws the y ticks and gridlines (0..top) and up to six x labels.
function axes(svg, top, labels, xOf) {
  const y = (v) => T + (H - T - B) * (1 - v / top);
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: i ? 'grid' : 'axis' }),
      s('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmtNumber(v)));
  }
  const every = Math.ceil(labels.length / 6);
  labels.forEach((l, i) => {
    if (i % every) return;
    svg.append(s('text', { x: xOf(i), y: H - B + 15, 'text-anchor': 'middle', class: 'tick' }, l));
  });
  return y;
}

// legend names the series beside their colours.
function legend(series) {
  return h('ul', { class: 'legend' }, series.map((se, i) => h('li', null,
    swatch(paint(se, i)), se.label)));
}

function swatch(colour) {
  return s('svg', { viewBox: '0 0 10 10', width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { width: 10, height: 10, ...colour }));
}

// dataTable is a table of numbers, a row per item named by its first cell,
// in a box that scrolls sideways on a narrow phone instead of the page.
export function dataTable(caption, head, rows, id) {
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'data', id }, h('caption', null, caption),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i ? h('td', null, c) : h('th', { scope: 'row' }, c))))))));
}

// table is a chart's numbers, folded under the chart: a row per label, a
// column per series.
export function table(caption, head, rows) {
  return h('details', { class: 'chart-table' }, h('summary', null, t('chart.table')), dataTable(caption, head, rows));
}

// figure holds a chart, its legend and table; the section around it shows
// the title, or, with caption, the figure itself (for a section of several).
function figure(title, svg, rest, caption) {
  return h('figure', { class: 'chart-box', 'aria-label': caption ? null : title }, caption && h('figcaption', null, title), svg, rest);
}

// describe says in words what a chart shows: its total per series.
function describe(labels, series) {
  if (!labels.length) return t('chart.empty');
  const totals = series.map((se) => `${se.label}: ${fmtNumber(se.values.reduce((a, b) => a + b, 0))}`);
  return t('chart.desc', { n: labels.length, first: labels[0], last: labels[labels.length - 1], totals: totals.join(', ') });
}

// stackedBars draws a column per label, its series stacked in order.
// series: [{label, values: [one per label], colour?}].
export function stackedBars(title, labels, series, { tableHead } = {}) {
  const svg = frame(title, describe(labels, series), 'bars');
  const sums = labels.map((_, i) => series.reduce((a, se) => a + se.values[i], 0));
  const top = niceMax(Math.max(0, ...sums));
  const slot = (W - L - R) / Math.max(labels.length, 1), bw = Math.max(slot * 0.7, 0.5);
  const xOf = (i) => L + slot * i + slot / 2;
  const y = axes(svg, top, labels, xOf);
  labels.forEach((l, i) => {
    let base = 0;
    series.forEach((se, k) => {
      const v = se.values[i];
      if (!v) return;
      svg.append(s('rect', { x: xOf(i) - bw / 2, y: y(base + v), width: bw, height: y(base) - y(base + v), ...paint(se, k) },
        s('title', null, `${l} · ${se.label}: ${fmtNumber(v)}`)));
      base += v;
    });
  });
  const rows = labels.map((l, i) => [l, ...series.map((se) => fmtNumber(se.values[i])), fmtNumber(sums[i])]);
  return figure(title, svg, [legend(series), table(title, tableHead || ['', ...series.map((se) => se.label), t('chart.total')], rows)]);
}

// lines draws a line per series over the labels, with a dot per point;
// rowLabels, when given, name the table's rows instead of the labels.
export function lines(title, labels, series, rowLabels = labels) {
  const svg = frame(title, describe(labels, series), 'lines');
  const top = niceMax(Math.max(0, ...series.flatMap((se) => se.values)));
  const step = (W - L - R) / Math.max(labels.length, 1);
  const xOf = (i) => L + step * i + step / 2;
  const y = axes(svg, top, labels, xOf);
  series.forEach((se, k) => {
    const colour = COLOURS[(se.colour ?? k) % COLOURS.length];
    const pts = se.values.map((v, i) => `${xOf(i).toFixed(1)},${y(v).toFixed(1)}`);
    if (pts.length > 1) svg.append(s('polyline', { points: pts.join(' '), fill: 'none', stroke: colour, 'stroke-width': 2 }));
    se.values.forEach((v, i) => svg.append(s('circle', { cx: xOf(i), cy: y(v), r: 3, fill: colour },
      s('title', null, `${rowLabels[i]} · ${se.label}: ${fmtNumber(v)}`))));
  });
  const rows = rowLabels.map((l, i) => [l, ...series.map((se) => fmtNumber(se.values[i]))]);
  return figure(title, svg, [legend(series), table(title, ['', ...series.map((se) => se.label)], rows)]);
}

// rowBars draws a row per item ({label, total, segs}) into svg: its label,
// under it a bar of its segments ({value, colour, tip}) end to end, scaled
// so that max spans the width, and after the bar its total.
function rowBars(svg, rows, max) {
  const rowH = 34, span = W - 50;
  svg.setAttribute('viewBox', `0 0 ${W} ${T / 2 + rowH * rows.length}`);
  rows.forEach((r, i) => {
    const y = T / 2 + rowH * i;
    let x = 0;
    svg.append(s('text', { x: 0, y: y + 11, class: 'tick name' }, r.label));
    for (const sg of r.segs) {
      if (!sg.value) continue;
      const w = Math.max((span * sg.value) / max, 1);
      svg.append(s('rect', { x, y: y + 15, width: w, height: 13, ...sg.colour }, sg.tip && s('title', null, sg.tip)));
      x += w;
    }
    svg.append(s('text', { x: x + 5, y: y + 26, class: 'tick total' }, fmtNumber(r.total)));
  });
}

// hbars draws a horizontal bar per item ({label, value, colour?}) under its
// label, followed by its value: for a few named counts, such as the
// verification funnel.
export function hbars(title, items) {
  const svg = frame(title, items.map((it) => `${it.label}: ${fmtNumber(it.value)}`).join(', ') || t('chart.empty'), 'hbars');
  rowBars(svg, items.map((it, i) => ({ label: it.label, total: it.value, segs: [{ value: it.value, colour: paint(it, i) }] })),
    Math.max(1, ...items.map((it) => it.value)));
  return figure(title, svg, table(title, ['', t('chart.count')], items.map((it) => [it.label, fmtNumber(it.value)])));
}

// hstacked draws a horizontal bar per row ({label, values: [one per
// series]}) under its label, its series stacked left to right and the row's
// total after it. series: [{label, cls? or colour?}]; a single series has
// no legend and no total column. caption shows the title above the chart.
export function hstacked(title, rows, series, { caption } = {}) {
  const totals = rows.map((r) => r.values.reduce((a, b) => a + b, 0));
  const one = series.length === 1;
  const parts = (r) => (one ? '' : ` (${series.map((se, k) => `${se.label}: ${fmtNumber(r.values[k])}`).join(', ')})`);
  const svg = frame(title, rows.map((r, i) => `${r.label}: ${fmtNumber(totals[i])}${parts(r)}`).join('; ') || t('chart.empty'), 'hbars');
  rowBars(svg, rows.map((r, i) => ({
    label: r.label, total: totals[i],
    segs: r.values.map((v, k) => ({ value: v, colour: paint(series[k], k), tip: `${r.label} · ${series[k].label}: ${fmtNumber(v)}` })),
  })), Math.max(1, ...totals));
  const head = ['', ...series.map((se) => se.label), ...(one ? [] : [t('chart.total')])];
  const body = rows.map((r, i) => [r.label, ...r.values.map((v) => fmtNumber(v)), ...(one ? [] : [fmtNumber(totals[i])])]);
  return figure(title, svg, [one ? null : legend(series), table(title, head, body)], caption);
}

// bar is a bar for a table cell: value of max, as wide as its share.
export function bar(value, max, colour = 0) {
  return s('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'cellbar', 'aria-hidden': 'true' },
    s('rect', { width: max ? (100 * value) / max : 0, height: 10, fill: COLOURS[colour] }));
}
