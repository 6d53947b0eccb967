// The public transparency report (no login): takedown requests per month
// and platform, findings verified per category and province, alerts issued
// per month and severity, and the latest fact checks (ClaimReview), with
// the open datasets to download. Charts are drawn here as SVG: no library,
// no third-party request.
import { t, has, getLang, fmtDate, fmtNumber } from '../i18n.js';
import { h, add, section, empty, extLink } from '../dom.js';
import { api } from '../api.js';
import { provinceName } from '../regions.js';

const NS = 'http://www.w3.org/2000/svg';

// s builds an SVG element; children are nodes or text.
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

// W is the drawing's width in its own units; the SVG scales to its box.
const W = 320;
const ROW = 40;

// barChart draws one row per item, its label above a bar of stacked
// segments (one per series) and the total after it. rows: [{label, values}];
// series: [{name, cls}].
function barChart(title, rows, series) {
  const max = Math.max(1, ...rows.map((r) => sum(r.values)));
  const room = W - 44;
  const svg = s('svg', { viewBox: `0 0 ${W} ${rows.length * ROW + 4}`, class: 'chart', role: 'img', 'aria-label': title });
  rows.forEach((r, i) => {
    const y = i * ROW;
    const total = sum(r.values);
    svg.append(s('text', { x: 0, y: y + 13, class: 'chart-label' }, r.label));
    let x = 0;
    r.values.forEach((v, j) => {
      if (!v) return;
      const w = Math.max(2, (v / max) * room);
      svg.append(s('rect', { x, y: y + 18, width: w, height: 16, class: `bar ${series[j].cls}` },
        s('title', null, `${r.label} · ${series[j].name}: ${fmtNumber(v)}`)));
      x += w;
    });
    svg.append(s('text', { x: x + 5, y: y + 31, class: 'chart-num' }, fmtNumber(total)));
  });
  const legend = series.length > 1 ? h('ul', { class: 'legend' }, series.map((x) => h('li', null, h('span', { class: `swatch ${x.cls}`, 'aria-hidden': 'true' }), x.name))) : null;
  return h('figure', { class: 'chart-box' }, h('figcaption', null, title), svg, legend);
}

// table draws rows of cells under a header, in a box that scrolls sideways
// on a narrow phone instead of the page.
function table(caption, head, rows) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'data' }, h('caption', null, caption),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', null, c))))))));
}

function monthLabel(m) {
  const [y, mo] = m.split('-').map(Number);
  return new Intl.DateTimeFormat(getLang() === 'en' ? 'en-GB' : 'id-ID', { month: 'short', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, mo - 1, 1)));
}

const enumLabel = (prefix, v) => (has(`${prefix}.${v}`) ? t(`${prefix}.${v}`) : v);

// group sums rows by key(row) into {key: values}, in first-seen order.
function group(rows, key, values) {
  const out = new Map();
  for (const r of rows) {
    const k = key(r);
    const v = values(r);
    const prev = out.get(k);
    out.set(k, prev ? prev.map((x, i) => x + v[i]) : v);
  }
  return out;
}

function takedownSection(rows) {
  if (!rows.length) return section(t('tr.takedowns'), empty(t('tr.none')));
  const series = [{ name: t('tr.takenDown'), cls: 'c-ok' }, { name: t('tr.refused'), cls: 'c-bad' }, { name: t('tr.pending'), cls: 'c-warn' }];
  const byMonth = group(rows, (r) => r.month, (r) => [r.taken_down, r.refused, r.pending]);
  const byPlatform = group(rows, (r) => r.platform, (r) => [r.taken_down, r.refused, r.pending]);
  const days = (d) => (d == null ? '–' : t('tr.days', { n: fmtNumber(d) }));
  return section(t('tr.takedowns'), h('p', { class: 'muted' }, t('tr.takedownsIntro')),
    barChart(t('tr.takedownsByMonth'), [...byMonth].map(([m, v]) => ({ label: monthLabel(m), values: v })), series),
    barChart(t('tr.takedownsByPlatform'), [...byPlatform].map(([p, v]) => ({ label: enumLabel('platform', p), values: v })), series),
    table(t('tr.takedownsTable'), [t('tr.month'), t('tr.platform'), t('tr.requested'), t('tr.takenDown'), t('tr.refused'), t('tr.pending'), t('tr.median')],
      rows.map((r) => [monthLabel(r.month), enumLabel('platform', r.platform), fmtNumber(r.requested), fmtNumber(r.taken_down),
        fmtNumber(r.refused), fmtNumber(r.pending), days(r.median_days_to_takedown)])));
}

function verifiedSection(rows) {
  if (!rows.length) return section(t('tr.verified'), empty(t('tr.none')));
  const one = [{ name: t('tr.verifiedCount'), cls: 'c-info' }];
  const byCategory = group(rows, (r) => r.category, (r) => [r.verified]);
  const byProvince = group(rows, (r) => r.province_code, (r) => [r.verified]);
  const place = (code) => (code ? provinceName(code) || code : t('region.national'));
  const sorted = (m) => [...m].sort((a, b) => b[1][0] - a[1][0]);
  return section(t('tr.verified'),
    barChart(t('tr.verifiedByCategory'), sorted(byCategory).map(([c, v]) => ({ label: enumLabel('category', c), values: v })), one),
    barChart(t('tr.verifiedByProvince'), sorted(byProvince).map(([p, v]) => ({ label: place(p), values: v })), one));
}

function alertSection(rows) {
  if (!rows.length) return section(t('tr.alerts'), empty(t('tr.none')));
  const sev = ['critical', 'warning', 'info'];
  const series = sev.map((x) => ({ name: t(`alert.severity.${x}`), cls: `c-${x}` }));
  const byMonth = group(rows, (r) => r.month, (r) => sev.map((x) => (r.severity === x ? r.issued : 0)));
  const retracted = sum(rows.map((r) => r.retracted));
  return section(t('tr.alerts'),
    barChart(t('tr.alertsByMonth'), [...byMonth].map(([m, v]) => ({ label: monthLabel(m), values: v })), series),
    h('p', { class: 'muted' }, t('tr.retracted', { n: fmtNumber(retracted), total: fmtNumber(sum(rows.map((r) => r.issued))) })));
}

// factChecks lists the latest verified disinformation findings (the one a
// ClaimReview's url names first).
function factChecks(reviews, shown) {
  const id = (r) => new URL(r.url).hash.split('claim=')[1] || '';
  const latest = reviews.slice().reverse();
  const first = latest.findIndex((r) => id(r) === shown);
  if (first > 0) latest.unshift(...latest.splice(first, 1));
  const items = latest.slice(0, 10).map((r) => h('li', { class: `card${id(r) === shown ? ' shown' : ''}`, id: `claim-${id(r)}` },
    h('h3', null, r.claimReviewed),
    h('div', { class: 'meta' }, h('span', { class: 'badge s-rejected' }, r.reviewRating.alternateName),
      h('span', null, t('tr.checkedOn', { date: fmtDate(r.datePublished) })),
      r.itemReviewed.spatialCoverage ? h('span', null, r.itemReviewed.spatialCoverage.name) : null),
    h('p', null, t('tr.seenAt'), ' ', extLink(r.itemReviewed.firstAppearance.url))));
  return section(t('tr.factChecks'), h('p', { class: 'muted' }, t('tr.factChecksIntro')),
    items.length ? h('ul', { class: 'cards' }, items) : empty(t('tr.none')));
}

function downloads() {
  const links = [['tr.dlTakedowns', 'takedowns'], ['tr.dlVerified', 'verified'], ['tr.dlAlerts', 'alerts-issued']];
  return section(t('tr.download'), h('p', { class: 'muted' }, t('tr.licence')),
    h('ul', { class: 'downloads' }, links.map(([key, name]) => h('li', null, t(key), ': ',
      h('a', { href: `/v1/open/${name}.csv`, download: '' }, 'CSV'), ' · ', h('a', { href: `/v1/open/${name}.json` }, 'JSON'))),
    h('li', null, h('a', { href: '/v1/open/claimreviews.json' }, t('tr.dlClaims'))),
    h('li', null, h('a', { href: '/v1/open' }, t('tr.dictionary')))));
}

export async function transparency(ctx) {
  add(ctx.root, h('h1', null, t('tr.title')), h('p', null, t('tr.intro')));
  const status = h('p', { class: 'loading' }, t('tr.loading'));
  add(ctx.root, status);
  const [doc, reviews] = await Promise.all([api('GET', '/v1/open/transparency.json'), api('GET', '/v1/open/claimreviews.json')]);
  status.remove();
  add(ctx.root, takedownSection(doc.takedowns), verifiedSection(doc.verified), alertSection(doc.alerts_issued),
    factChecks(reviews, ctx.query.get('claim') || ''), downloads());
  const shown = ctx.root.querySelector('.card.shown');
  if (shown) shown.scrollIntoView({ block: 'start' });
}
