// The console's shell: start-up, hash routing, navigation, the network
// banner, toasts and the service worker.
import { t, initLang, setLang, getLang, onLang } from './i18n.js';
import { h, add } from './dom.js';
import * as api from './api.js';
import * as feed from './feed.js';
import * as outbox from './outbox.js';
import * as push from './push.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const net = document.getElementById('net');
const toasts = document.getElementById('toasts');

// recent keeps the last feed events for the live feed page.
export const recent = [];

const loaders = {
  public: () => import('./views/public.js'),
  account: () => import('./views/account.js'),
  me: () => import('./views/me.js'),
  volunteer: () => import('./views/volunteer.js'),
  coordinator: () => import('./views/coordinator.js'),
  officer: () => import('./views/officer.js'),
  transparency: () => import('./views/transparency.js'),
  stats: () => import('./views/stats.js'),
};

// routes: first path segment -> [module, export, who may see it].
const routes = {
  '': ['public', 'home', 'any'],
  orgs: ['public', 'registry', 'any'],
  alerts: ['public', 'alerts', 'any'],
  transparency: ['transparency', 'transparency', 'any'],
  login: ['account', 'login', 'out'],
  signup: ['account', 'signup', 'out'],
  me: ['me', 'account', 'in'],
  forgot: ['me', 'forgot', 'out'],
  'reset-password': ['me', 'reset', 'any'],
  consent: ['me', 'consent', 'in'],
  privacy: ['me', 'privacy', 'any'],
  notifications: ['account', 'notifications', 'in'],
  tasks: ['volunteer', 'tasks', 'volunteer'],
  report: ['volunteer', 'reportForm', 'volunteer'],
  reports: ['volunteer', 'myReports', 'volunteer'],
  feed: ['volunteer', 'liveFeed', 'in'],
  org: ['coordinator', 'manage', 'volunteer'],
  officer: ['officer', 'officer', 'staff'],
  stats: ['stats', 'stats', 'in'],
};

const isStaff = () => ['officer', 'admin'].includes(api.user()?.role);

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(qs || '') };
}

let cleanup = [];
let renderSeq = 0;

// ctx is what a view gets: where to draw, the route, and helpers whose
// subscriptions end when the route changes.
function makeContext(route, root, seq) {
  // keep holds a screen's subscription while the screen is shown; a
  // screen left before it finished loading drops it at once.
  const keep = (stop) => { if (seq === renderSeq) cleanup.push(stop); else stop(); };
  const ctx = {
    root,
    parts: route.parts,
    query: route.query,
    go: (hash) => { location.hash = hash; },
    on(name, fn) { keep(feed.on(name, fn)); },
    every(ms, fn) { const id = setInterval(fn, ms); keep(() => clearInterval(id)); },
    onOutbox(fn) { keep(outbox.onChange(fn)); },
    defer(fn) { keep(fn); },
    // live reloads fn (debounced) on any of the feed events named, after a
    // reset and after a reconnection.
    live(names, fn) {
      let timer = 0;
      const later = () => { clearTimeout(timer); timer = setTimeout(fn, 150); };
      for (const n of [...names, 'reset']) ctx.on(n, later);
      ctx.on('welcome', (w) => { if (w.again) later(); });
      keep(() => clearTimeout(timer));
    },
    toast,
    recent,
    rerender: render,
  };
  return ctx;
}

async function render() {
  const seq = ++renderSeq;
  for (const fn of cleanup) fn();
  cleanup = [];
  const route = parseHash();
  const known = routes[route.parts[0] || ''];
  if (!known) {
    drawNav(route);
    notFound(route);
    if (seq > 1) main.focus({ preventScroll: true });
    return;
  }
  let [mod, name, who] = known;
  const inside = api.signedIn();
  if (who === 'out' && inside) { location.hash = '#/'; return; }
  if ((who === 'in' || who === 'volunteer' || who === 'staff') && !inside) {
    location.hash = `#/login?next=${encodeURIComponent(location.hash)}`;
    return;
  }
  if (who === 'staff' && !isStaff()) { location.hash = '#/'; return; }
  // Consent to a new privacy notice comes first (reading, alerts and the
  // feed go on meanwhile; writes answer consent-required).
  if (inside && api.session.me?.consent_due && !['consent', 'privacy', 'me'].includes(route.parts[0])) {
    location.hash = `#/consent?next=${encodeURIComponent(location.hash)}`;
    return;
  }
  drawNav(route);
  let view;
  try {
    view = (await loaders[mod]())[name];
  } catch {
    if (seq === renderSeq) main.replaceChildren(h('p', { class: 'notice error', role: 'alert' }, t('error.load')));
    return;
  }
  if (seq !== renderSeq) return;
  // Each screen draws into its own element: a screen left while it was
  // still loading writes into a detached one, never into the next screen.
  const root = h('div', { class: 'screen' });
  main.replaceChildren(root);
  try {
    await view(makeContext(route, root, seq));
  } catch (err) {
    console.error(err);
    if (seq === renderSeq) add(root, h('p', { class: 'notice error', role: 'alert' }, api.problemText(err)));
  }
  // After a route change (not the first page) focus moves to the content,
  // so screen readers and keyboards start there.
  if (seq === renderSeq && seq > 1 && document.activeElement === document.body) main.focus({ preventScroll: true });
}

// notFound says that the address names no screen, with a way home (an
// unknown route is never silently the home page).
function notFound(route) {
  const path = `#/${route.parts.map(encodeURIComponent).join('/')}`;
  main.replaceChildren(h('div', { class: 'screen', id: 'not-found' }, h('h1', null, t('error.notFound')),
    h('p', null, t('error.notFoundText', { path })), h('p', null, h('a', { class: 'button', href: '#/' }, t('error.toHome')))));
}

function navLink(hash, label, current) {
  const here = current === hash.slice(2).split('?')[0];
  return h('a', { href: hash, 'aria-current': here ? 'page' : null }, label);
}

function drawNav(route) {
  const cur = route.parts.join('/');
  const me = api.session.me;
  const items = [navLink('#/', t('nav.home'), cur)];
  if (!me) {
    items.push(navLink('#/alerts', t('nav.alerts'), cur), navLink('#/orgs', t('nav.orgs'), cur),
      navLink('#/login', t('nav.login'), cur), navLink('#/signup', t('nav.signup'), cur));
  } else if (isStaff()) {
    items.push(navLink('#/officer/reports', t('nav.verify'), cur), navLink('#/officer/alerts', t('nav.broadcast'), cur),
      navLink('#/officer/orgs', t('nav.registry'), cur), navLink('#/stats', t('nav.stats'), cur), navLink('#/feed', t('nav.feed'), cur));
  } else {
    items.push(navLink('#/tasks', t('nav.tasks'), cur), navLink('#/report', t('nav.report'), cur),
      navLink('#/reports', t('nav.myReports'), cur), navLink('#/feed', t('nav.feed'), cur),
      navLink('#/alerts', t('nav.alerts'), cur), navLink('#/orgs', t('nav.orgs'), cur));
    const coordinated = (me.memberships || []).filter((m) => m.role === 'coordinator' && m.status === 'active');
    for (const m of coordinated) {
      items.push(navLink(`#/org/${encodeURIComponent(m.org_id)}`, t('nav.manage', { org: m.org_name }), cur));
    }
    if (coordinated.length) items.push(navLink('#/stats', t('nav.stats'), cur));
  }
  if (me) items.push(navLink('#/notifications', t('nav.notifications'), cur), navLink('#/me', t('nav.me'), cur));
  nav.replaceChildren(...items);
  // The menu is one row that scrolls sideways on a phone: the current
  // screen's entry is brought into view.
  const here = nav.querySelector('[aria-current="page"]');
  if (here) nav.scrollLeft = Math.max(0, here.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2);
  navEdges();
  const out = document.getElementById('logout');
  out.hidden = !me;
  out.textContent = t('nav.logout');
}

// navEdges fades the menu's edge on the side where more entries are
// scrolled out of view.
function navEdges() {
  nav.classList.toggle('more-left', nav.scrollLeft > 1);
  nav.classList.toggle('more-right', nav.scrollLeft < nav.scrollWidth - nav.clientWidth - 1);
}

async function signOut() {
  feed.stop();
  // A browser may pass to someone else: its notifications stop with the session.
  await push.disable().catch(() => {});
  await api.logout();
  location.hash = '#/';
  render();
}

// toast shows a short message for a few seconds (announced politely).
export function toast(title, body, kind) {
  const el = h('div', { class: `toast ${kind ? `alert-${kind}` : ''}` }, h('strong', null, title), body || null);
  toasts.append(el);
  while (toasts.children.length > 3) toasts.firstChild.remove();
  setTimeout(() => el.remove(), 6000);
}

function drawNet() {
  const s = feed.feedStatus();
  let text = '';
  if (!navigator.onLine || s === 'offline') text = t('net.offline');
  else if (s === 'reconnecting') text = t('net.reconnecting');
  net.textContent = text;
  net.hidden = !text;
  net.classList.toggle('off', !navigator.onLine);
  net.dataset.state = !navigator.onLine ? 'offline' : s;
}

function staticText() {
  document.getElementById('skip').textContent = t('app.skip');
  document.getElementById('brand-name').textContent = t('app.name');
  document.getElementById('foot-text').textContent = t('app.footer');
  const lang = document.getElementById('lang');
  const other = getLang() === 'id' ? 'en' : 'id';
  lang.textContent = other.toUpperCase();
  lang.lang = other;
  lang.setAttribute('aria-label', t('app.switchLang'));
  nav.setAttribute('aria-label', t('nav.label'));
  document.title = t('app.name');
}

function globalEvents() {
  feed.on('alert.published', (ev) => {
    const a = ev.data || {};
    recentPush(ev);
    toast(`${t('alert.new')}: ${a.title || ''}`, a.body ? a.body.slice(0, 140) : '', a.severity);
  });
  feed.on('assignment.created', (ev) => toast(t('toast.assigned'), ev.data?.task?.title || ''));
  feed.on('claim.expiring', () => toast(t('toast.expiring')));
  feed.on('claim.expired', (ev) => toast(t('toast.expired'), ev.data?.task_title || ''));
  feed.on('claim.released', (ev) => toast(t('toast.released'), ev.data?.task_title || ''));
  feed.on('claim.ended', (ev) => toast(t('toast.ended'), ev.data?.task_title || ''));
  feed.on('report.status_changed', (ev) => toast(t('toast.reportStatus'), t(`report.status.${ev.data?.status}`)));
  feed.on('membership.*', () => api.loadMe().then(() => drawNav(parseHash())).catch(() => {}));
  feed.on('streams', () => api.loadMe().then(() => drawNav(parseHash())).catch(() => {}));
  // access.revoked only tells the feed whose access to the stream ended.
  feed.on('*', (ev) => { if (ev.event !== 'alert.published' && ev.event !== 'access.revoked') recentPush(ev); });
  outbox.onChange((c) => {
    if (c.type === 'sent') toast(t('outbox.sent'), c.fileErrors?.join('; ') || '');
  });
}

function recentPush(ev) {
  recent.unshift(ev);
  if (recent.length > 100) recent.pop();
}

function registerWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  // The one Trusted Types policy of the app: only the worker's own URL.
  const policy = window.trustedTypes?.createPolicy('jarimu', {
    createScriptURL: (u) => { if (u !== '/sw.js') throw new TypeError('unexpected script URL'); return u; },
  });
  const url = policy ? policy.createScriptURL('/sw.js') : '/sw.js';
  navigator.serviceWorker.register(url, { scope: '/' }).catch(() => {});
  let hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hadController) toast(t('app.updated'));
    hadController = true;
  });
}

async function boot() {
  await initLang();
  staticText();
  globalEvents();
  feed.onStatus(drawNet);
  addEventListener('online', drawNet);
  addEventListener('offline', drawNet);
  api.onSession((me) => {
    if (me) {
      feed.start();
      outbox.flush();
      push.renew().catch(() => {}); // retried at the next opening
    } else feed.stop();
  });
  // The server refused to renew the session: sign-in again, saying why,
  // and come back here afterwards.
  api.onSessionEnd(() => {
    const back = location.hash.startsWith('#/login') ? '#/' : (location.hash || '#/');
    location.hash = `#/login?ended=1&next=${encodeURIComponent(back)}`;
  });
  document.getElementById('logout').addEventListener('click', signOut);
  document.getElementById('lang').addEventListener('click', () => setLang(getLang() === 'id' ? 'en' : 'id'));
  onLang(() => { staticText(); drawNet(); render(); });
  addEventListener('hashchange', render);
  nav.addEventListener('scroll', navEdges, { passive: true });
  addEventListener('resize', navEdges);
  await api.resume();
  drawNet();
  render();
  registerWorker();
}

boot();
