// Web Push on this device: notifications of alerts and assignments that
// arrive while the console is closed (the service worker shows them).
//
// The browser's subscription is bound to the server's VAPID key; the server
// keeps it as one of the account's devices (at most 10). This module
// remembers, per browser, which server subscription is this device's and
// under which key it was made, so that a new key (a rotation) leads to a
// fresh subscription. Permission is asked only from enable(), which the
// settings screen calls from a click; renew() repairs a registration when
// the console opens, asking nothing.
import * as api from './api.js';

const KEY = 'jarimu.push';

// The events a device may choose, in the order the screen shows them.
export const EVENTS = ['alert.published', 'assignment.created'];

export function supported() {
  return window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

// permission is 'granted', 'denied', 'default' or 'unsupported'.
export function permission() {
  return supported() ? Notification.permission : 'unsupported';
}

function stored() {
  try { return JSON.parse(localStorage.getItem(KEY) || 'null'); } catch { return null; }
}

function store(v) {
  try {
    if (v) localStorage.setItem(KEY, JSON.stringify(v)); else localStorage.removeItem(KEY);
  } catch { /* storage disabled: the device is simply not remembered */ }
}

// current is this device's subscription as the server knows it for the
// signed-in account, or null.
export async function current() {
  const mine = stored();
  const me = api.user();
  if (!mine || !me || mine.user !== me.id) return null;
  const page = await api.api('GET', '/v1/push/subscriptions');
  return (page.items || []).find((s) => s.id === mine.id) || null;
}

function keyBytes(b64url) {
  const s = atob(b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// PermissionRefused: the person (or the browser) said no.
export class PermissionRefused extends Error {}

// enable asks for permission (call it from a click), subscribes this
// browser with the server's key and registers the device for events.
export async function enable(events) {
  if (!supported()) throw new PermissionRefused('unsupported');
  const answer = await Notification.requestPermission();
  if (answer !== 'granted') throw new PermissionRefused(answer);
  const reg = await navigator.serviceWorker.ready;
  const { public_key: key } = await api.api('GET', '/v1/push/key');
  let sub = await reg.pushManager.getSubscription();
  const mine = stored();
  if (sub && (!mine || mine.key !== key)) {
    await sub.unsubscribe();
    sub = null;
  }
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  return save(sub, key, events);
}

// choose changes which events this (already enabled) device gets.
export async function choose(events) {
  const reg = await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.getSubscription();
  const mine = stored();
  if (!sub || !mine) return enable(events);
  return save(sub, mine.key, events);
}

async function save(sub, key, events) {
  const j = sub.toJSON();
  const saved = await api.act('/v1/push/subscriptions', { endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth }, events });
  store({ id: saved.id, key, user: api.user().id, endpoint: j.endpoint, events: saved.events || events });
  return saved;
}

// renew runs when the console opens signed in. If this browser has a
// device registered for the account and notifications are still allowed,
// it registers the device afresh, with the events chosen, when the
// server's key changed (a rotation: the old subscription's pushes are
// refused) or the browser's subscription is not the one registered (the
// browser renewed or dropped it); the old registration is removed. It
// asks nothing and does nothing otherwise; once per page and account, again
// after a failure. Resolves true when it renewed.
let renewed = null;
export async function renew() {
  const mine = stored();
  const me = api.user();
  if (!supported() || !mine || !me || mine.user !== me.id || Notification.permission !== 'granted') return false;
  if (renewed === me.id) return false;
  renewed = me.id;
  try {
    return await renewNow(mine);
  } catch (err) {
    renewed = null;
    throw err;
  }
}

async function renewNow(mine) {
  const reg = await navigator.serviceWorker.ready;
  const { public_key: key } = await api.api('GET', '/v1/push/key');
  let sub = await reg.pushManager.getSubscription();
  if (sub && mine.key === key && (!mine.endpoint || sub.endpoint === mine.endpoint)) return false;
  if (sub && mine.key !== key) {
    await sub.unsubscribe();
    sub = null;
  }
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  const saved = await save(sub, key, mine.events || EVENTS);
  if (mine.id && mine.id !== saved.id) {
    await api.api('DELETE', `/v1/push/subscriptions/${encodeURIComponent(mine.id)}`).catch((err) => { if (err.status !== 404) throw err; });
  }
  return true;
}

// disable stops notifications on this device: the server forgets it and
// the browser drops its subscription.
export async function disable() {
  const mine = stored();
  store(null);
  if (mine && api.user()?.id === mine.user) {
    await api.api('DELETE', `/v1/push/subscriptions/${encodeURIComponent(mine.id)}`).catch((err) => { if (err.status !== 404) throw err; });
  }
  if (!supported()) return;
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription();
  if (sub) await sub.unsubscribe();
}

// test sends a test notification to every device of the account.
export function test() {
  return api.act('/v1/push/test');
}
