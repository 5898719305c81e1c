// @ts-check
// Where the package keeps things in a browser: IndexedDB when there is one, else
// localStorage, else memory; and the byte and hash helpers the stores share.

/** IndexedDB when there is one, else localStorage, else memory. Values are JSON-able. */
export function defaultStorage() {
  if (typeof indexedDB !== 'undefined') return indexedDbStorage();
  if (typeof localStorage !== 'undefined') {
    return {
      async get(k) { const v = localStorage.getItem(k); return v === null ? undefined : JSON.parse(v); },
      async set(k, v) { localStorage.setItem(k, JSON.stringify(v)); },
      async delete(k) { localStorage.removeItem(k); },
    };
  }
  return memoryStorage();
}

/** A storage in memory (tests, server-side rendering). */
export function memoryStorage() {
  const m = new Map();
  return {
    async get(k) { return m.has(k) ? structuredClone(m.get(k)) : undefined; },
    async set(k, v) { m.set(k, structuredClone(v)); },
    async delete(k) { m.delete(k); },
  };
}

function indexedDbStorage() {
  const db = new Promise((resolve, reject) => {
    const req = indexedDB.open('fieldgate', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('kv');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const run = (mode, f) => db.then((d) => new Promise((resolve, reject) => {
    const req = f(d.transaction('kv', mode).objectStore('kv'));
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  }));
  return {
    get: (k) => run('readonly', (s) => s.get(k)),
    set: (k, v) => run('readwrite', (s) => s.put(v, k)),
    delete: (k) => run('readwrite', (s) => s.delete(k)),
  };
}

export const toBase64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
export const fromBase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
export const asBytes = (b) => (typeof b === 'string' ? new TextEncoder().encode(b)
  : b instanceof Uint8Array ? b : new Uint8Array(b));

export async function sha256Hex(text) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
