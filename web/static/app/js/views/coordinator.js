// The coordinator's screens for one organisation: members (pending ones to
// approve or reject, one by one or in bulk; roles), invites, tasks
// (create, assign, close) and the members' reports to review. Every list
// updates live from the feed.
import { t } from '../i18n.js';
import { h, add, field, input, textarea, select, enumOptions, section, notice, badge, timeEl } from '../dom.js';
import { api, act, session, user, withQuery } from '../api.js';
import { busy, onSubmit, regionPicker, reportCard, renderList, latest } from './parts.js';
import { taskCard, KINDS, PLATFORMS } from './volunteer.js';

const TABS = ['members', 'invites', 'tasks', 'reports'];

export async function manage(ctx) {
  const orgID = ctx.parts[1] || '';
  const tab = TABS.includes(ctx.parts[2]) ? ctx.parts[2] : 'members';
  const m = (session.me?.memberships || []).find((x) => x.org_id === orgID && x.role === 'coordinator' && x.status === 'active');
  if (!m) { add(ctx.root, notice('error', t('problem.forbidden'))); return; }
  const org = await api('GET', `/v1/orgs/${encodeURIComponent(orgID)}`);
  const base = `#/org/${encodeURIComponent(orgID)}`;
  add(ctx.root, h('h1', null, org.name),
    h('div', { class: 'meta' }, badge('org.status', org.status), h('span', null, t('org.members', { n: org.member_count }))),
    org.status !== 'accredited' ? notice('info', t('coord.notAccredited')) : null,
    h('nav', { class: 'tabs', 'aria-label': t('coord.sections') }, TABS.map((x) =>
      h('a', { href: `${base}/${x}`, 'aria-current': x === tab ? 'page' : null }, t(`coord.tab.${x}`)))));
  await ({ members, invites, tasks: orgTasks, reports })[tab](ctx, orgID);
}

const path = (orgID, rest = '') => `/v1/orgs/${encodeURIComponent(orgID)}${rest}`;

async function members(ctx, orgID) {
  const pending = h('ul', { class: 'cards', id: 'pending-list' });
  const active = h('ul', { class: 'cards', id: 'member-list' });
  const all = h('input', { type: 'checkbox', id: 'select-all' });
  const reason = input('reason', { maxlength: 1000, id: 'bulk-reason' });
  const approveSel = h('button', { type: 'button', id: 'bulk-approve' }, t('coord.approveSelected'));
  const rejectSel = h('button', { type: 'button', class: 'danger', id: 'bulk-reject' }, t('coord.rejectSelected'));
  const result = h('div', { role: 'status' });
  const bulk = h('div', { class: 'stack' }, h('div', { class: 'check' }, all, h('label', { for: 'select-all' }, t('coord.selectAll'))),
    field(t('coord.rejectReason'), reason), h('div', { class: 'actions' }, approveSel, rejectSel), result);
  add(ctx.root, section(t('coord.pending'), bulk, pending), section(t('coord.active'), active));

  const decide = (userID, decision) => act(path(orgID, `/memberships/${encodeURIComponent(userID)}/decision`),
    decision === 'reject' && reason.value.trim() ? { decision, reason: reason.value.trim() } : { decision });

  const fresh = latest();
  async function reload() {
    const still = fresh();
    const [p, a] = await Promise.all([api('GET', withQuery(path(orgID, '/memberships'), { status: 'pending', limit: 200 })),
      api('GET', withQuery(path(orgID, '/memberships'), { status: 'active', limit: 200 }))]);
    if (!still()) return;
    renderList(pending, p.items, (mm) => {
      const box = h('input', { type: 'checkbox', id: `pick-${mm.user_id}`, dataset: { user: mm.user_id } });
      const ok = h('button', { type: 'button', class: 'small' }, t('coord.approve'));
      const no = h('button', { type: 'button', class: 'danger small' }, t('coord.reject'));
      const bar = h('div', { class: 'actions' }, ok, no);
      ok.addEventListener('click', () => busy(ok, async () => { await decide(mm.user_id, 'approve'); await reload(); }, bar));
      no.addEventListener('click', () => busy(no, async () => { await decide(mm.user_id, 'reject'); await reload(); }, bar));
      return h('li', { class: 'card', dataset: { member: mm.user_id } },
        h('div', { class: 'check' }, box, h('label', { for: box.id }, mm.user_name || mm.user_id)),
        h('div', { class: 'meta' }, h('span', null, `${t('coord.asked')} `, timeEl(mm.created_at))), bar);
    }, t('coord.noPending'));
    all.checked = false;
    renderList(active, a.items, memberRow, t('coord.noMembers'));
  }

  function memberRow(mm) {
    const role = select('role', enumOptions('membership.role', ['member', 'coordinator']), mm.role);
    const save = h('button', { type: 'button', class: 'secondary small' }, t('coord.saveRole'));
    const remove = h('button', { type: 'button', class: 'danger small' }, t('coord.remove'));
    const bar = h('div', { class: 'actions' }, save, mm.user_id !== user().id ? remove : null);
    save.addEventListener('click', () => busy(save, async () => {
      await api('PATCH', path(orgID, `/memberships/${encodeURIComponent(mm.user_id)}`), { body: { role: role.value } });
      ctx.toast(t('coord.roleSaved'), mm.user_name || '');
      await reload();
    }, bar));
    remove.addEventListener('click', () => busy(remove, async () => {
      if (!window.confirm(t('coord.confirmRemove', { name: mm.user_name || '' }))) return;
      await api('DELETE', path(orgID, `/memberships/${encodeURIComponent(mm.user_id)}`));
      await reload();
    }, bar));
    return h('li', { class: 'card', dataset: { member: mm.user_id } }, h('h3', null, mm.user_name || mm.user_id),
      h('div', { class: 'meta' }, badge('membership.role', mm.role), h('span', null, `${t('coord.since')} `, timeEl(mm.decided_at || mm.created_at))),
      field(t('field.role'), role), bar);
  }

  async function bulkDecide(button, decision) {
    const ids = [...pending.querySelectorAll('input[type="checkbox"]:checked')].map((b) => b.dataset.user);
    if (!ids.length) { result.replaceChildren(notice('info', t('coord.noneSelected'))); return; }
    await busy(button, async () => {
      let ok = 0;
      const failed = [];
      for (const id of ids) {
        try { await decide(id, decision); ok += 1; } catch (err) { failed.push(err); }
      }
      result.replaceChildren(notice(failed.length ? 'error' : 'ok', t(`coord.bulkDone.${decision}`, { ok, failed: failed.length })));
      await reload();
    });
  }
  all.addEventListener('change', () => pending.querySelectorAll('input[type="checkbox"]').forEach((b) => { b.checked = all.checked; }));
  approveSel.addEventListener('click', () => bulkDecide(approveSel, 'approve'));
  rejectSel.addEventListener('click', () => bulkDecide(rejectSel, 'reject'));
  await reload();
  ctx.live(['membership.*'], reload);
}

async function invites(ctx, orgID) {
  const uses = input('max_uses', { type: 'number', min: 1, max: 10000, value: '50', required: true, id: 'invite-uses' });
  const days = input('days', { type: 'number', min: 1, max: 90, value: '7', required: true, id: 'invite-days' });
  const out = h('div', { id: 'invite-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack', id: 'invite-form' }, h('div', { class: 'row' }, field(t('field.maxUses'), uses), field(t('field.validDays'), days)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('coord.makeInvite'))));
  onSubmit(form, async () => {
    const expires = new Date(Date.now() + Number(days.value) * 86400000).toISOString();
    const inv = await act(path(orgID, '/invites'), { max_uses: Number(uses.value), expires_at: expires });
    const copy = h('button', { type: 'button', class: 'secondary small' }, t('coord.copy'));
    copy.addEventListener('click', () => navigator.clipboard?.writeText(inv.code).then(() => ctx.toast(t('coord.copied'))).catch(() => {}));
    out.prepend(h('div', { class: 'card' }, h('p', null, t('coord.inviteMade')), h('p', null, h('span', { class: 'code', id: 'invite-code' }, inv.code), ' ', copy),
      h('p', { class: 'muted' }, t('coord.inviteInfo', { n: inv.max_uses }), ' ', timeEl(inv.expires_at))));
  });
  add(ctx.root, section(t('coord.tab.invites'), h('p', { class: 'muted' }, t('coord.inviteIntro')), form, out));
}

async function orgTasks(ctx, orgID) {
  const title = input('title', { required: true, minlength: 3, maxlength: 200, id: 'task-title' });
  const desc = textarea('description', { maxlength: 5000, id: 'task-desc' });
  const kind = select('kind', enumOptions('kind', KINDS), 'social_media', { id: 'task-kind' });
  const platform = select('platform', enumOptions('platform', PLATFORMS, t('common.none')), 'facebook', { id: 'task-platform' });
  const target = input('target', { maxlength: 2048, id: 'task-target' });
  const slots = input('slots', { type: 'number', min: 1, max: 1000, value: '1', required: true, id: 'task-slots' });
  const lease = input('lease_minutes', { type: 'number', min: 5, max: 1440, value: '120', required: true, id: 'task-lease' });
  const due = input('due_at', { type: 'datetime-local', id: 'task-due' });
  const region = regionPicker({ label: t('field.taskRegion') });
  const form = h('form', { class: 'stack', id: 'task-form' }, field(t('field.title'), title), field(t('field.description'), desc),
    h('div', { class: 'row' }, field(t('field.kind'), kind), field(t('field.platform'), platform)),
    field(t('field.target'), target, t('hint.target')), h('div', { class: 'row' }, field(t('field.slots'), slots), field(t('field.lease'), lease)),
    field(t('field.due'), due), region.el, h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('coord.createTask'))));
  const list = h('ul', { class: 'cards', id: 'org-tasks' });
  const membersP = api('GET', withQuery(path(orgID, '/memberships'), { status: 'active', limit: 200 })).then((p) => p.items).catch(() => []);
  onSubmit(form, async () => {
    const body = { org_id: orgID, title: title.value.trim(), description: desc.value, kind: kind.value,
      slots: Number(slots.value), lease_minutes: Number(lease.value) };
    if (platform.value) body.platform = platform.value;
    if (target.value.trim()) body.target = target.value.trim();
    if (due.value) body.due_at = new Date(due.value).toISOString();
    const code = region.value();
    if (code) body.region_code = code;
    await act('/v1/tasks', body);
    form.reset();
    ctx.toast(t('coord.taskCreated'), body.title);
    await reload();
  });
  add(ctx.root, h('details', null, h('summary', null, t('coord.createTask')), form), section(t('coord.tasks'), list));
  const fresh = latest();
  async function reload() {
    const still = fresh();
    const [page, ms] = await Promise.all([api('GET', withQuery('/v1/tasks', { scope: 'org', org_id: orgID, limit: 100 })), membersP]);
    if (!still()) return;
    renderList(list, page.items, (x) => taskCard(x, x.status === 'open' ? manageTask(x, ms) : null), t('coord.noTasks'));
  }
  function manageTask(x, ms) {
    const who = select('user_id', [['', t('coord.chooseMember')], ...ms.map((mm) => [mm.user_id, mm.user_name || mm.user_id])], '');
    const assign = h('button', { type: 'button', class: 'small' }, t('coord.assign'));
    const close = h('button', { type: 'button', class: 'danger small' }, t('coord.closeTask'));
    const bar = h('div', { class: 'actions' }, assign, close);
    assign.addEventListener('click', () => busy(assign, async () => {
      if (!who.value) return;
      await act(`/v1/tasks/${x.id}/assignments`, { user_id: who.value });
      ctx.toast(t('coord.assigned'), x.title);
      await reload();
    }, bar));
    close.addEventListener('click', () => busy(close, async () => { await act(`/v1/tasks/${x.id}/close`); await reload(); }, bar));
    return [field(t('coord.assignTo'), who), bar];
  }
  await reload();
  ctx.live(['task.*'], reload);
}

async function reports(ctx, orgID) {
  const status = select('status', [['submitted', t('report.status.submitted')], ['', t('common.all')], ['endorsed', t('report.status.endorsed')],
    ['rejected', t('report.status.rejected')], ['verified', t('report.status.verified')]], 'submitted', { id: 'review-status' });
  const list = h('ul', { class: 'cards', id: 'review-list' });
  add(ctx.root, section(t('coord.reviewTitle'), field(t('field.status'), status), list));
  const fresh = latest();
  async function reload() {
    const still = fresh();
    const page = await api('GET', withQuery('/v1/reports', { org_id: orgID, status: status.value, limit: 100 }));
    if (!still()) return;
    renderList(list, page.items, (r) => reportCard(r, r.status === 'submitted' && r.reporter_id !== user().id ? review(r) : null), t('report.none'));
  }
  function review(r) {
    const note = textarea('note', { maxlength: 2000, rows: 2 });
    const form = h('form', { class: 'stack' }, field(t('field.reviewNote'), note, t('hint.rejectNote')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'endorse' }, t('coord.endorse')),
        h('button', { type: 'submit', value: 'reject', class: 'danger' }, t('coord.rejectReport'))));
    onSubmit(form, async (_, submitter) => {
      const decision = submitter?.value === 'reject' ? 'reject' : 'endorse';
      await act(`/v1/reports/${r.id}/review`, note.value.trim() ? { decision, note: note.value.trim() } : { decision });
      await reload();
    });
    return form;
  }
  status.addEventListener('change', reload);
  await reload();
  ctx.live(['report.*'], reload);
}
