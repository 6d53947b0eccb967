// Jarimu's service worker: keeps the app shell (HTML, scripts, styles,
// strings, icons) so the console opens without a network, and shows the Web
// Push notifications of alerts and assignments while the app is closed. It
// never touches /v1/ requests: API answers, which carry personal data, are
// never cached. The server stamps VERSION and SHELL when it serves this
// file; a new version replaces the old cache.
const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"];
const CACHE = `jarimu-shell-${VERSION}`;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('jarimu-shell-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/') {
    e.respondWith(caches.match('/', { cacheName: CACHE }).then((r) => r || fetch(req)));
    return;
  }
  if (url.pathname.startsWith('/app/') || url.pathname === '/manifest.webmanifest') {
    e.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((r) => r || fetch(req)));
  }
});

// A push carries, decrypted by the browser, the JSON the server made: kind
// (alert, retraction, assignment, test), title, body, severity, url, tag
// and ack. One tag per alert, so a retraction replaces the alert's own
// notification. Showing it is acknowledged with the push's ack string (the
// worker holds no access token: the string itself names the push and the
// device), so the officer sees how many phones displayed the alert.
const SEVERITIES = ['info', 'warning', 'critical'];

self.addEventListener('push', (e) => {
  let p = null;
  try { p = e.data ? e.data.json() : null; } catch { p = null; }
  if (!p || typeof p.title !== 'string') return;
  const severity = SEVERITIES.includes(p.severity) ? p.severity : '';
  const url = typeof p.url === 'string' && p.url.startsWith('/#/') ? p.url : '/#/';
  const tag = typeof p.tag === 'string' ? p.tag : undefined;
  const body = typeof p.body === 'string' ? p.body : '';
  const open = tag ? self.registration.getNotifications({ tag }) : Promise.resolve([]);
  const shown = open.then((ns) => {
    // The same push again (redelivered, or sent once more after a server
    // crashed): it replaces its own notification without sounding again.
    const again = ns.some((n) => n.data?.kind === p.kind && n.title === p.title && n.body === body);
    return self.registration.showNotification(p.title, {
      body,
      tag,
      lang: p.lang === 'en' ? 'en' : 'id',
      icon: severity ? `/app/icons/alert-${severity}.png` : '/app/icons/icon-192.png',
      badge: '/app/icons/badge-72.png',
      requireInteraction: severity === 'critical',
      renotify: p.kind !== 'retraction' && !!tag && !again,
      data: { url, kind: p.kind, severity, again },
    });
  });
  const acked = shown.then(() => (typeof p.ack === 'string' && p.ack
    ? fetch('/v1/push/acks', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ack: p.ack }) }).catch(() => {})
    : undefined));
  e.waitUntil(acked);
});

// A tap opens the alert (or the tasks) in an open console tab, or a new one.
self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const target = new URL(e.notification.data?.url || '/#/', self.location.origin).href;
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
    const tab = tabs.find((c) => new URL(c.url).origin === self.location.origin);
    if (tab) return tab.navigate(target).then((c) => (c || tab).focus());
    return self.clients.openWindow(target);
  }));
});
