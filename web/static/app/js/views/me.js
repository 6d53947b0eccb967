// The account screen (profile, password, sessions and devices, data
// export, erasure), the privacy notice and consent, and the forgotten
// password flow.
import { t, fmtTime, getLang, setLang } from '../i18n.js';
import { h, add, field, input, select, section, notice } from '../dom.js';
import * as api from '../api.js';
import { onSubmit, regionPicker, busy } from './parts.js';
import { profile } from './account.js';

// account is #/me: who I am and my memberships, then what I can change.
export async function account(ctx) {
  await profile(ctx);
  const u = api.user();
  add(ctx.root, profileForm(ctx, u), passwordForm(ctx), await sessionsSection(ctx), exportSection(), eraseSection(ctx));
}

function profileForm(ctx, u) {
  const name = input('name', { autocomplete: 'name', required: true, maxlength: 100, value: u.name, id: 'me-name' });
  const lang = select('language', [['id', 'Bahasa Indonesia'], ['en', 'English']], u.language || 'id', { id: 'me-language' });
  const region = u.role === 'volunteer' ? regionPicker({ label: t('field.myRegion'), value: u.region_code || '' }) : null;
  const form = h('form', { class: 'stack', id: 'me-form' }, field(t('field.name'), name), region?.el,
    field(t('field.language'), lang), h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('action.save'))));
  onSubmit(form, async () => {
    const body = { name: name.value.trim(), language: lang.value };
    if (region) body.region_code = region.value() || '';
    await api.api('PATCH', '/v1/me', { body });
    await api.loadMe();
    if (lang.value !== getLang()) await setLang(lang.value); // redraws
    else ctx.rerender();
    ctx.toast(t('me.saved'));
  });
  return section(t('me.profile'), form);
}

function passwordForm(ctx) {
  const cur = input('current_password', { type: 'password', autocomplete: 'current-password', required: true, id: 'pw-current' });
  const next = input('new_password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, id: 'pw-new' });
  const again = input('again', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, id: 'pw-again' });
  const form = h('form', { class: 'stack', id: 'password-form' }, field(t('me.currentPassword'), cur),
    field(t('me.newPassword'), next, t('hint.password')), field(t('me.newPasswordAgain'), again),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('me.changePassword'))));
  onSubmit(form, async () => {
    if (next.value !== again.value) throw new api.ApiError(422, { detail: t('me.passwordsDiffer'), errors: [{ field: 'again', message: t('me.passwordsDiffer') }] });
    const r = await api.api('POST', '/v1/me/password', { body: { current_password: cur.value, new_password: next.value } });
    api.newSession(r);
    form.reset();
    ctx.toast(t('me.passwordChanged'), t('me.othersOut'));
    ctx.rerender();
  });
  return section(t('me.password'), h('p', null, t('me.passwordIntro')), form);
}

async function sessionsSection(ctx) {
  const s = await api.api('GET', '/v1/me/sessions');
  const row = (kind, item, label) => {
    const btn = h('button', { type: 'button', class: 'danger small' }, t('me.revoke'));
    btn.addEventListener('click', () => busy(btn, async () => {
      await api.api('DELETE', `/v1/me/${kind}/${encodeURIComponent(item.id)}`);
      ctx.rerender();
    }));
    return h('li', { class: 'card' }, h('strong', null, label),
      h('div', { class: 'meta' }, h('span', null, `${t('me.since')} ${fmtTime(item.created_at)}`),
        h('span', null, `${t('me.lastUsed')} ${fmtTime(item.last_used_at)}`)), h('div', { class: 'actions' }, btn));
  };
  return section(t('me.sessions'), h('p', null, t('me.sessionsIntro')),
    h('ul', { class: 'cards', id: 'sessions' }, s.sessions.map((x, i) => row('sessions', x, `${t('me.session')} ${i + 1}`))),
    h('h3', null, t('me.devices')),
    h('ul', { class: 'cards', id: 'devices' }, s.devices.map((x, i) => row('devices', x, `${t('me.device')} ${i + 1}`))));
}

function exportSection() {
  const day = new Date().toISOString().slice(0, 10);
  const json = h('button', { type: 'button', id: 'export-json' }, t('me.exportJSON'));
  const zip = h('button', { type: 'button', id: 'export-zip', class: 'secondary' }, t('me.exportZip'));
  json.addEventListener('click', () => busy(json, () => api.download('/v1/me/export', `jarimu-data-${day}.json`)));
  zip.addEventListener('click', () => busy(zip, () => api.download('/v1/me/export?format=zip', `jarimu-data-${day}.zip`)));
  return section(t('me.export'), h('p', null, t('me.exportIntro')), h('div', { class: 'actions' }, json, zip));
}

function eraseSection(ctx) {
  const pw = input('password', { type: 'password', autocomplete: 'current-password', required: true, id: 'erase-password' });
  const sure = h('input', { type: 'checkbox', name: 'sure', required: true, id: 'erase-sure' });
  const form = h('form', { class: 'stack danger-zone', id: 'erase-form' },
    notice('warning', h('strong', null, t('me.eraseWarningTitle')), ' ', t('me.eraseWarning')),
    h('div', { class: 'check' }, sure, h('label', { for: 'erase-sure' }, t('me.eraseSure'))),
    field(t('me.erasePassword'), pw),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('me.erase'))));
  onSubmit(form, async () => {
    await api.eraseMe(pw.value);
    ctx.toast(t('me.erased'));
    ctx.go('#/');
  });
  return section(t('me.eraseTitle'), form);
}

// noticeText draws the privacy notice in the console's language.
function noticeText(n) {
  const text = n.languages[getLang()] || n.languages.id;
  return h('article', { class: 'notice-text', id: 'privacy-text' }, h('h2', null, text.title),
    h('p', { class: 'muted' }, t('privacy.version', { version: n.version })),
    text.sections.map((s) => [h('h3', null, s.heading), s.paragraphs.map((p) => h('p', null, p))]));
}

// privacy is #/privacy: the notice, for anyone.
export async function privacy(ctx) {
  add(ctx.root, h('h1', null, t('privacy.title')), noticeText(await api.privacyNotice()));
}

// consent is #/consent: the notice in force, and consenting to it.
export async function consent(ctx) {
  const n = await api.privacyNotice();
  const btn = h('button', { type: 'button', id: 'consent-accept' }, t('privacy.accept'));
  btn.addEventListener('click', () => busy(btn, async () => {
    await api.api('POST', '/v1/me/consent', { body: { version: n.version } });
    await api.loadMe();
    const next = ctx.query.get('next') || '';
    ctx.go(next.startsWith('#/') && !next.startsWith('#/consent') ? next : '#/');
  }));
  add(ctx.root, h('h1', null, t('privacy.consentTitle')), notice('info', t('privacy.consentDue')), noticeText(n),
    h('div', { class: 'actions' }, btn));
}

// forgot is #/forgot: asking for a reset link by mail.
export async function forgot(ctx) {
  const email = input('email', { type: 'email', autocomplete: 'username', required: true, id: 'forgot-email' });
  const form = h('form', { class: 'stack', id: 'forgot-form' }, field(t('field.email'), email),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('reset.send'))));
  onSubmit(form, async () => {
    await api.requestReset(email.value.trim());
    form.replaceWith(notice('info', t('reset.sent')));
  });
  add(ctx.root, h('h1', null, t('reset.forgotTitle')), h('p', null, t('reset.forgotIntro')), form,
    h('p', null, h('a', { href: '#/login' }, t('nav.login'))));
}

// reset is #/reset-password: the new password, with the link's token.
export async function reset(ctx) {
  const token = api.takeResetToken();
  add(ctx.root, h('h1', null, t('reset.title')));
  if (!token) {
    add(ctx.root, notice('error', t('reset.noToken')), h('p', null, h('a', { href: '#/forgot' }, t('reset.askAgain'))));
    return;
  }
  const pw = input('password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, id: 'reset-password' });
  const again = input('again', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, id: 'reset-again' });
  const form = h('form', { class: 'stack', id: 'reset-form' }, field(t('me.newPassword'), pw, t('hint.password')),
    field(t('me.newPasswordAgain'), again), h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('reset.set'))));
  onSubmit(form, async () => {
    if (pw.value !== again.value) throw new api.ApiError(422, { detail: t('me.passwordsDiffer'), errors: [{ field: 'again', message: t('me.passwordsDiffer') }] });
    try {
      await api.confirmReset(token, pw.value);
    } catch (err) {
      if (err.type === 'invalid-reset-token') api.dropResetToken();
      throw err;
    }
    api.dropResetToken();
    form.replaceWith(notice('info', t('reset.done')), h('p', null, h('a', { href: '#/login', id: 'reset-login' }, t('nav.login'))));
  });
  add(ctx.root, h('p', null, t('reset.intro')), form);
}
