// The public transparency report (no login): takedown requests per month
// and platform, findings verified per category and province, alerts issued
// per month and severity, and the latest fact checks (ClaimReview), with
// the open datasets to download. The charts are charts.js's SVG: no
// library, no third-party request.
import { t, has, getLang, fmtDate, fmtNumber } from '../i18n.js';
import { h, add, section, empty, extLink } from '../dom.js';
import { api } from '../api.js';
import { provinceName } from '../regions.js';
import { hstacked, dataTable } from '../charts.js';

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

// barChart is a chart of its own in a section of several: its title shown.
const barChart = (title, rows, series) => hstacked(title, rows, series, { caption: true });

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
  const series = [{ label: t('tr.takenDown'), cls: 'c-ok' }, { label: t('tr.refused'), cls: 'c-bad' }, { label: t('tr.pending'), cls: 'c-warn' }];
  const byMonth = group(rows, (r) => r.month, (r) => [r.taken_down, r.refused, r.pending]);
  const byPlatform = group(rows, (r) => r.platform, (r) => [r.taken_down, r.refused, r.pending]);
  const days = (d) => (d == null ? '–' : t('tr.days', { n: fmtNumber(d) }));
  return section(t('tr.takedowns'), h('p', { class: 'muted' }, t('tr.takedownsIntro')),
    barChart(t('tr.takedownsByMonth'), [...byMonth].map(([m, v]) => ({ label: monthLabel(m), values: v })), series),
    barChart(t('tr.takedownsByPlatform'), [...byPlatform].map(([p, v]) => ({ label: enumLabel('platform', p), values: v })), series),
    dataTable(t('tr.takedownsTable'), [t('tr.month'), t('tr.platform'), t('tr.requested'), t('tr.takenDown'), t('tr.refused'), t('tr.pending'), t('tr.median')],
      rows.map((r) => [monthLabel(r.month), enumLabel('platform', r.platform), fmtNumber(r.requested), fmtNumber(r.taken_down),
        fmtNumber(r.refused), fmtNumber(r.pending), days(r.median_days_to_takedown)]), 'tr-takedowns'));
}

function verifiedSection(rows) {
  if (!rows.length) return section(t('tr.verified'), empty(t('tr.none')));
  const one = [{ label: t('tr.verifiedCount'), cls: 'c-info' }];
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
  const series = sev.map((x) => ({ label: t(`alert.severity.${x}`), cls: `c-${x}` }));
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
