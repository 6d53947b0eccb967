// Pieces shared by the views: cards, lists, forms and the region picker.
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { h, add, field, select, input, badge, timeEl, regionLabel, notice, extLink, empty } from '../dom.js';
import { api, problemText, withQuery, ApiError, evidenceURL } from '../api.js';
import { PROVINCES } from '../regions.js';

// showError puts a refusal at the top of form (announced) and marks the
// fields the server named.
export function showError(form, err) {
  clearError(form);
  const box = notice('error', problemText(err));
  box.dataset.formError = '';
  form.prepend(box);
  for (const fe of err?.errors || []) {
    const control = form.querySelector(`[name="${CSS.escape(fe.field)}"]`);
    if (!control) { add(box, h('br'), `${fe.field}: ${fe.message}`); continue; }
    control.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(`${control.id}-err`);
    if (slot) { slot.textContent = fe.message; slot.hidden = false; control.setAttribute('aria-errormessage', slot.id); }
  }
  box.scrollIntoView?.({ block: 'nearest' });
}

export function clearError(form) {
  form.querySelectorAll('[data-form-error]').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  form.querySelectorAll('.error-text').forEach((e) => { e.hidden = true; e.textContent = ''; });
}

// submitForm wires a form: fn(values) runs with the submit button disabled;
// a refusal is shown on the form.
export function onSubmit(form, fn) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btns = form.querySelectorAll('button[type="submit"]');
    btns.forEach((b) => { b.disabled = true; });
    clearError(form);
    try {
      await fn(Object.fromEntries(new FormData(form)), e.submitter);
    } catch (err) {
      console.error(err);
      showError(form, err);
    } finally {
      btns.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

// busy runs fn with button disabled; a refusal is shown next to it.
export async function busy(button, fn, where) {
  button.disabled = true;
  const host = where || button.parentElement;
  host.querySelectorAll(':scope > [data-act-error]').forEach((e) => e.remove());
  try {
    return await fn();
  } catch (err) {
    const box = notice('error', problemText(err));
    box.dataset.actError = '';
    host.append(box);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

const signatures = new WeakMap();

// renderList redraws a list of API objects, keeping the element of every
// object that did not change, where it is: a live update then leaves alone
// the form a user has open or is typing in, and the button being tapped.
export function renderList(list, items, render, emptyText) {
  const old = new Map();
  for (const el of list.children) if (el.dataset.key) old.set(el.dataset.key, el);
  const out = items.map((x) => {
    const sig = JSON.stringify(x);
    const prev = old.get(x.id || x.user_id);
    if (prev && signatures.get(prev) === sig) return prev;
    const el = render(x);
    el.dataset.key = x.id || x.user_id;
    signatures.set(el, sig);
    return el;
  });
  // Elements already in place stay in the page: taking them out and back
  // (replaceChildren) would drop a tap under way, as the browser fires no
  // click on a button that left the page between press and release. What
  // goes is removed first, so the rest need not move.
  const want = out.length ? out : [h('li', { class: 'muted' }, emptyText)];
  const keep = new Set(want);
  for (const n of [...list.childNodes]) if (!keep.has(n)) n.remove();
  want.forEach((el, i) => {
    const at = list.children[i];
    if (at !== el) list.insertBefore(el, at || null);
  });
}

// latest orders a screen's reloads: each takes a ticket before it asks the
// server, and its answer draws unless one asked for later has drawn already.
// Answers can come back out of order (a busy server, a flaky network), and a
// list asked for before a live event must not be drawn over one asked for
// after it; a later reload that fails leaves the earlier answer to draw.
export function latest() {
  let begun = 0;
  let drawn = 0;
  return () => {
    const mine = ++begun;
    return () => {
      if (mine < drawn) return false;
      drawn = mine;
      return true;
    };
  };
}

// pager draws a list page by page: load(cursor) returns a page of the API,
// item(x) the element of one item.
export function pager(list, load, item, emptyText) {
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('common.more'));
  const wrap = h('div', null, list, more);
  let cursor = '';
  const ticket = latest();
  let current = ticket();
  async function next(reset) {
    if (reset) { cursor = ''; current = ticket(); more.hidden = true; }
    const still = current;
    const page = await load(cursor);
    if (!still()) return;
    if (reset) renderList(list, page.items, item, emptyText);
    else add(list, page.items.map(item));
    cursor = page.next_cursor || '';
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => busy(more, () => next(false)));
  return { el: wrap, reload: () => next(true) };
}

// regionPicker picks a region: a province from the list (kept in the app,
// so it works offline) or, searched by name on the server, a regency/city or
// district ("Jakarta Sel" finds Kota Administrasi Jakarta Selatan). within
// limits it to an officer's region; national adds "Nasional"; maxLength 4
// stops at regencies/cities (alerts go no lower).
export function regionPicker({ label, value = '', national = true, within = '', required = false, maxLength = 6 }) {
  const prov = within ? PROVINCES.filter(([c]) => c === within.slice(0, 2)) : PROVINCES;
  const opts = [...(national && !within ? [['', t('region.national')]] : []), ...prov.map(([c, n]) => [c, n])];
  if (!national && !within && !required) opts.unshift(['', t('region.choose')]);
  const p = select('province', opts, (value || within).slice(0, 2), { 'aria-label': label || t('field.province') });
  const locked = within.length >= 4;
  let chosen = locked ? within : (value.length > 2 ? value : '');
  const q = input('region-q', { type: 'search', autocomplete: 'off', placeholder: t('region.searchPlaceholder') });
  const results = h('ul', { class: 'region-results' });
  const picked = h('span', { class: 'region-chosen', 'aria-live': 'polite' });
  const clear = h('button', { type: 'button', class: 'secondary small', onclick: () => { chosen = ''; show(''); } }, t('region.clear'));
  const show = (name) => {
    picked.textContent = chosen ? t('region.chosen', { name: name || chosen }) : '';
    clear.hidden = !chosen || locked;
  };
  show(chosen);
  if (chosen) api('GET', `/v1/regions/${encodeURIComponent(chosen)}`).then((r) => show(r.label), () => {});
  p.addEventListener('change', () => { if (!p.value || !chosen.startsWith(p.value)) { chosen = ''; show(''); } });

  const choose = (r) => {
    p.value = r.code.slice(0, 2);
    chosen = r.code.length > 2 ? r.code : '';
    show(r.label);
    q.value = '';
    results.replaceChildren();
  };
  let timer = 0;
  let seq = 0;
  const search = async () => {
    const text = q.value.trim();
    const n = ++seq;
    if (text.length < 2) { results.replaceChildren(); return; }
    let found;
    try {
      found = (await api('GET', withQuery('/v1/regions', { q: text, limit: 20 }))).items;
    } catch {
      if (n === seq) results.replaceChildren(h('li', { class: 'muted' }, t('region.searchFailed')));
      return;
    }
    if (n !== seq) return;
    found = found.filter((r) => r.code.length <= maxLength && (!within || r.code.startsWith(within)));
    results.replaceChildren(...(found.length ? found.map((r) => h('li', null,
      h('button', { type: 'button', class: 'secondary', dataset: { code: r.code }, onclick: () => choose(r) }, r.label)))
      : [h('li', { class: 'muted' }, t('region.none'))]));
  };
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  q.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault(); // Enter picks, it does not send the form
    results.querySelector('button')?.click();
  });

  const el = h('fieldset', { class: 'stack region-picker' }, h('legend', null, label || t('field.region')),
    field(t('field.province'), p),
    locked ? null : field(t('field.regionSearch'), q, t('hint.regionSearch')),
    locked ? null : results,
    h('p', { class: 'muted' }, picked, ' ', clear));
  return { el, value: () => chosen || p.value || null };
}

// orgCard is one organisation of the public registry.
export function orgCard(o, ...extra) {
  return h('li', { class: 'card', dataset: { org: o.id } },
    h('h3', null, o.name),
    h('div', { class: 'meta' },
      badge('org.status', o.status),
      h('span', null, `${t('org.accreditation')}: ${o.accreditation_number}`),
      h('span', null, `${t('org.until')}: ${fmtDate(o.accredited_until)}`),
      h('span', null, regionLabel(o.region_code, o.region_name)),
      h('span', null, t('org.members', { n: fmtNumber(o.member_count) }))),
    extra);
}

// orgList is the registry with its filters; actions(o) adds controls to
// each card.
export function orgList(actions) {
  const status = select('status', [['', t('common.all')], ...['accredited', 'suspended', 'revoked', 'expired'].map((s) => [s, t(`org.status.${s}`)])], '');
  const region = select('region', [['', t('region.all')], ...PROVINCES], '');
  const list = h('ul', { class: 'cards', id: 'org-list' });
  const p = pager(list, (cursor) => api('GET', withQuery('/v1/orgs', { status: status.value, region: region.value, cursor, limit: 30 })),
    (o) => orgCard(o, actions ? actions(o) : null), t('org.none'));
  status.addEventListener('change', () => p.reload());
  region.addEventListener('change', () => p.reload());
  const filters = h('div', { class: 'row' }, field(t('field.status'), status), field(t('field.province'), region));
  return { el: h('div', { class: 'stack' }, filters, p.el), reload: p.reload };
}

// alertCard is one alert; retracted alerts stay, flagged.
export function alertCard(a, ...extra) {
  return h('li', { class: `card alert-${a.severity}${a.retracted ? ' retracted' : ''}`, dataset: { alert: a.id } },
    h('h3', null, a.title),
    h('div', { class: 'meta' }, badge('alert.severity', a.severity), h('span', null, regionLabel(a.region_code, a.region_name)),
      timeEl(a.published_at), a.category ? h('span', null, t(`category.${a.category}`)) : null),
    a.retracted ? h('p', { class: 'notice info' }, t('alert.retracted', { reason: a.retraction_reason || '' })) : null,
    h('p', { class: 'pre' }, a.body),
    (a.links || []).length ? h('ul', null, a.links.map((l) => h('li', null, extLink(l)))) : null,
    extra);
}

// alertList lists the alerts concerning region ("" = all), newest first.
export function alertList(getRegion, extra) {
  const list = h('ul', { class: 'cards', id: 'alert-list' });
  const p = pager(list, (cursor) => api('GET', withQuery('/v1/alerts', { region: getRegion(), cursor, limit: 20 })),
    (a) => alertCard(a, extra ? extra(a) : null), t('alert.none'));
  return p;
}

// reportCard shows a report; every piece of it is text.
export function reportCard(r, ...extra) {
  const td = r.takedown?.length ? r.takedown[r.takedown.length - 1] : null;
  return h('li', { class: 'card', dataset: { report: r.id } },
    h('h3', null, extLink(r.url)),
    h('div', { class: 'meta' }, badge('report.status', r.status), h('span', null, t(`category.${r.category}`)),
      h('span', null, t(`platform.${r.platform}`)), h('span', null, regionLabel(r.region_code, r.region_name)), timeEl(r.observed_at),
      h('span', { class: 'cluster' }, t('report.cluster', { n: r.cluster_size }))),
    h('p', { class: 'pre summary' }, r.summary),
    r.public_summary ? h('p', { class: 'pre public-summary' }, `${t('report.publicSummary')}: `, r.public_summary) : null,
    r.review_note ? h('p', null, `${t('report.reviewNote')}: `, r.review_note) : null,
    r.verification_note ? h('p', null, `${t('report.verifyNote')}: `, r.verification_note) : null,
    r.duplicate_of ? h('p', { class: 'muted' }, `${t('report.duplicateOf')}: ${r.duplicate_of}`) : null,
    td ? h('p', null, `${t('report.takedown')}: `, badge('takedown', td.status), td.platform_ref ? ` (${td.platform_ref})` : '') : null,
    r.evidence?.length ? evidence(r) : null,
    h('p', { class: 'muted' }, `ID ${r.id}`),
    extra);
}

// evidence lists a report's files; they load (with the token) on demand,
// images shown from blob: URLs.
function evidence(r) {
  const show = h('button', { type: 'button', class: 'secondary small' }, t('report.showEvidence'));
  const out = h('div', { class: 'evidence' });
  show.addEventListener('click', () => busy(show, async () => {
    out.replaceChildren();
    for (const ev of r.evidence) {
      const url = await evidenceURL(r.id, ev.sha256);
      add(out, ev.content_type.startsWith('image/')
        ? h('img', { src: url, alt: t('report.evidenceImage'), class: 'proof' })
        : h('a', { href: url, download: `${ev.sha256.slice(0, 12)}.pdf` }, t('report.evidencePDF')));
    }
    show.hidden = true;
  }));
  return h('div', null, h('p', { class: 'muted' }, t('report.evidence', { n: r.evidence.length }), ' ', show), out);
}

export { empty };
