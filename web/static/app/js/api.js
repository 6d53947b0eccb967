// The REST API and the session.
//
// Tokens: the access token lives only in this module's memory. The refresh
// token is kept as the API returns it, in sessionStorage: it survives a
// reload and a tab restore (and, being per tab, each tab spends its own, as
// the API asks), but not the closing of the tab, and it is never put in a
// URL. Like anything a script can read, it would be exposed to an injected
// script; the strict CSP, Trusted Types and text-only rendering are what
// keep scripts out. The signed-in user's /v1/me is kept next to it so that
// a report can still be written when the app starts offline.
//
// Device token: each signup and login answers one, kept in localStorage (it
// outlives the tab and a logout) and sent with the next login from this
// browser, which the server then lets through even while someone guessing
// the password is being throttled. It grants no access by itself.
import { t, has } from './i18n.js';

const RT = 'jarimu.rt';
const ME = 'jarimu.me';
const DEVICE = 'jarimu.device';

let access = null;
let accessExpires = 0; // ms since epoch
let refreshing = null;
let refreshTimer = 0;
const tokenListeners = new Set();
const sessionListeners = new Set();
const endListeners = new Set();

export const session = { me: null };

// A password reset link carries its token as the page's token query
// parameter: it is taken at once and removed from the address bar (and so
// from the history), and kept in memory for the reset screen.
let resetToken = null;
{
  const q = new URLSearchParams(location.search);
  if (q.has('token')) {
    resetToken = q.get('token');
    q.delete('token');
    const rest = q.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
}
export const takeResetToken = () => resetToken;
export const dropResetToken = () => { resetToken = null; };

// ApiError is a refused or failed call: status 0 is a network failure; type
// is the problem slug ("task-full"), errors the field errors, retryAfter the
// seconds of a Retry-After header (0: none).
export class ApiError extends Error {
  constructor(status, p = {}) {
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.type = (p.type || '').replace(/^\/v1\/problems\//, '') || (status ? 'unknown' : 'network');
    this.title = p.title || '';
    this.detail = p.detail || '';
    this.errors = p.errors || [];
    this.retryAfter = p.retryAfter || 0;
  }
  get network() { return this.status === 0; }
  // transient: the call may work later as it is (the network, a 429, or a
  // server or proxy that cannot answer now: any 5xx).
  get transient() { return this.status === 0 || this.status === 429 || this.status >= 500; }
}

// problemText is a refusal as the user should read it: the translated
// problem type when the console knows it, else the server's detail.
export function problemText(err) {
  if (!(err instanceof ApiError)) return t('error.generic');
  if (err.network) return t('error.network');
  if (has(`problem.${err.type}`)) return t(`problem.${err.type}`);
  return err.detail || err.title || t('error.generic');
}

export const signedIn = () => !!session.me;
export const user = () => session.me?.user || null;
export const onToken = (fn) => tokenListeners.add(fn);
export const onSession = (fn) => sessionListeners.add(fn);
// onSessionEnd registers fn for the end of the session by the server (a
// refresh refused with 401), as opposed to the user's own logout.
export const onSessionEnd = (fn) => endListeners.add(fn);
export const accessToken = () => access;

function readRT() { try { return sessionStorage.getItem(RT); } catch { return null; } }

function readDevice() { try { return localStorage.getItem(DEVICE); } catch { return null; } }

function keepDevice(token) {
  if (!token) return;
  try { localStorage.setItem(DEVICE, token); } catch { /* storage full or disabled */ }
}

function setTokens(tokens) {
  access = tokens.access_token;
  accessExpires = Date.now() + tokens.expires_in * 1000;
  try { sessionStorage.setItem(RT, tokens.refresh_token); } catch { /* storage full or disabled */ }
  // Refresh a minute before expiry so the feed gets its new token in time.
  scheduleRefresh(Math.max(5, tokens.expires_in - 60) * 1000);
  for (const fn of tokenListeners) fn(access);
}

// scheduleRefresh refreshes the tokens after ms; a refresh that cannot be
// made now (the server or the network is down) is tried again after the
// Retry-After, or 5 to 10 s, for as long as the session lasts.
function scheduleRefresh(ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch((err) => {
    if (err.transient && readRT()) scheduleRefresh(Math.max(err.retryAfter * 1000, 5000) * (1 + Math.random()));
  }), ms);
}

function setMe(me) {
  session.me = me;
  try {
    if (me) sessionStorage.setItem(ME, JSON.stringify(me)); else sessionStorage.removeItem(ME);
  } catch { /* ignore */ }
  for (const fn of sessionListeners) fn(me);
}

function clearSession() {
  access = null;
  accessExpires = 0;
  clearTimeout(refreshTimer);
  try { sessionStorage.removeItem(RT); } catch { /* ignore */ }
  setMe(null);
}

// refresh trades the refresh token for a new pair, once at a time. Only a
// 401 ends the session (the listeners of onSessionEnd are told); any other
// failure keeps it (the app may be offline, or the server's database down).
export function refresh() {
  if (refreshing) return refreshing;
  const rt = readRT();
  if (!rt) return Promise.reject(new ApiError(401, { type: 'invalid-refresh-token' }));
  refreshing = raw('POST', '/v1/auth/refresh', { body: { refresh_token: rt } })
    .then((r) => { setTokens(r.tokens); return access; })
    .catch((err) => {
      if (err.status === 401 && readRT() === rt) {
        clearSession();
        for (const fn of endListeners) fn();
      }
      throw err;
    })
    .finally(() => { refreshing = null; });
  return refreshing;
}

// resume restores a session from this tab's refresh token: the cached /me
// at once (so an offline start still knows the user), then fresh tokens.
export async function resume() {
  if (!readRT()) return false;
  try {
    const cached = sessionStorage.getItem(ME);
    if (cached) session.me = JSON.parse(cached);
  } catch { /* ignore */ }
  try {
    await refresh();
    await loadMe();
  } catch (err) {
    // Offline, or the server cannot answer now: keep the session (the feed
    // and the refresh timer try again).
    if (!err.transient) return false;
  }
  for (const fn of sessionListeners) fn(session.me);
  return !!session.me;
}

export async function loadMe() {
  const me = await api('GET', '/v1/me');
  setMe(me);
  return me;
}

export async function login(email, password) {
  const body = { email, password };
  const device = readDevice();
  if (device) body.device_token = device;
  const r = await raw('POST', '/v1/auth/login', { body });
  keepDevice(r.device_token);
  setTokens(r.tokens);
  return loadMe();
}

export async function signup(body) {
  const r = await raw('POST', '/v1/auth/signup', { body });
  keepDevice(r.device_token);
  setTokens(r.tokens);
  return loadMe();
}

// newSession takes the session a password change answers: every other
// session ended, this tab goes on with the new one.
export function newSession(r) {
  keepDevice(r.device_token);
  setTokens(r.tokens);
}

// eraseMe erases the account (irreversible) and ends the session here.
export async function eraseMe(password) {
  await api('DELETE', '/v1/me', { body: { password } });
  clearSession();
}

// requestReset asks for a reset link by mail; confirmReset sets the new
// password with the link's token (no session needed).
export const requestReset = (email) => raw('POST', '/v1/auth/password-reset', { body: { email } });
export const confirmReset = (token, password) => raw('POST', '/v1/auth/password-reset/confirm', { body: { token, password } });
export const privacyNotice = () => raw('GET', '/v1/privacy');

// download fetches an authenticated file and hands it to the browser as a
// download named name.
export async function download(path, name) {
  const tok = await token();
  const res = await fetch(path, { headers: { Authorization: `Bearer ${tok}` }, cache: 'no-store', credentials: 'omit' })
    .catch(() => { throw new ApiError(0); });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, data || {});
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export async function logout() {
  const rt = readRT();
  clearSession();
  if (rt) raw('POST', '/v1/auth/logout', { body: { refresh_token: rt } }).catch(() => {});
}

// token returns a valid access token, refreshing it when it is about to
// expire; null when signed out.
export async function token() {
  if (access && Date.now() < accessExpires - 30000) return access;
  if (!readRT()) return null;
  return refresh();
}

// api calls the API as the signed-in user: one refresh and retry on a 401.
// opts: body (JSON), idem (Idempotency-Key; a bodyless POST then sends {}),
// query (object, empty values left out).
export async function api(method, path, opts = {}) {
  const tok = await token().catch((err) => { if (err.transient) throw err; return null; });
  try {
    return await raw(method, path, { ...opts, token: tok });
  } catch (err) {
    if (err.status === 401 && err.type === 'invalid-token' && readRT()) {
      await refresh();
      return raw(method, path, { ...opts, token: access });
    }
    if (err.status === 403 && err.type === 'consent-required' && !location.hash.startsWith('#/consent')) {
      location.hash = `#/consent?next=${encodeURIComponent(location.hash)}`;
    }
    throw err;
  }
}

export function withQuery(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== '' && v != null) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function raw(method, path, { body, bodyText, idem, token: tok, query } = {}) {
  const headers = { Accept: 'application/json' };
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let payload;
  if (bodyText != null) payload = bodyText;
  else if (body !== undefined) payload = JSON.stringify(body);
  else if (idem && method === 'POST') payload = '{}';
  if (payload != null) headers['Content-Type'] = 'application/json';
  if (idem) headers['Idempotency-Key'] = idem;
  let res;
  try {
    res = await fetch(withQuery(path, query), { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0);
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* empty or not JSON */ }
  if (!res.ok) {
    throw new ApiError(res.status, { ...(data || {}), retryAfter: retryAfter(res.headers.get('Retry-After')) });
  }
  return data;
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) as
// seconds; 0 when absent, unreadable or past.
function retryAfter(v) {
  if (!v) return 0;
  if (/^\d+$/.test(v.trim())) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// upload sends one evidence file (multipart "file") with progress reports;
// uploads are content-addressed, so a repeat stores nothing twice.
export async function upload(reportID, file, onProgress) {
  const send = (tok) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/reports/${encodeURIComponent(reportID)}/evidence`);
    if (tok) xhr.setRequestHeader('Authorization', `Bearer ${tok}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data || {}));
    };
    const fd = new FormData();
    fd.append('file', file, file.name || 'evidence');
    xhr.send(fd);
  });
  try {
    return await send(await token());
  } catch (err) {
    if (err.status === 401 && readRT()) return send(await refresh());
    throw err;
  }
}

// fetchEvidence loads an evidence file with the token (an <img src> cannot
// carry it) and returns an object URL.
export async function evidenceURL(reportID, sha) {
  const tok = await token();
  const res = await fetch(`/v1/reports/${encodeURIComponent(reportID)}/evidence/${encodeURIComponent(sha)}`,
    { headers: { Authorization: `Bearer ${tok}` }, credentials: 'omit' });
  if (!res.ok) throw new ApiError(res.status);
  return URL.createObjectURL(await res.blob());
}

// uuid is a random idempotency key (crypto.randomUUID needs a secure
// context; getRandomValues does not).
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// act runs a POST that changes something, with a fresh Idempotency-Key, so
// that the browser's or the network's retry can never do it twice.
export function act(path, body) {
  return api('POST', path, { body, idem: uuid() });
}
