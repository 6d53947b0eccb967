// The outbox: every report goes through it. A report is first stored on the
// device (IndexedDB) with its own Idempotency-Key and its evidence files,
// then sent; while the network is away it waits, and it is sent again when
// the network returns. The server answers a repeated key with its first
// answer, so a report whose answer was lost is never created twice. Only
// what the user wrote waits here; nothing the server sends is stored.
import { api, upload, uuid, user, signedIn, ApiError, problemText } from './api.js';
import { t } from './i18n.js';

const DB = 'jarimu';
const STORE = 'outbox';
const listeners = new Set();
const progress = new Map(); // key -> 0..1 of the file being uploaded
let flushing = null;
let timer = 0;
let failures = 0;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

const put = (item) => tx('readwrite', (s) => s.put(item));
const remove = (key) => tx('readwrite', (s) => s.delete(key));

export function onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function changed(what) { for (const fn of listeners) fn(what); }

// list is the current user's waiting reports, oldest first.
export async function list() {
  const me = user();
  if (!me) return [];
  const all = (await tx('readonly', (s) => s.getAll())) || [];
  return all.filter((i) => i.userId === me.id).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export const progressOf = (key) => progress.get(key);

// enqueue stores a report (the request body, exactly as it will be sent)
// and its files, then tries to send it.
export async function enqueue(body, files) {
  const item = {
    key: uuid(),
    userId: user().id,
    createdAt: new Date().toISOString(),
    bodyText: JSON.stringify(body),
    summary: body.summary,
    files: [...files].map((f) => ({ name: f.name, type: f.type, blob: f, done: false, error: '' })),
    reportId: null,
    state: 'waiting',
    error: '',
  };
  await put(item);
  changed({ type: 'queued', key: item.key });
  flush();
  return item.key;
}

export async function discard(key) {
  await remove(key);
  changed({ type: 'discarded', key });
}

// flush sends what waits, one report at a time (and one tab at a time when
// the browser has Web Locks; without them the idempotency keys still keep
// a report single).
export function flush() {
  if (flushing) return flushing;
  if (!signedIn() || !navigator.onLine) return Promise.resolve();
  const run = () => sendAll().finally(() => { flushing = null; });
  flushing = navigator.locks ? navigator.locks.request('jarimu-outbox', run) : run();
  return flushing;
}

async function sendAll() {
  for (const item of await list()) {
    if (item.state === 'failed') continue;
    const ok = await sendOne(item);
    if (!ok) { schedule(); return; }
    failures = 0;
  }
}

// sendOne returns false when the network (or the server) failed and the
// rest should wait.
async function sendOne(item) {
  try {
    if (!item.reportId) {
      item.state = 'sending';
      changed({ type: 'sending', key: item.key });
      const rep = await api('POST', '/v1/reports', { bodyText: item.bodyText, idem: item.key });
      item.reportId = rep.id;
      await put(item);
    }
    for (const f of item.files) {
      if (f.done || f.error) continue;
      try {
        await upload(item.reportId, new File([f.blob], f.name, { type: f.type }), (p) => {
          progress.set(item.key, p);
          changed({ type: 'progress', key: item.key, name: f.name, progress: p });
        });
        f.done = true;
      } catch (err) {
        if (err.network || err.status >= 500 || err.status === 429) throw err;
        f.error = problemText(err);
      }
      progress.delete(item.key);
      await put(item);
    }
    await remove(item.key);
    changed({ type: 'sent', key: item.key, reportId: item.reportId, fileErrors: item.files.filter((f) => f.error).map((f) => `${f.name}: ${f.error}`) });
    return true;
  } catch (err) {
    progress.delete(item.key);
    const retryable = err.network || err.status >= 500 || err.status === 429 || err.status === 401 ||
      err.type === 'idempotency-in-progress';
    if (err instanceof ApiError && !retryable) {
      item.state = 'failed';
      // No form is on screen to mark: the refused fields are named.
      item.error = err.errors.length
        ? `${t('outbox.refusedFields')} ${err.errors.map((fe) => `${fe.field}: ${fe.message}`).join('; ')}`
        : problemText(err);
      await put(item);
      changed({ type: 'failed', key: item.key });
      return true;
    }
    item.state = 'waiting';
    await put(item);
    changed({ type: 'waiting', key: item.key });
    return false;
  }
}

// schedule retries while something waits: after 2, 5, 10, 20, then every
// 30 s (and at once when the browser comes back online).
function schedule() {
  clearTimeout(timer);
  const delay = [2000, 5000, 10000, 20000, 30000][Math.min(failures, 4)];
  failures += 1;
  timer = setTimeout(flush, delay);
}

addEventListener('online', () => { failures = 0; flush(); });
