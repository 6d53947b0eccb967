// Strings. Indonesian is the default; English loads on demand. Every string
// of the console lives in /app/i18n/<lang>.js.
import id from '../i18n/id.js';

let lang = 'id';
let dict = id;
const listeners = new Set();

export const getLang = () => lang;

// t returns the string for key in the current language, with {name}
// placeholders filled from vars (as text, never as markup).
export function t(key, vars) {
  let s = dict[key] ?? id[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

// has reports whether key has a string (for problem types and enums).
export const has = (key) => key in dict || key in id;

export async function setLang(l) {
  dict = l === 'en' ? (await import('../i18n/en.js')).default : id;
  lang = l === 'en' ? 'en' : 'id';
  try { localStorage.setItem('jarimu.lang', lang); } catch { /* private mode */ }
  document.documentElement.lang = lang;
  for (const fn of listeners) fn(lang);
}

export function onLang(fn) { listeners.add(fn); }

export async function initLang() {
  let saved = null;
  try { saved = localStorage.getItem('jarimu.lang'); } catch { /* private mode */ }
  if (saved === 'en') await setLang('en');
}

const locale = () => (lang === 'id' ? 'id-ID' : 'en-GB');

export function fmtTime(iso, opts) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), opts || { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function fmtDate(iso) { return fmtTime(iso, { dateStyle: 'medium' }); }

export function fmtNumber(n) { return new Intl.NumberFormat(locale()).format(n); }
