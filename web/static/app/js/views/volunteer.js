// The volunteer's screens: tasks and claims, reporting a finding (through
// the outbox), my reports, and the live feed.
import { t, fmtTime } from '../i18n.js';
import { h, add, field, input, textarea, select, enumOptions, section, notice, timeEl, regionLabel, extLink, badge } from '../dom.js';
import { api, act, session, user, withQuery } from '../api.js';
import * as outbox from '../outbox.js';
import * as feed from '../feed.js';
import { busy, onSubmit, regionPicker, reportCard, renderList, latest } from './parts.js';

export const CATEGORIES = ['disinformation', 'hate_speech', 'sara', 'money_politics', 'black_campaign', 'asn_neutrality', 'campaign_violation', 'other'];
export const PLATFORMS = ['facebook', 'instagram', 'x', 'tiktok', 'youtube', 'whatsapp', 'telegram', 'web', 'offline'];
export const KINDS = ['social_media', 'tps', 'fact_check', 'other'];
const OUTCOMES = ['done', 'content_gone', 'not_applicable'];

const orgName = (id) => (id ? (session.me?.memberships || []).find((m) => m.org_id === id)?.org_name || t('task.org') : t('task.national'));

// slotsText is "2 of 3 slots free".
export const slotsText = (task) => t('task.slots', { free: Math.max(0, task.slots - task.slots_taken), total: task.slots });

function target(task) {
  if (!task.target) return null;
  return h('p', null, `${t('task.target')}: `, /^https?:\/\//i.test(task.target) ? extLink(task.target) : task.target);
}

// leaseLeft renders the time left on a lease as h:mm:ss.
function leaseLeft(iso) {
  const s = Math.max(0, Math.round((new Date(iso) - Date.now()) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return { text: `${hh}:${mm}:${ss}`, soon: s < 600 };
}

export function taskCard(task, ...extra) {
  return h('li', { class: 'card', dataset: { task: task.id } },
    h('h3', null, task.title),
    h('div', { class: 'meta' }, badge('task.status', task.status), h('span', null, orgName(task.org_id)),
      h('span', null, t(`kind.${task.kind}`)), task.platform ? h('span', null, t(`platform.${task.platform}`)) : null,
      h('span', null, regionLabel(task.region_code, task.region_name)),
      task.due_at ? h('span', null, `${t('task.due')}: `, timeEl(task.due_at)) : null),
    task.description ? h('p', { class: 'pre' }, task.description) : null,
    target(task),
    h('p', { class: 'slots', dataset: { slotsFor: task.id } }, slotsText(task)),
    extra);
}

function claimControls(task, reload) {
  const c = task.my_claim;
  if (!c) return null; // released or lapsed between the server's two reads: the next reload drops the task
  if (c.status !== 'active') return h('p', null, badge('claim.status', c.status), c.outcome ? ` ${t(`outcome.${c.outcome}`)}` : '');
  const left = h('span', { class: 'lease', dataset: { lease: c.lease_expires_at } }, leaseLeft(c.lease_expires_at).text);
  const extend = h('button', { type: 'button', class: 'secondary small' }, t('claim.extend'));
  const release = h('button', { type: 'button', class: 'danger small' }, t('claim.release'));
  const bar = h('div', { class: 'actions' }, extend, release,
    h('a', { class: 'button small secondary', href: `#/report?claim=${encodeURIComponent(c.id)}` }, t('claim.report')));
  extend.addEventListener('click', () => busy(extend, async () => { await act(`/v1/claims/${c.id}/extend`); await reload(); }, bar));
  release.addEventListener('click', () => busy(release, async () => { await act(`/v1/claims/${c.id}/release`); await reload(); }, bar));
  const outcome = select('outcome', enumOptions('outcome', OUTCOMES), 'done');
  const note = textarea('note', { maxlength: 2000, rows: 2 });
  const done = h('form', { class: 'stack' }, field(t('field.outcome'), outcome), field(t('field.note'), note),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('claim.complete'))));
  onSubmit(done, async () => {
    await act(`/v1/claims/${c.id}/complete`, { outcome: outcome.value, note: note.value.trim() || undefined });
    await reload();
  });
  return [h('p', null, `${t('claim.leaseLeft')}: `, left, ` (${t('claim.until')} `, timeEl(c.lease_expires_at), ')'), bar,
    h('details', null, h('summary', null, t('claim.complete')), done)];
}

export async function tasks(ctx) {
  add(ctx.root, h('h1', null, t('nav.tasks')));
  const notAcc = (session.me?.memberships || []).filter((m) => m.status === 'active' && m.org_status !== 'accredited');
  for (const m of notAcc) add(ctx.root, notice('info', t('task.orgNotAccredited', { org: m.org_name, status: t(`org.status.${m.org_status}`) })));
  const mine = h('ul', { class: 'cards', id: 'my-tasks' });
  const avail = h('ul', { class: 'cards', id: 'available-tasks' });
  add(ctx.root, section(t('task.mine'), mine), section(t('task.available'), avail));
  const fresh = latest();
  async function reload() {
    const still = fresh();
    const [m, a] = await Promise.all([api('GET', withQuery('/v1/tasks', { scope: 'mine', limit: 100 })),
      api('GET', withQuery('/v1/tasks', { scope: 'available', limit: 100 }))]);
    if (!still()) return;
    renderList(mine, m.items, (x) => taskCard(x, claimControls(x, reload)), t('task.noneMine'));
    renderList(avail, a.items, (x) => {
      const claim = h('button', { type: 'button', dataset: { claim: x.id } }, t('task.claim'));
      const bar = h('div', { class: 'actions' }, claim);
      claim.addEventListener('click', () => busy(claim, async () => {
        await act(`/v1/tasks/${x.id}/claims`);
        ctx.toast(t('task.claimed'), x.title);
        await reload();
      }, bar));
      return taskCard(x, bar);
    }, t('task.noneAvailable'));
  }
  await reload();
  // A slot taken or freed anywhere shows at once; the lists then reload.
  ctx.on('task.*', (ev) => {
    const d = ev.data || {};
    for (const el of ctx.root.querySelectorAll(`[data-slots-for="${CSS.escape(d.id || '')}"]`)) el.textContent = slotsText(d);
  });
  ctx.live(['task.*', 'assignment.created', 'claim.*', 'membership.*', 'org.*'], reload);
  ctx.every(1000, () => {
    for (const el of ctx.root.querySelectorAll('[data-lease]')) {
      const l = leaseLeft(el.dataset.lease);
      el.textContent = l.text;
      el.classList.toggle('error-text', l.soon);
    }
  });
}

// reportForm: a finding, stored on the device first (outbox) and sent with
// its Idempotency-Key, now or when the network returns.
export async function reportForm(ctx) {
  const me = session.me;
  const claimID = ctx.query.get('claim') || '';
  const orgs = (me.memberships || []).filter((m) => m.status === 'active' && m.org_status === 'accredited');
  const url = input('url', { type: 'url', required: true, placeholder: 'https://', id: 'report-url', inputmode: 'url' });
  const platform = select('platform', enumOptions('platform', PLATFORMS), 'facebook', { id: 'report-platform' });
  const category = select('category', enumOptions('category', CATEGORIES), 'disinformation', { id: 'report-category' });
  const summary = textarea('summary', { required: true, minlength: 10, maxlength: 4000, id: 'report-summary' });
  const org = select('org_id', [['', t('report.noOrg')], ...orgs.map((m) => [m.org_id, m.org_name])], orgs.length === 1 ? orgs[0].org_id : '', { id: 'report-org' });
  const region = regionPicker({ label: t('field.reportRegion'), value: me.user.region_code || '' });
  const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const observed = input('observed_at', { type: 'datetime-local', required: true, value: now, max: now, id: 'report-observed' });
  const files = input('file', { type: 'file', multiple: true, accept: 'image/png,image/jpeg,image/webp,application/pdf', id: 'report-files' });
  const form = h('form', { class: 'stack', id: 'report-form', 'aria-labelledby': 'report-h' },
    claimID ? notice('info', t('report.forClaim')) : field(t('field.org'), org, t('hint.org')),
    field(t('field.url'), url), h('div', { class: 'row' }, field(t('field.platform'), platform), field(t('field.category'), category)),
    field(t('field.summary'), summary, t('hint.summary')), region.el, field(t('field.observedAt'), observed),
    field(t('field.evidence'), files, t('hint.evidence')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'report-submit' }, t('report.send'))));
  onSubmit(form, async () => {
    const body = { url: url.value.trim(), platform: platform.value, category: category.value, summary: summary.value.trim(),
      observed_at: new Date(observed.value).toISOString() };
    if (claimID) body.claim_id = claimID;
    else if (org.value) body.org_id = org.value;
    const code = region.value();
    if (code) body.region_code = code;
    await outbox.enqueue(body, files.files);
    ctx.toast(navigator.onLine ? t('report.sending') : t('report.savedOffline'));
    ctx.go('#/reports');
  });
  add(ctx.root, h('h1', { id: 'report-h' }, t('nav.report')), h('p', { class: 'muted' }, t('report.intro')), form);
}

// myReports: what still waits on this device, then my reports and their
// status.
export async function myReports(ctx) {
  const waiting = h('ul', { class: 'cards', id: 'outbox-list' });
  const sendNow = h('button', { type: 'button', class: 'secondary', id: 'outbox-send' }, t('outbox.sendNow'));
  sendNow.addEventListener('click', () => busy(sendNow, () => outbox.flush()));
  const waitingSection = section(t('outbox.title'), h('p', { class: 'muted' }, t('outbox.intro')), waiting, h('div', { class: 'actions' }, sendNow));
  const list = h('ul', { class: 'cards', id: 'my-reports' });
  add(ctx.root, h('h1', null, t('nav.myReports')), waitingSection, section(t('report.mine'), list));
  // Each report waiting is kept while it does not change (renderList): an
  // upload's progress redraws its own card, not a Discard being tapped on
  // another.
  const freshWaiting = latest();
  async function drawWaiting() {
    const still = freshWaiting();
    const all = await outbox.list();
    if (!still()) return;
    waitingSection.hidden = !all.length;
    const items = all.map((i) => ({ ...i, id: i.key, progress: outbox.progressOf(i.key) }));
    renderList(waiting, items, (i) => {
      const p = i.progress;
      const discard = h('button', { type: 'button', class: 'danger small' }, t('outbox.discard'));
      discard.addEventListener('click', () => busy(discard, () => outbox.discard(i.key)));
      return h('li', { class: 'card', dataset: { outbox: i.key, state: i.state } },
        h('p', { class: 'pre' }, i.summary),
        h('div', { class: 'meta' }, badge('outbox.state', i.state), h('span', null, `${t('outbox.written')} `, timeEl(i.createdAt)),
          i.files.length ? h('span', null, t('report.evidence', { n: i.files.length })) : null),
        p != null ? h('progress', { max: 1, value: p, 'aria-label': t('outbox.progress') }) : null,
        i.error ? notice('error', i.error) : null,
        i.state === 'failed' ? h('div', { class: 'actions' }, discard) : null);
    }, '');
  }
  const fresh = latest();
  async function reload() {
    const me = user();
    const still = fresh();
    const page = await api('GET', withQuery('/v1/reports', { limit: 100 }));
    if (!still()) return;
    const mine = page.items.filter((r) => r.reporter_id === me.id);
    renderList(list, mine, (r) => reportCard(r), t('report.none'));
  }
  await drawWaiting();
  await reload().catch((err) => { if (!err.network) throw err; add(list, notice('info', t('error.network'))); });
  ctx.onOutbox((c) => { drawWaiting(); if (c.type === 'sent') reload().catch(() => {}); });
  ctx.live(['report.*'], reload);
}

// describe puts a feed event into words (all data as text).
export function describe(ev) {
  const d = ev.data || {};
  const name = ev.event;
  switch (name) {
    case 'alert.published': return `${t('alert.new')}: ${d.title}`;
    case 'alert.retracted': return `${t('feed.alertRetracted')}: ${d.title}`;
    case 'task.created': return `${t('feed.taskCreated')}: ${d.title}`;
    case 'task.updated': return `${t('feed.taskUpdated')}: ${d.title} — ${slotsText(d)}`;
    case 'task.closed': return `${t('feed.taskClosed')}: ${d.title}`;
    case 'assignment.created': return `${t('toast.assigned')}: ${d.task?.title || ''}`;
    case 'claim.expiring': return t('toast.expiring');
    case 'claim.expired': return `${t('toast.expired')}: ${d.task_title || ''}`;
    case 'claim.released': return `${t('toast.released')}: ${d.task_title || ''}`;
    case 'claim.ended': return `${t('toast.ended')}: ${d.task_title || ''}`;
    case 'membership.requested': return `${t('feed.memberRequested')}: ${d.user_name || ''}`;
    case 'membership.decided': return `${d.org_name || ''}: ${t(`membership.status.${d.status}`)}`;
    case 'membership.role_changed': return `${d.org_name || ''}: ${t(`membership.role.${d.role}`)}`;
    case 'org.accreditation_changed': return `${t('feed.accreditation')}: ${t(`org.status.${d.status}`)}`;
    case 'report.submitted': return `${t('feed.reportSubmitted')}: ${d.deleted ? t('feed.reportDeleted') : (d.summary || '').slice(0, 120)}`;
    case 'report.status_changed': return `${t('toast.reportStatus')}: ${t(`report.status.${d.status}`)}`;
    default: return name;
  }
}

export async function liveFeed(ctx) {
  const state = h('p', { id: 'feed-state', role: 'status' });
  const list = h('ul', { class: 'feedlist', id: 'feed-list' });
  add(ctx.root, h('h1', null, t('nav.feed')), h('p', { class: 'muted' }, t('feed.intro')), state, list);
  const drawState = (s) => { state.textContent = t(`feed.state.${s}`); state.dataset.state = s; };
  ctx.defer(feed.onStatus(drawState));
  const draw = () => list.replaceChildren(...(ctx.recent.length
    ? ctx.recent.map((ev) => h('li', { dataset: { event: ev.event } }, h('time', { datetime: ev.at }, fmtTime(ev.at, { timeStyle: 'short' })), describe(ev)))
    : [h('li', { class: 'muted' }, t('feed.none'))]));
  draw();
  ctx.on('*', () => setTimeout(draw, 0));
  ctx.on('welcome', () => drawState(feed.feedStatus()));
}
