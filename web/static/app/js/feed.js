// The live feed: GET /v1/feed (websocket, subprotocol jarimu.v1).
//
// The last seq seen per stream is kept in localStorage (per user), so that a
// reconnect, a reload or the return of the network resumes where it stopped:
// the server then sends every missed event in order. Events are
// acknowledged (that counts toward an alert's reach). While the socket is
// down the app shows "reconnecting" and retries with backoff, at once when
// the browser says it is online again.
//
// It never gives up while the user is signed in: a server that cannot serve
// for now (the network, any 5xx or 429 of a refresh, a close 1013 while the
// database is down, 1011, 1001, 4429, a dropped socket) is tried again after
// an exponential backoff with jitter (at most 30 s), or after the delay the
// server named ("retry in N s" in a close reason, Retry-After). A 4401 gets
// one refresh and an immediate reconnect; only a refresh refused with 401
// ends the session (api.js then signs the user out and says why).
import { token, refresh, onToken, user, signedIn } from './api.js';

const listeners = new Map(); // event name or '*' -> Set(fn)
const statusListeners = new Set();

let ws = null;
let running = false;
let status = 'idle'; // idle | connecting | open | reconnecting | offline
let attempt = 0;
let refused = 0; // 4401s in a row without a welcome
let retryTimer = 0;
let pingTimer = 0;
let pongTimer = 0;
let ackTimer = 0;
let connectedOnce = false;
let last = {};
const pendingAcks = {};

const storeKey = () => `jarimu.feed.${user()?.id || 'anon'}`;

function loadSeqs() {
  try { last = JSON.parse(localStorage.getItem(storeKey()) || '{}') || {}; } catch { last = {}; }
}

function saveSeqs() {
  try { localStorage.setItem(storeKey(), JSON.stringify(last)); } catch { /* ignore */ }
}

// on registers fn for an event name ("alert.published"), a prefix
// ("task.*"), "*" (every event) or a control name ("reset", "streams",
// "welcome"); it returns the unsubscribe function.
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name)?.delete(fn);
}

export function onStatus(fn) { statusListeners.add(fn); fn(status); return () => statusListeners.delete(fn); }
export const feedStatus = () => status;
export const streams = () => Object.keys(last);

// emit calls the listeners of a feed event (by name, prefix and "*") or of
// a control step (by its name only).
function emit(name, ev) {
  const names = [name];
  const dot = name.indexOf('.');
  if (ev.type === 'event') names.push('*');
  if (dot > 0) names.push(`${name.slice(0, dot)}.*`);
  for (const n of names) for (const fn of listeners.get(n) || []) {
    try { fn(ev); } catch (e) { console.error(e); }
  }
}

function setStatus(s) {
  if (s === status) return;
  status = s;
  for (const fn of statusListeners) fn(s);
}

// Backoff: the ceiling doubles from 1 s per failed try, up to 30 s; the
// wait is drawn from its upper half, so that phones cut off together do not
// come back together.
const minBackoff = 1000;
const maxBackoff = 30000;
// A delay named by the server is waited out up to this long (ms).
const maxAsked = 300000;

// reasonDelay reads the delay (ms) of a close reason such as "try again
// later: retry in 5 s"; 0 when it names none.
function reasonDelay(reason) {
  const m = /retry in (\d+) s/.exec(reason || '');
  return m ? Number(m[1]) * 1000 : 0;
}

export function start() {
  if (running) return;
  running = true;
  attempt = 0;
  refused = 0;
  connectedOnce = false;
  loadSeqs();
  connect();
}

export function stop() {
  running = false;
  clearTimeout(retryTimer);
  stopPings();
  if (ws) { const w = ws; ws = null; w.close(1000); }
  last = {};
  setStatus('idle');
}

async function connect() {
  clearTimeout(retryTimer);
  if (!running || ws) return;
  if (!navigator.onLine) { setStatus('offline'); return; }
  setStatus(connectedOnce || attempt > 0 ? 'reconnecting' : 'connecting');
  let tok;
  try {
    tok = await token();
  } catch (err) {
    // A refused refresh (401) ends the session, and the session's end
    // stops the feed; anything else passes.
    if (err.status !== 401) retry((err.retryAfter || 0) * 1000);
    return;
  }
  if (!running || ws) return;
  if (!tok) {
    if (signedIn()) retry(); else stop();
    return;
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}/v1/feed`, 'jarimu.v1');
  } catch {
    retry();
    return;
  }
  ws = sock;
  sock.onopen = () => {
    const hello = { type: 'hello', token: tok };
    if (Object.keys(last).length) hello.resume = last;
    sock.send(JSON.stringify(hello));
  };
  sock.onmessage = (m) => { if (ws === sock) frame(m.data); };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    stopPings();
    if (!running) return;
    if (e.code === 4401) {
      // The token was refused: one refresh, then at once again; backoff
      // only when that keeps happening or the refresh cannot be made now.
      setStatus('reconnecting');
      refused += 1;
      refresh().then(() => { if (refused > 1) retry(); else retry(0, true); }, (err) => {
        if (err.status !== 401) retry((err.retryAfter || 0) * 1000);
      });
      return;
    }
    retry(reasonDelay(e.reason));
  };
}

// retry connects again after the backoff, or after asked ms when the
// server named a delay (spread over a quarter more), or at once.
function retry(asked = 0, now = false) {
  if (!running) return;
  clearTimeout(retryTimer);
  if (!navigator.onLine) { setStatus('offline'); return; }
  setStatus('reconnecting');
  const ceiling = Math.min(maxBackoff, minBackoff * 2 ** Math.min(attempt, 16));
  let wait = now ? 0 : ceiling * (0.5 + Math.random() * 0.5);
  if (asked > 0) {
    const a = Math.min(asked, maxAsked);
    wait = Math.max(wait, a * (1 + Math.random() * 0.25));
  }
  attempt += 1;
  retryTimer = setTimeout(connect, wait);
}

function frame(text) {
  let f;
  try { f = JSON.parse(text); } catch { return; }
  switch (f.type) {
    case 'welcome': {
      const names = new Set(f.streams.map((s) => s.name));
      for (const s of f.streams) if (!(s.name in last)) last[s.name] = s.seq;
      for (const k of Object.keys(last)) if (!names.has(k)) delete last[k];
      saveSeqs();
      const again = connectedOnce;
      connectedOnce = true;
      attempt = 0;
      refused = 0;
      setStatus('open');
      startPings(f.ping_interval || 25);
      emit('welcome', { type: 'welcome', again });
      break;
    }
    case 'event':
      if (f.seq <= (last[f.stream] ?? -1)) return; // a repeat
      last[f.stream] = f.seq;
      saveSeqs();
      queueAck(f.stream, f.seq);
      emit(f.event, f);
      break;
    case 'reset':
      last[f.stream] = f.seq;
      saveSeqs();
      emit('reset', f);
      break;
    case 'subscribed':
      last[f.stream] = f.seq;
      saveSeqs();
      emit('streams', f);
      break;
    case 'unsubscribed':
      delete last[f.stream];
      saveSeqs();
      emit('streams', f);
      break;
    case 'pong':
      clearTimeout(pongTimer);
      break;
    default:
  }
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function queueAck(stream, seq) {
  pendingAcks[stream] = seq;
  if (!ackTimer) {
    ackTimer = setTimeout(() => {
      ackTimer = 0;
      for (const [s, n] of Object.entries(pendingAcks)) { send({ type: 'ack', stream: s, seq: n }); delete pendingAcks[s]; }
    }, 150);
  }
}

// A ping every interval; no pong within 10 s means the connection is dead
// (a phone that changed networks), so it is dropped and resumed.
function startPings(seconds) {
  stopPings();
  pingTimer = setInterval(() => {
    send({ type: 'ping' });
    clearTimeout(pongTimer);
    pongTimer = setTimeout(() => { if (ws) ws.close(4000, 'no pong'); }, 10000);
  }, seconds * 1000);
}

function stopPings() {
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
}

// A fresh access token goes to the open connection, which would otherwise
// be closed at the old token's expiry.
onToken((tok) => send({ type: 'token', token: tok }));

addEventListener('online', () => { if (running && !ws) { attempt = 0; connect(); } });
addEventListener('offline', () => {
  if (!running) return;
  clearTimeout(retryTimer);
  if (ws) { const w = ws; ws = null; stopPings(); w.close(4000, 'offline'); }
  setStatus('offline');
});
