// The Bawaslu officer's screens: the CSO registry (register, suspend,
// revoke, renew), verifying the region's reports and recording takedowns,
// and broadcasting alerts to a region (with retraction and reach).
import { t, fmtNumber } from '../i18n.js';
import { h, add, field, input, textarea, select, enumOptions, section, notice } from '../dom.js';
import { api, act, user, withQuery } from '../api.js';
import { PROVINCES } from '../regions.js';
import { busy, onSubmit, regionPicker, reportCard, orgList, alertList, renderList, latest } from './parts.js';
import { CATEGORIES } from './volunteer.js';

const TABS = ['reports', 'alerts', 'orgs'];

export async function officer(ctx) {
  const tab = TABS.includes(ctx.parts[1]) ? ctx.parts[1] : 'reports';
  await ({ reports, alerts, orgs })[tab](ctx);
}

const myRegion = () => user().region_code || '';
const endOfDay = (d) => new Date(`${d}T23:59:59`).toISOString();

async function orgs(ctx) {
  add(ctx.root, h('h1', null, t('nav.registry')));
  if (!myRegion()) {
    const name = input('name', { required: true, minlength: 2, maxlength: 200, id: 'org-name' });
    const number = input('accreditation_number', { required: true, maxlength: 100, id: 'org-number' });
    const until = input('accredited_until', { type: 'date', required: true, id: 'org-until' });
    const email = input('coordinator_email', { type: 'email', id: 'org-coordinator' });
    const region = regionPicker({ label: t('field.orgRegion') });
    const form = h('form', { class: 'stack', id: 'org-form' }, field(t('field.orgName'), name), field(t('field.accreditationNumber'), number),
      field(t('field.accreditedUntil'), until), region.el, field(t('field.coordinatorEmail'), email, t('hint.coordinatorEmail')),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('officer.register'))));
    onSubmit(form, async () => {
      const body = { name: name.value.trim(), accreditation_number: number.value.trim(), accredited_until: endOfDay(until.value) };
      const code = region.value();
      if (code) body.region_code = code;
      if (email.value.trim()) body.coordinator_email = email.value.trim();
      const o = await act('/v1/orgs', body);
      form.reset();
      ctx.toast(t('officer.registered'), o.name);
      await list.reload();
    });
    add(ctx.root, h('details', null, h('summary', null, t('officer.register')), form));
  } else {
    add(ctx.root, notice('info', t('officer.registerNational')));
  }
  const list = orgList((o) => accreditation(o, () => list.reload()));
  add(ctx.root, section(t('org.title'), list.el));
  await list.reload();
}

function accreditation(o, reload) {
  const actions = o.status === 'revoked' ? [] : o.status === 'accredited' ? ['suspend', 'revoke', 'renew'] : ['renew', 'revoke'];
  if (!actions.length) return null;
  const action = select('action', actions.map((a) => [a, t(`officer.action.${a}`)]), actions[0]);
  const reason = textarea('reason', { required: true, minlength: 3, maxlength: 1000, rows: 2 });
  const until = input('until', { type: 'date' });
  const untilField = field(t('field.renewUntil'), until);
  untilField.hidden = action.value !== 'renew';
  action.addEventListener('change', () => { untilField.hidden = action.value !== 'renew'; until.required = action.value === 'renew'; });
  const form = h('form', { class: 'stack' }, field(t('field.action'), action), field(t('field.reason'), reason), untilField,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('officer.apply'))));
  onSubmit(form, async () => {
    const body = { action: action.value, reason: reason.value.trim() };
    if (action.value === 'renew') body.until = endOfDay(until.value);
    await act(`/v1/orgs/${encodeURIComponent(o.id)}/accreditation`, body);
    await reload();
  });
  return h('details', null, h('summary', null, t('officer.changeAccreditation')), form);
}

async function reports(ctx) {
  const status = select('status', [['', t('common.all')], ...['submitted', 'endorsed', 'verified', 'rejected', 'duplicate'].map((s) => [s, t(`report.status.${s}`)])], ctx.query.get('status') || '', { id: 'verify-status' });
  const category = select('category', enumOptions('category', CATEGORIES, t('common.all')), '', { id: 'verify-category' });
  const within = myRegion();
  const region = select('region', [['', within ? t('region.mine') : t('region.all')], ...PROVINCES.filter(([c]) => !within || c.startsWith(within.slice(0, 2)))], '', { id: 'verify-region' });
  const list = h('ul', { class: 'cards', id: 'verify-list' });
  add(ctx.root, h('h1', null, t('nav.verify')), h('div', { class: 'row' }, field(t('field.status'), status), field(t('field.category'), category)),
    field(t('field.province'), region), list);
  const fresh = latest();
  async function reload() {
    const still = fresh();
    const page = await api('GET', withQuery('/v1/reports', { status: status.value, category: category.value, region: region.value, limit: 100 }));
    if (!still()) return;
    renderList(list, page.items, (r) => reportCard(r, decide(r)), t('report.none'));
  }
  function decide(r) {
    if (r.status === 'submitted' || r.status === 'endorsed') {
      const note = textarea('note', { maxlength: 2000, rows: 2 });
      const dup = input('duplicate_of', { maxlength: 36, autocomplete: 'off' });
      const pub = textarea('public_summary', { minlength: 10, maxlength: 4000, rows: 3 });
      const form = h('form', { class: 'stack' }, field(t('field.verifyNote'), note, t('hint.rejectNote')),
        field(t('field.publicSummary'), pub, t('hint.publicSummary')), field(t('field.duplicateOf'), dup, t('hint.duplicateOf')),
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'verified' }, t('officer.verify')),
          h('button', { type: 'submit', value: 'rejected', class: 'danger' }, t('officer.reject')),
          h('button', { type: 'submit', value: 'duplicate', class: 'secondary' }, t('officer.duplicate'))));
      onSubmit(form, async (_, submitter) => {
        const decision = submitter?.value || 'verified';
        const body = { decision };
        if (note.value.trim()) body.note = note.value.trim();
        if (pub.value.trim()) body.public_summary = pub.value.trim(); // refused unless verified: never dropped unseen
        if (decision === 'duplicate') body.duplicate_of = dup.value.trim();
        await act(`/v1/reports/${r.id}/verification`, body);
        await reload();
      });
      return h('details', null, h('summary', null, t('officer.decide')), form);
    }
    if (r.status === 'verified') {
      const cur = r.takedown?.length ? r.takedown[r.takedown.length - 1].status : '';
      const steps = cur === '' ? ['requested'] : cur === 'requested' ? ['taken_down', 'refused'] : [];
      if (!steps.length) return null;
      const st = select('status', enumOptions('takedown', steps), steps[0]);
      const ref = input('platform_ref', { maxlength: 200 });
      const note = textarea('note', { maxlength: 2000, rows: 2 });
      const form = h('form', { class: 'stack' }, field(t('field.takedownStatus'), st), field(t('field.platformRef'), ref), field(t('field.note'), note),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('officer.recordTakedown'))));
      onSubmit(form, async () => {
        const body = { status: st.value };
        if (ref.value.trim()) body.platform_ref = ref.value.trim();
        if (note.value.trim()) body.note = note.value.trim();
        await act(`/v1/reports/${r.id}/takedown`, body);
        await reload();
      });
      return h('details', null, h('summary', null, t('officer.recordTakedown')), form);
    }
    return null;
  }
  for (const s of [status, category, region]) s.addEventListener('change', reload);
  await reload();
  ctx.live(['report.*'], reload);
}

async function alerts(ctx) {
  const within = myRegion();
  const title = input('title', { required: true, minlength: 3, maxlength: 200, id: 'alert-title' });
  const body = textarea('body', { required: true, maxlength: 5000, id: 'alert-body' });
  const severity = select('severity', enumOptions('alert.severity', ['info', 'warning', 'critical']), 'warning', { id: 'alert-severity' });
  const category = select('category', enumOptions('category', CATEGORIES, t('common.none')), '', { id: 'alert-category' });
  const links = textarea('links', { rows: 2, id: 'alert-links' });
  const region = regionPicker({ label: t('field.alertRegion'), within, national: !within, maxLength: 4 });
  const form = h('form', { class: 'stack', id: 'alert-form' }, field(t('field.title'), title), field(t('field.body'), body),
    h('div', { class: 'row' }, field(t('field.severity'), severity), field(t('field.category'), category)), region.el,
    field(t('field.links'), links, t('hint.links')), h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'alert-send' }, t('officer.broadcast'))));
  const list = alertList(() => within, (a) => alertControls(a));
  onSubmit(form, async () => {
    const req = { title: title.value.trim(), body: body.value.trim(), severity: severity.value };
    const code = region.value();
    if (code) req.region_code = code;
    if (category.value) req.category = category.value;
    const ls = links.value.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ls.length) req.links = ls;
    const a = await act('/v1/alerts', req);
    form.reset();
    ctx.toast(t('officer.broadcasted'), a.title);
    await list.reload();
  });
  function alertControls(a) {
    const reach = h('button', { type: 'button', class: 'secondary small' }, t('officer.reach'));
    const out = h('p', { role: 'status' });
    const show = async () => {
      const r = await api('GET', `/v1/alerts/${a.id}/reach`);
      out.textContent = t('officer.reachText', { meant: fmtNumber(r.meant), delivered: fmtNumber(r.delivered),
        p50: r.p50_ms == null ? '–' : fmtNumber(Math.round(r.p50_ms)), p90: r.p90_ms == null ? '–' : fmtNumber(Math.round(r.p90_ms)),
        pushed: fmtNumber(r.pushed || 0), displayed: fmtNumber(r.displayed || 0) });
    };
    // Acks are written once a second: the figures follow every 3 s while
    // they are on screen (for 2 minutes after a click).
    let timer = 0;
    reach.addEventListener('click', () => busy(reach, async () => {
      await show();
      clearInterval(timer);
      let n = 0;
      timer = setInterval(() => {
        if (!out.isConnected || ++n > 40) { clearInterval(timer); return; }
        show().catch(() => {});
      }, 3000);
    }));
    const parts = [h('div', { class: 'actions' }, reach), out];
    if (!a.retracted) {
      const reason = textarea('reason', { required: true, minlength: 3, maxlength: 1000, rows: 2 });
      const f = h('form', { class: 'stack' }, field(t('field.retractReason'), reason),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('officer.retract'))));
      onSubmit(f, async () => { await act(`/v1/alerts/${a.id}/retraction`, { reason: reason.value.trim() }); await list.reload(); });
      parts.push(h('details', null, h('summary', null, t('officer.retract')), f));
    }
    return parts;
  }
  add(ctx.root, h('h1', null, t('nav.broadcast')), h('details', { open: true }, h('summary', null, t('officer.newAlert')), form),
    section(t('officer.alertsOfRegion'), list.el));
  await list.reload();
  ctx.live(['alert.*'], list.reload);
}
