// The outbox: scans that could not reach the gateway wait in IndexedDB with their Idempotency-Key
// and are replayed one by one, oldest first, when the network returns. The key travels with the
// entry, so a scan that did reach the server before the drop is answered from the server's
// idempotency record on replay instead of being counted twice.
import { ApiError, NetworkError, newKey, request } from "./api.js";

const DB_NAME = "wms-outbox";
const STORE = "entries";
const RETRY_MS = 4000;

let dbPromise = null;
let flushing = null;
let again = false;
const waiters = new Map();
const listeners = new Set();

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  return dbPromise;
}

function tx(mode, work) {
  return db().then((d) => new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const result = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(result.result === undefined ? result : result.result);
    t.onerror = () => reject(t.error);
  }));
}

export async function entries() {
  return tx("readonly", (s) => s.getAll());
}

export async function count() {
  return tx("readonly", (s) => s.count());
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function notify(event) {
  const waiting = await count();
  for (const fn of listeners) fn({ waiting, ...event });
}

// Send a POST through the outbox. Resolves {queued: false, data} when the server answered, or
// {queued: true} when the entry waits for the network; rejects with the ApiError the server gave.
export async function send(path, body = {}, meta = {}) {
  const entry = { path, body, key: newKey(), meta, at: new Date().toISOString() };
  const seq = await tx("readwrite", (s) => s.add(entry));
  const answer = new Promise((resolve, reject) => waiters.set(seq, { resolve, reject }));
  await notify({ type: "added" });
  flush();
  return answer;
}

// Replay in order; stops at the first entry the network cannot take, keeping it and those after.
export function flush() {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      for (;;) {
        const [head] = await tx("readonly", (s) => s.getAll(null, 1));
        if (!head) return;
        let outcome;
        try {
          const r = await request("POST", head.path, { body: head.body, key: head.key });
          outcome = { ok: true, data: r.data, replayed: r.replayed };
        } catch (err) {
          const retryable = err instanceof NetworkError || (err instanceof ApiError &&
            (err.status === 401 || err.code === "request_in_progress" || err.status >= 500));
          if (retryable) {
            for (const [seq, w] of waiters) { w.resolve({ queued: true }); waiters.delete(seq); }
            await notify({ type: "waiting", error: err });
            return;
          }
          outcome = { ok: false, error: err };
        }
        await tx("readwrite", (s) => s.delete(head.seq));
        const waiter = waiters.get(head.seq);
        waiters.delete(head.seq);
        if (waiter) {
          if (outcome.ok) waiter.resolve({ queued: false, data: outcome.data });
          else waiter.reject(outcome.error);
        }
        await notify({ type: waiter ? "sent" : "replayed", entry: head, ...outcome });
      }
    } finally {
      flushing = null;
      // An entry added while the last pass was finishing must not wait for the timer.
      if (again) { again = false; flush(); }
    }
  })();
  return flushing;
}

let timer = null;
export function start() {
  window.addEventListener("online", () => flush());
  if (!timer) timer = setInterval(() => { count().then((n) => { if (n) flush(); }); }, RETRY_MS);
  flush();
}
