// Signing up, in and out, and the account page.
import { t, getLang, setLang } from '../i18n.js';
import { h, add, field, input, section, notice, regionLabel, timeEl } from '../dom.js';
import * as api from '../api.js';
import * as push from '../push.js';
import { onSubmit, regionPicker, busy, renderList, latest } from './parts.js';

function next(ctx) {
  const n = ctx.query.get('next') || '';
  return n.startsWith('#/') && !n.startsWith('#/login') ? n : '#/';
}

export async function login(ctx) {
  const email = input('email', { type: 'email', autocomplete: 'username', required: true, id: 'login-email' });
  const password = input('password', { type: 'password', autocomplete: 'current-password', required: true, id: 'login-password' });
  const form = h('form', { class: 'stack', id: 'login-form', 'aria-labelledby': 'login-h' },
    field(t('field.email'), email), field(t('field.password'), password),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('nav.login'))));
  onSubmit(form, async () => {
    const me = await api.login(email.value.trim(), password.value);
    // The console speaks the account's language from sign-in on.
    if (me?.user?.language && me.user.language !== getLang()) await setLang(me.user.language);
    ctx.go(next(ctx));
  });
  // Sent here because the server refused to renew the session (a 401 on
  // refresh: revoked, expired or suspended), not by the user's own logout.
  const ended = ctx.query.get('ended') ? h('p', { class: 'notice error', role: 'alert', id: 'session-ended' }, t('session.ended')) : null;
  add(ctx.root, h('h1', { id: 'login-h' }, t('nav.login')), ended, form,
    h('p', null, h('a', { href: '#/forgot', id: 'forgot-link' }, t('reset.forgotLink'))),
    h('p', null, t('account.noAccount'), ' ', h('a', { href: '#/signup' }, t('nav.signup'))));
}

export async function signup(ctx) {
  const name = input('name', { autocomplete: 'name', required: true, maxlength: 100, id: 'signup-name' });
  const email = input('email', { type: 'email', autocomplete: 'email', required: true, id: 'signup-email' });
  const password = input('password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, id: 'signup-password' });
  const region = regionPicker({ label: t('field.myRegion'), national: false });
  // Consent is explicit: the person ticks it, and the version of the notice
  // read is sent.
  const n = await api.privacyNotice();
  const agree = h('input', { type: 'checkbox', name: 'privacy_version', required: true, id: 'signup-consent' });
  const form = h('form', { class: 'stack', id: 'signup-form', 'aria-labelledby': 'signup-h' },
    field(t('field.name'), name), field(t('field.email'), email),
    field(t('field.password'), password, t('hint.password')), region.el,
    h('div', { class: 'check' }, agree, h('label', { for: 'signup-consent' }, t('privacy.agree'), ' ',
      h('a', { href: '#/privacy', target: '_blank', rel: 'noopener' }, t('privacy.title')), ` (${n.version})`)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('account.create'))));
  onSubmit(form, async () => {
    const body = { email: email.value.trim(), password: password.value, name: name.value.trim(),
      privacy_version: agree.checked ? n.version : '', language: getLang() };
    const code = region.value();
    if (code) body.region_code = code;
    await api.signup(body);
    ctx.go('#/orgs');
  });
  add(ctx.root, h('h1', { id: 'signup-h' }, t('nav.signup')), h('p', null, t('account.signupIntro')), form,
    h('p', null, t('account.haveAccount'), ' ', h('a', { href: '#/login' }, t('nav.login'))));
}

// profile: who I am and my memberships, with leaving.
export async function profile(ctx) {
  const me = await api.loadMe().catch(() => api.session.me);
  const u = me.user;
  add(ctx.root, h('h1', null, t('nav.me')),
    h('dl', null, h('dt', null, t('field.name')), h('dd', null, u.name), h('dt', null, t('field.email')), h('dd', null, u.email),
      h('dt', null, t('field.role')), h('dd', null, t(`role.${u.role}`)), h('dt', null, t('field.region')), h('dd', null, regionLabel(u.region_code, u.region_name))));
  const ms = me.memberships || [];
  if (u.role === 'volunteer') {
    add(ctx.root, section(t('home.memberships'), ms.length ? h('ul', { class: 'cards' }, ms.map((m) => {
      const leave = h('button', { type: 'button', class: 'danger small' }, m.status === 'pending' ? t('org.withdraw') : t('org.leave'));
      leave.addEventListener('click', () => busy(leave, async () => {
        await api.api('DELETE', `/v1/orgs/${encodeURIComponent(m.org_id)}/memberships/${encodeURIComponent(u.id)}`);
        await api.loadMe();
        ctx.rerender();
      }));
      return h('li', { class: 'card' }, h('h3', null, m.org_name),
        h('div', { class: 'meta' }, h('span', { class: `badge s-${m.status}` }, t(`membership.status.${m.status}`)),
          h('span', null, t(`membership.role.${m.role}`)), h('span', { class: `badge s-${m.org_status}` }, t(`org.status.${m.org_status}`))),
        m.reason ? h('p', null, `${t('membership.reason')}: `, m.reason) : null,
        m.status === 'active' || m.status === 'pending' ? h('div', { class: 'actions' }, leave) : null);
    })) : notice('info', t('home.noOrgs'))));
  }
  add(ctx.root, section(t('notify.title'), h('p', null, t('notify.short'), ' ', h('a', { href: '#/notifications' }, t('notify.manage')))));
  add(ctx.root, section(t('account.privacy'), h('p', null, t('account.privacyText'), ' ',
    h('a', { href: '#/privacy' }, t('privacy.title')), u.privacy_version ? ` (${u.privacy_version})` : '')));
}

// notifications: Web Push on this device, per kind, with what it means.
// Permission is asked only when the person presses the button.
export async function notifications(ctx) {
  const u = api.user();
  add(ctx.root, h('h1', { id: 'notify-h' }, t('notify.title')), h('p', null, t('notify.intro')));
  if (u.role !== 'volunteer') add(ctx.root, notice('info', t('notify.staff')));
  const status = h('p', { id: 'notify-status', role: 'status' });
  const perm = push.permission();
  if (perm === 'unsupported') add(ctx.root, notice('warn', t('notify.unsupported')));
  if (perm === 'denied') add(ctx.root, notice('warn', t('notify.denied')));
  let mine = await push.current().catch(() => null);
  const boxes = push.EVENTS.map((ev) => {
    const box = h('input', { type: 'checkbox', name: 'events', value: ev, id: `notify-${ev.split('.')[0]}`,
      checked: mine ? mine.events.includes(ev) : true });
    return h('div', { class: 'check' }, box, h('label', { for: box.id }, t(`notify.event.${ev}`),
      h('span', { class: 'hint' }, t(`notify.eventHint.${ev}`))));
  });
  const chosen = () => [...ctx.root.querySelectorAll('input[name=events]:checked')].map((b) => b.value);
  const enable = h('button', { type: 'submit', id: 'notify-enable' }, t('notify.enable'));
  const save = h('button', { type: 'submit', id: 'notify-save' }, t('notify.save'));
  const testBtn = h('button', { type: 'button', class: 'secondary', id: 'notify-test' }, t('notify.test'));
  const off = h('button', { type: 'button', class: 'danger', id: 'notify-off' }, t('notify.off'));
  const form = h('form', { class: 'stack', id: 'notify-form', 'aria-labelledby': 'notify-h' },
    h('fieldset', null, h('legend', null, t('notify.choose')), boxes), h('div', { class: 'actions' }, enable, save, testBtn, off));
  const draw = () => {
    status.textContent = mine ? t('notify.on') : t('notify.offState');
    enable.hidden = !!mine || perm === 'unsupported' || perm === 'denied';
    save.hidden = testBtn.hidden = off.hidden = !mine;
  };
  onSubmit(form, async (_, submitter) => {
    const events = chosen();
    mine = submitter === save ? await push.choose(events) : await push.enable(events).catch((err) => {
      if (err instanceof push.PermissionRefused) throw new Error(t('notify.refused'));
      throw err;
    });
    draw();
    ctx.toast(t('notify.saved'));
    await devices.reload();
  });
  testBtn.addEventListener('click', () => busy(testBtn, async () => {
    const r = await push.test();
    ctx.toast(t('notify.testSent', { n: r.devices }));
  }));
  off.addEventListener('click', () => busy(off, async () => {
    await push.disable();
    mine = null;
    draw();
    await devices.reload();
  }));
  const devices = deviceList(() => mine);
  draw();
  add(ctx.root, status, form, section(t('notify.devices'), devices.el), section(t('notify.privacy'), h('p', null, t('notify.privacyText'))));
  await devices.reload();
}

// deviceList lists the account's devices (this one marked), each removable.
// Cards stay in place across reloads (renderList), answers in order (latest).
function deviceList(thisOne) {
  const el = h('ul', { class: 'cards', id: 'notify-devices' });
  const fresh = latest();
  async function reload() {
    const still = fresh();
    const page = await api.api('GET', '/v1/push/subscriptions');
    if (!still()) return;
    const items = (page.items || []).map((s) => ({ ...s, this_device: thisOne()?.id === s.id }));
    renderList(el, items, (s) => {
      const remove = h('button', { type: 'button', class: 'danger small' }, t('notify.remove'));
      remove.addEventListener('click', () => busy(remove, async () => {
        if (thisOne()?.id === s.id) await push.disable();
        else await api.api('DELETE', `/v1/push/subscriptions/${encodeURIComponent(s.id)}`);
        await reload();
      }));
      const host = (() => { try { return new URL(s.endpoint).hostname; } catch { return ''; } })();
      return h('li', { class: 'card' }, h('h3', null, s.this_device ? t('notify.thisDevice') : t('notify.otherDevice')),
        h('div', { class: 'meta' }, h('span', null, t('notify.since'), ' ', timeEl(s.created_at)), h('span', null, host)),
        h('p', null, s.events.length ? s.events.map((ev) => t(`notify.event.${ev}`)).join(' · ') : t('notify.nothing')),
        h('div', { class: 'actions' }, remove));
    }, t('notify.noDevices'));
  }
  return { el, reload };
}
