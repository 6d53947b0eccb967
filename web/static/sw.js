// Jarimu's service worker: keeps the app shell (HTML, scripts, styles,
// strings, icons) so the console opens without a network. It never touches
// /v1/: API answers, which carry personal data, are never cached. The
// server stamps VERSION and SHELL when it serves this file; a new version
// replaces the old cache.
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
