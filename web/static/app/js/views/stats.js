// The Statistik view: charts of findings, the verification funnel,
// takedowns, alert reach and provinces, for officers (their region) and
// coordinators (an org they coordinate), over a period they choose.
import { t, fmtNumber, fmtTime } from '../i18n.js';
import { h, add, field, input, select, notice, section, regionLabel } from '../dom.js';
import { api, user, session, withQuery } from '../api.js';
import { stackedBars, lines, hbars, bar } from '../charts.js';
import { CATEGORIES } from './volunteer.js';

const STATUSES = ['submitted', 'endorsed', 'verified', 'rejected', 'duplicate'];
const iso = (d) => d.toISOString().slice(0, 10);
const shift = (day, n) => { const d = new Date(`${day}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return iso(d); };
const short = (day) => fmtTime(`${day}T12:00:00Z`, { day: 'numeric', month: 'short', timeZone: 'UTC' });

export async function stats(ctx) {
  const staff = ['officer', 'admin'].includes(user().role);
  const orgs = (session.me?.memberships || []).filter((m) => m.role === 'coordinator' && m.status === 'active');
  add(ctx.root, h('h1', null, t('stats.title')));
  if (!staff && !orgs.length) {
    add(ctx.root, notice('info', t('stats.only')));
    return;
  }
  const today = iso(new Date());
  const to = ctx.query.get('to') || today;
  const from = ctx.query.get('from') || shift(to, -29);
  const org = staff ? null : orgs.find((m) => m.org_id === ctx.query.get('org')) || orgs[0];
  add(ctx.root, picker(ctx, { from, to, today, orgs: staff ? null : orgs, org }),
    h('p', { class: 'muted', id: 'stats-scope' }, t('stats.scope', {
      who: org ? org.org_name : regionLabel(user().region_code), from: short(from), to: short(to),
    })));
  const q = { from, to, org_id: org?.org_id };
  const get = (name) => api('GET', withQuery(`/v1/stats/${name}`, q));
  const [findings, funnel, takedowns, provinces, alerts] = await Promise.all([
    get('findings'), get('funnel'), get('takedowns'), get('provinces'), staff ? allAlerts(q) : null]);
  add(ctx.root,
    section(t('stats.findings'), findingsChart(findings, from, to)),
    section(t('stats.funnel'), funnelChart(funnel)),
    section(t('stats.takedowns'), takedownChart(takedowns)),
    alerts && section(t('stats.alerts'), alertChart(alerts)),
    section(t('stats.provinces'), provinceTable(provinces)));
}

// allAlerts reads the alert reach of the period page after page (it is a
// list: one page holds at most 200), so the chart shows every alert.
async function allAlerts(q) {
  const items = [];
  let cursor = '';
  do {
    const page = await api('GET', withQuery('/v1/stats/alerts', { ...q, limit: 200, cursor }));
    items.push(...page.items);
    if (page.next_cursor === cursor) break;
    cursor = page.next_cursor || '';
  } while (cursor);
  return { items };
}

// picker chooses the period (and the org of a coordinator of several);
// the choice lives in the address, so a reload or a shared link keeps it.
function picker(ctx, { from, to, today, orgs, org }) {
  const fromI = input('from', { type: 'date', value: from, max: today, required: true, id: 'stats-from' });
  const toI = input('to', { type: 'date', value: to, max: today, required: true, id: 'stats-to' });
  const orgSel = orgs && orgs.length > 1 ? select('org', orgs.map((m) => [m.org_id, m.org_name]), org.org_id, { id: 'stats-org' }) : null;
  const go = (f, tt) => ctx.go(`#/stats?${new URLSearchParams({ from: f, to: tt, ...(org ? { org: orgSel?.value || org.org_id } : {}) })}`);
  const preset = (days) => h('button', { type: 'button', class: 'secondary small', onclick: () => go(shift(today, 1 - days), today) },
    t('stats.lastDays', { n: days }));
  const form = h('form', { class: 'stack', id: 'stats-form' }, orgSel && field(t('stats.org'), orgSel),
    h('div', { class: 'row' }, field(t('stats.from'), fromI), field(t('stats.to'), toI)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('stats.show')), preset(7), preset(30), preset(90)));
  form.addEventListener('submit', (e) => { e.preventDefault(); go(fromI.value, toI.value); });
  return form;
}

function findingsChart(res, from, to) {
  const days = [];
  for (let d = from; d <= to; d = shift(d, 1)) days.push(d);
  const at = new Map(days.map((d, i) => [d, i]));
  const used = CATEGORIES.filter((c) => res.items.some((it) => it.category === c));
  const series = used.map((c) => ({ label: t(`category.${c}`), colour: CATEGORIES.indexOf(c), values: days.map(() => 0) }));
  for (const it of res.items) series[used.indexOf(it.category)].values[at.get(it.day)] = it.reports;
  return stackedBars(t('stats.findings'), days.map(short), series);
}

function funnelChart(res) {
  return hbars(t('stats.funnel'), [{ label: t('stats.filed'), value: res.filed, colour: 7 },
    ...STATUSES.map((s, i) => ({ label: t(`report.status.${s}`), value: res[s], colour: i }))]);
}

function takedownChart(res) {
  const labels = res.items.map((it) => t(`platform.${it.platform}`));
  const series = [['taken_down', 2, t('takedown.taken_down')], ['refused', 0, t('takedown.refused')], ['pending', 3, t('stats.pending')]]
    .map(([k, colour, label]) => ({ label, colour, values: res.items.map((it) => it[k]) }));
  const hours = (v) => (v == null ? '–' : t('stats.hours', { n: fmtNumber(v) }));
  const times = h('table', { class: 'plain', id: 'stats-takedown-times' }, h('caption', null, t('stats.timeToTakedown')),
    h('thead', null, h('tr', null, [t('field.platform'), t('stats.requested'), t('stats.median'), t('stats.p90')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, res.items.map((it, i) => h('tr', null, h('th', { scope: 'row' }, labels[i]), h('td', null, fmtNumber(it.requested)),
      h('td', null, hours(it.median_hours)), h('td', null, hours(it.p90_hours))))));
  return [stackedBars(t('stats.takedowns'), labels, series), res.items.length ? h('div', { class: 'scroll' }, times) : null];
}

function alertChart(res) {
  const labels = res.items.map((a) => fmtTime(a.published_at, { day: 'numeric', month: 'short' }));
  const series = [['pushed', 1, t('stats.pushed')], ['delivered', 2, t('stats.delivered')], ['displayed', 6, t('stats.displayed')]]
    .map(([k, colour, label]) => ({ label, colour, values: res.items.map((a) => a[k]) }));
  return lines(t('stats.alerts'), labels, series, res.items.map((a, i) => `${labels[i]} · ${a.title}${a.retracted ? ` (${t('stats.retracted')})` : ''}`));
}

function provinceTable(res) {
  if (!res.items.length) return h('p', { class: 'muted' }, t('chart.empty'));
  const max = Math.max(...res.items.map((it) => it.reports));
  return h('div', { class: 'scroll' }, h('table', { class: 'plain provinces', id: 'stats-provinces' },
    h('thead', null, h('tr', null, [t('field.province'), t('stats.reports'), t('report.status.verified')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, res.items.map((it) => h('tr', null,
      h('th', { scope: 'row' }, it.province_code === 'national' ? t('region.national') : it.province_name || it.province_code),
      h('td', null, h('span', { class: 'num' }, fmtNumber(it.reports)), bar(it.reports, max, 1)),
      h('td', null, h('span', { class: 'num' }, fmtNumber(it.verified)), bar(it.verified, max, 2)))))));
}
