// Public screens (no login): home, the registry of accredited CSOs and the
// latest alerts by region.
import { t } from '../i18n.js';
import { h, add, field, select, section, notice, regionLabel } from '../dom.js';
import { api, session, signedIn, user, act } from '../api.js';
import { PROVINCES } from '../regions.js';
import * as outbox from '../outbox.js';
import { orgList, alertList, alertCard, busy, onSubmit } from './parts.js';

export async function home(ctx) {
  const me = session.me;
  if (!me) return publicHome(ctx);
  const u = me.user;
  const staff = u.role !== 'volunteer';
  add(ctx.root, h('h1', null, t('home.hello', { name: u.name })),
    h('p', { class: 'muted' }, `${t(`role.${u.role}`)} · ${regionLabel(u.region_code, u.region_name)}`));
  const alerts = alertList(() => u.region_code || '');
  const alertSection = section(t('home.alerts', { region: regionLabel(u.region_code, u.region_name) }), alerts.el);
  if (staff) {
    add(ctx.root, h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/officer/reports' }, t('nav.verify')),
      h('a', { class: 'button secondary', href: '#/officer/alerts' }, t('nav.broadcast')),
      h('a', { class: 'button secondary', href: '#/officer/orgs' }, t('nav.registry'))), alertSection);
  } else {
    const waiting = (await outbox.list().catch(() => [])).length;
    if (waiting) add(ctx.root, notice('info', t('outbox.count', { n: waiting }), ' ', h('a', { href: '#/reports' }, t('outbox.see'))));
    const ms = me.memberships || [];
    add(ctx.root, h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/tasks' }, t('nav.tasks')),
      h('a', { class: 'button secondary', href: '#/report' }, t('nav.report'))), alertSection,
    section(t('home.memberships'), ms.length ? h('ul', { class: 'cards' }, ms.map((m) => h('li', { class: 'card' },
      h('h3', null, m.org_name),
      h('div', { class: 'meta' }, h('span', { class: `badge s-${m.status}` }, t(`membership.status.${m.status}`)),
        h('span', null, t(`membership.role.${m.role}`)),
        m.org_status !== 'accredited' ? h('span', { class: `badge s-${m.org_status}` }, t(`org.status.${m.org_status}`)) : null),
      m.org_status !== 'accredited' && m.status === 'active' ? h('p', null, t('home.orgNotAccredited')) : null,
      m.reason ? h('p', null, `${t('membership.reason')}: `, m.reason) : null)))
      : h('p', null, t('home.noOrgs'), ' ', h('a', { href: '#/orgs' }, t('home.findOrg')))));
  }
  ctx.live(['alert.*'], alerts.reload);
  await alerts.reload();
}

async function publicHome(ctx) {
  add(ctx.root, h('h1', null, t('home.title')), h('p', null, t('home.intro')),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/signup' }, t('nav.signup')),
      h('a', { class: 'button secondary', href: '#/login' }, t('nav.login')),
      h('a', { class: 'button secondary', href: '#/orgs' }, t('nav.orgs'))));
  const alerts = alertList(() => '');
  add(ctx.root, section(t('home.latestAlerts'), alerts.el),
    section(t('tr.title'), h('p', null, t('home.transparency')), h('p', null, h('a', { href: '#/transparency', class: 'button secondary' }, t('home.transparencyLink')))));
  await alerts.reload();
  ctx.every(60000, alerts.reload);
}

// registry: the public list; a volunteer can ask to join (with or without
// an invite code) from it.
export async function registry(ctx) {
  add(ctx.root, h('h1', null, t('org.title')), h('p', { class: 'muted' }, t('org.intro')));
  const mine = new Map((session.me?.memberships || []).map((m) => [m.org_id, m]));
  const canJoin = signedIn() && user().role === 'volunteer';
  const list = orgList(canJoin ? (o) => joinControls(o, mine.get(o.id), ctx) : null);
  add(ctx.root, list.el);
  await list.reload();
}

function joinControls(o, m, ctx) {
  if (m && (m.status === 'active' || m.status === 'pending')) {
    return h('p', null, h('span', { class: `badge s-${m.status}` }, t(`membership.status.${m.status}`)));
  }
  if (o.status !== 'accredited') return null;
  const code = h('input', { name: 'invite_code', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
  const form = h('form', { class: 'stack', 'aria-label': t('org.joinLabel', { org: o.name }) },
    field(t('field.inviteCode'), code, t('hint.inviteCode')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('org.join'))));
  onSubmit(form, async () => {
    const body = code.value.trim() ? { invite_code: code.value.trim() } : {};
    const mem = await act(`/v1/orgs/${encodeURIComponent(o.id)}/memberships`, body);
    form.replaceWith(notice('ok', mem.status === 'active' ? t('org.joined') : t('org.requested')));
    ctx.toast(mem.status === 'active' ? t('org.joined') : t('org.requested'), o.name);
  });
  return h('details', null, h('summary', null, t('org.join')), form);
}

// alerts: the latest alerts, by region (province by name).
export async function alerts(ctx) {
  const start = ctx.query.get('region') || (user()?.region_code || '').slice(0, 2);
  const region = select('region', [['', t('region.allAlerts')], ...PROVINCES], start);
  add(ctx.root, h('h1', null, t('alert.title')));
  // #/alerts/<id> (where a notification leads): that alert first.
  if (ctx.parts[1]) {
    const one = await api('GET', `/v1/alerts/${encodeURIComponent(ctx.parts[1])}`).catch(() => null);
    if (one) add(ctx.root, h('section', { id: 'alert-shown', 'aria-label': t('alert.shown') }, h('h2', null, t('alert.shown')), h('ul', { class: 'cards' }, alertCard(one))));
  }
  add(ctx.root, field(t('field.province'), region, t('hint.alertRegion')));
  const list = alertList(() => region.value);
  add(ctx.root, list.el);
  region.addEventListener('change', () => list.reload());
  await list.reload();
  if (signedIn()) ctx.live(['alert.*'], list.reload);
  else ctx.every(60000, list.reload);
}

export { busy };
