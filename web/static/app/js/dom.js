// DOM building. Every piece of data becomes a text node or a property:
// nothing is ever parsed as HTML (the CSP enforces Trusted Types as well).
import { t, fmtTime } from './i18n.js';
import { provinceName } from './regions.js';

// h builds an element: h('button', {class: 'x', onclick: fn}, 'text', child).
// Attribute values are set as strings, event handlers must be functions and
// children are nodes or text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) {
      if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' || k === 'checked' || k === 'selected') {
      el[k] = v;
    } else if (k === 'href' || k === 'src') {
      el.setAttribute(k, safeURL(v));
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  add(el, children);
  return el;
}

// add appends children (nested arrays, nodes, text; null and false skipped).
export function add(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// safeURL lets through app-relative links and http(s) URLs only, so a
// "javascript:" URL in data can never become a link.
export function safeURL(u) {
  const s = String(u);
  if (s.startsWith('#') || (s.startsWith('/') && !s.startsWith('//')) || s.startsWith('blob:')) return s;
  try {
    const p = new URL(s);
    if (p.protocol === 'http:' || p.protocol === 'https:') return p.href;
  } catch { /* not a URL */ }
  return '#';
}

// link is an external link that opens safely in a new tab.
export function extLink(url, text) {
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, text || url);
}

let uid = 0;
export const newID = (p = 'f') => `${p}${++uid}`;

// field is a labelled input with an optional hint and a slot for its error.
// control is an element; its name is the API field it edits.
export function field(label, control, hint) {
  const id = control.id || (control.id = newID());
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = newID('h');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('span', { class: 'hint', id: hid }, hint));
  }
  const err = h('span', { class: 'error-text', id: `${id}-err`, hidden: true });
  parts.push(err);
  return h('div', { class: 'field' }, parts);
}

export function input(name, attrs = {}) { return h('input', { name, type: 'text', ...attrs }); }
export function textarea(name, attrs = {}) { return h('textarea', { name, ...attrs }); }

// select builds a <select> from [value, label] pairs.
export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

// enumOptions are the options of an API enum, labelled from the strings.
export function enumOptions(prefix, values, empty) {
  const out = values.map((v) => [v, t(`${prefix}.${v}`)]);
  return empty ? [['', empty], ...out] : out;
}

export function badge(prefix, value) {
  return h('span', { class: `badge s-${value}` }, t(`${prefix}.${value}`));
}

export function timeEl(iso, opts) {
  return iso ? h('time', { datetime: iso }, fmtTime(iso, opts)) : null;
}

// regionLabel names a region: "Nasional", the name the API gives with it
// (region_name: "Kota Administrasi Jakarta Selatan"), or without one the
// province's name, after the code below province level ("3174 · ...").
export function regionLabel(code, name) {
  if (!code) return t('region.national');
  if (name) return name;
  const p = provinceName(code.slice(0, 2)) || code;
  return code.length === 2 ? p : `${code} · ${p}`;
}

// notice is a message box; kind error is announced at once.
export function notice(kind, ...text) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function section(title, ...children) {
  return h('section', { 'aria-label': title }, h('h2', null, title), children);
}

export function empty(text) { return h('p', { class: 'muted' }, text); }
