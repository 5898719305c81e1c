// BundleStore: the last verified bundle and the highest version seen, kept per app and user so
// an app starts offline, never goes back to an older policy (even across reloads and logouts),
// refreshes in the background, and keeps tabs in step. DecisionLog: decision events for the
// server's audit trail, hash-chained, flushed on a timer, when the page is hidden and on
// reconnect, backing off when the server asks.

import { Engine } from './engine.js';
import { FieldgateError } from './errors.js';

const DAY = 86_400_000;

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

const toBase64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const asBytes = (b) => (typeof b === 'string' ? new TextEncoder().encode(b)
  : b instanceof Uint8Array ? b : new Uint8Array(b));

async function sha256Hex(text) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A stored floor: a whole number from 0 up to 2^53 - 1, or undefined when it is not one. */
const floorOf = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/**
 * Keeps one app's verified bundle for one user.
 *
 * Options: everything `Engine.load` takes (`trustedKeys`, `app`, …) plus `user` (the key and the
 * bound subject), `storage` (default IndexedDB > localStorage > memory), `graceMs` (opt in: how
 * long an expired bundle still serves an offline device; 0 = expiry is enforced), `now`
 * (a clock function, default `Date.now`).
 *
 * The highest version seen is kept per app, apart from the user's data: `wipe()` (a logout)
 * forgets the bundle but never lowers the floor. A floor that is stored but unreadable is
 * taken as tampering: nothing cached is trusted until a fresh bundle verifies.
 */
export class BundleStore {
  // Its name survives minification (stack traces and the console show it).
  static name = 'BundleStore';
  #o;
  #storage;
  #key;
  #floorKey;
  #channel = null;
  #engine = null;
  #highest = 0;
  #trustCache = true;
  #status = 'empty';
  #listeners = new Set();
  #unhook = [];

  constructor(options) {
    if (!options || !options.app || !options.user) {
      throw new FieldgateError('bad_request', 'BundleStore needs `app` and `user`');
    }
    this.#o = { graceMs: 0, now: () => Date.now(), ...options };
    this.#storage = options.storage ?? defaultStorage();
    this.#key = `fieldgate:${options.app}:${options.user}`;
    this.#floorKey = `fieldgate-floor:${options.app}`;
    if (typeof BroadcastChannel !== 'undefined') {
      this.#channel = new BroadcastChannel(this.#key);
      this.#channel.onmessage = (m) => { if (m.data && m.data.version > this.version) this.#reloadFromStorage(); };
    }
  }

  /** The engine (null until a bundle was loaded). */
  get engine() { return this.#engine; }
  /** The loaded version (0 when none). */
  get version() { return this.#engine ? this.#engine.version : 0; }
  /** The highest version ever accepted here: nothing older is loaded again. */
  get highestVersion() { return this.#highest; }
  /** `empty`, `fresh`, `grace` (expired, inside the opted-in grace period) or `stale`. */
  get status() { return this.#status; }

  /** Called with `{ status, version }` whenever either changes. */
  onChange(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts from the cache (offline first), then refreshes with `fetcher` in the background on
   * start, on the `online` event and on focus. `fetcher()` returns a bundle, or null when the
   * server has nothing newer (a 304). Returns the engine, or null when there is neither cache
   * nor network.
   */
  async start(fetcher) {
    await this.#readFloor();
    const saved = await this.#storage.get(this.#key);
    if (saved && this.#trustCache) {
      const floor = saved.highest === undefined ? 0 : floorOf(saved.highest);
      if (floor === undefined) {
        this.#trustCache = false;
      } else {
        this.#highest = Math.max(this.#highest, floor);
        try {
          await this.#adopt(fromBase64(saved.bundle), false);
        } catch {
          // A cached bundle that no longer verifies is dropped; the network may bring a new one.
        }
      }
    }
    if (fetcher) {
      const refresh = () => this.refresh(fetcher).catch(() => {});
      if (typeof addEventListener === 'function') {
        addEventListener('online', refresh);
        addEventListener('focus', refresh);
        this.#unhook.push(() => { removeEventListener('online', refresh); removeEventListener('focus', refresh); });
      }
      if (this.#engine) refresh();
      else await this.refresh(fetcher).catch(() => {});
    }
    return this.#engine;
  }

  /**
   * Fetches and loads a newer bundle. Throws `FieldgateError` when the fetched bundle is refused
   * (then the current one stays in force). Call it on a server push too.
   */
  async refresh(fetcher) {
    const bundle = await fetcher();
    if (bundle === null || bundle === undefined) return this.#engine;
    await this.#adopt(asBytes(bundle), true);
    return this.#engine;
  }

  /** Forgets this user's bundle (on logout); the app's floor stays. */
  async wipe() {
    await this.#storage.delete(this.#key);
    for (const f of this.#unhook) f();
    this.#unhook = [];
    this.#engine = null;
    this.#setStatus('empty');
  }

  /** Stops listening to other tabs and browser events. */
  close() {
    for (const f of this.#unhook) f();
    this.#unhook = [];
    if (this.#channel) this.#channel.close();
  }

  /** Reads the app's floor; an unreadable one distrusts the cache. */
  async #readFloor() {
    const stored = await this.#storage.get(this.#floorKey);
    if (stored === undefined) return;
    const floor = floorOf(stored);
    if (floor === undefined) this.#trustCache = false;
    else this.#highest = Math.max(this.#highest, floor);
  }

  async #reloadFromStorage() {
    const saved = await this.#storage.get(this.#key);
    if (saved && this.#trustCache) await this.#adopt(fromBase64(saved.bundle), false).catch(() => {});
  }

  /** Verifies `bytes` against the floor, loads it, and (when `save`) persists and announces it.
   * Until the floor can be trusted again, only a fresh bundle (no grace) is taken. */
  async #adopt(bytes, save) {
    const now = this.#o.now();
    const opts = { ...this.#o, minVersion: Math.max(this.#o.minVersion ?? 0, this.#highest), now };
    let status = 'fresh';
    // An existing engine updates in place (atomic, and never to a lower version).
    const load = (o) => (this.#engine ? this.#engine.update(bytes, o) : Engine.load(bytes, o));
    let loaded;
    try {
      loaded = await load(opts);
    } catch (e) {
      const grace = this.#o.graceMs > 0 && this.#trustCache;
      if (!(e instanceof FieldgateError) || e.code !== 'expired' || !grace) throw e;
      // Opted-in grace: every other check still runs; the expiry decides grace or stale mode.
      loaded = await load({ ...opts, skewMs: 100 * 365 * DAY });
      status = now <= Date.parse(loaded.expiresAt) + this.#o.graceMs ? 'grace' : 'stale';
      // Later updates are checked without that extra skew.
      loaded._options(opts);
    }
    this.#engine = loaded;
    this.#engine.stale = status === 'stale';
    this.#highest = Math.max(this.#highest, this.#engine.version);
    if (status === 'fresh') this.#trustCache = true;
    if (save) {
      await this.#storage.set(this.#key, { bundle: toBase64(bytes), highest: this.#highest });
      await this.#storage.set(this.#floorKey, this.#highest);
      if (this.#channel) this.#channel.postMessage({ version: this.#engine.version });
    }
    this.#setStatus(status);
  }

  #setStatus(status) {
    this.#status = status;
    const event = { status, version: this.version };
    for (const f of this.#listeners) f(event);
  }
}

/**
 * A queue of decision events for the server, hash-chained: each entry carries `chain` (this
 * log's id, made on its first entry), `prev` (the `hash` of the entry before it, `null` for the
 * first) and `hash` (SHA-256 of the entry's JSON without `hash`), so the server can tell a gap
 * or an edit by this device. (The chain is no proof against the device's owner, who can rewrite
 * it.) The queue and the chain's head are stored together, so the chain continues across
 * flushes and reloads. Appends run one at a time (across tabs too, where the platform has Web
 * Locks): `engine.onDecision(e => log.append(e))` loses nothing however fast decisions come.
 *
 * What is kept: attempts (`session.attempt`) always; checks (`session.can`, made to draw the
 * page) only as `checks` says: `'off'` (the default), `'refused'`, or a sample rate from 0 to 1.
 */
export class DecisionLog {
  // Its name survives minification (stack traces and the console show it).
  static name = 'DecisionLog';
  #storage;
  #key;
  #checks;
  #tail = Promise.resolve();
  #flushing = null;
  #retryAt = 0;
  #stop = null;

  constructor({ app, user, storage, checks = 'off' }) {
    this.#storage = storage ?? defaultStorage();
    this.#key = `fieldgate-log:${app}:${user}`;
    this.#checks = checks;
  }

  /** Whether an event is worth keeping (see the class). */
  keeps(event) {
    if (event.kind !== 'check') return true;
    const c = this.#checks;
    if (c === 'refused') return !event.allow;
    return typeof c === 'number' && Math.random() < c;
  }

  /** Appends one event (as given by `engine.onDecision`) when `keeps` says so; resolves to
   * the stored entry, or null. */
  append(event) {
    if (!this.keeps(event)) return Promise.resolve(null);
    return this.#exclusive(async () => {
      const log = await this.#read();
      log.chain ??= crypto.randomUUID();
      const entry = { ...event, chain: log.chain, prev: log.head };
      entry.hash = await sha256Hex(JSON.stringify(entry));
      log.entries.push(entry);
      log.head = entry.hash;
      await this.#storage.set(this.#key, log);
      return entry;
    });
  }

  /** The queued events, oldest first. */
  async pending() {
    return (await this.#exclusive(() => this.#read())).entries;
  }

  /**
   * Sends the queue with `send(entries)` and drops what was sent once that resolves (events
   * appended meanwhile stay queued). One flush at a time: a call during a flush joins it. A
   * `send` that throws an error with `status` 429 (and `retryAfter`, seconds) keeps the queue
   * and holds further flushes back that long. Resolves to the number sent.
   */
  flush(send) {
    this.#flushing ??= (async () => {
      try {
        if (Date.now() < this.#retryAt) return 0;
        const batch = await this.pending();
        if (batch.length === 0) return 0;
        try {
          await send(batch);
        } catch (e) {
          if (e && e.status === 429) {
            this.#retryAt = Date.now() + 1000 * (Number(e.retryAfter) > 0 ? Number(e.retryAfter) : 30);
            return 0;
          }
          throw e;
        }
        const sent = new Set(batch.map((e) => e.hash));
        await this.#exclusive(async () => {
          const log = await this.#read();
          log.entries = log.entries.filter((e) => !sent.has(e.hash));
          await this.#storage.set(this.#key, log);
        });
        return batch.length;
      } finally {
        this.#flushing = null;
      }
    })();
    return this.#flushing;
  }

  /**
   * Sends to the server on its own: every `intervalMs` (default 10 s), when the page is
   * hidden (with `navigator.sendBeacon` where there is one) and when the browser is back
   * online. `url` is the server's `/v1/decisions`; requests carry the login cookie. Returns a
   * function that stops it.
   */
  start({ url, intervalMs = 10_000, fetch: doFetch = globalThis.fetch } = {}) {
    if (!url) throw new FieldgateError('bad_request', 'DecisionLog.start needs the server\'s `url`');
    this.#stop?.();
    const send = async (events) => {
      const res = await doFetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      if (!res.ok) {
        const err = new Error(`decision events refused: ${res.status}`);
        err.status = res.status;
        err.retryAfter = res.headers.get('retry-after');
        throw err;
      }
    };
    const flush = () => this.flush(send).catch(() => {});
    const beacon = async () => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') return;
      const batch = await this.pending();
      const nav = typeof navigator !== 'undefined' ? navigator : undefined;
      if (batch.length === 0 || !nav?.sendBeacon || Date.now() < this.#retryAt) return flush();
      const body = new Blob([JSON.stringify({ events: batch })], { type: 'application/json' });
      // A beacon's answer is never seen: what it carried stays queued and is sent again at the
      // next flush, where the server counts the repeats once (same chain and hash).
      nav.sendBeacon(url, body);
    };
    const timer = setInterval(flush, intervalMs);
    const hooks = [];
    const on = (target, type, f) => {
      if (target && typeof target.addEventListener === 'function') {
        target.addEventListener(type, f);
        hooks.push(() => target.removeEventListener(type, f));
      }
    };
    on(globalThis, 'online', flush);
    on(typeof document !== 'undefined' ? document : undefined, 'visibilitychange', beacon);
    this.#stop = () => {
      clearInterval(timer);
      for (const h of hooks) h();
      this.#stop = null;
    };
    flush();
    return this.#stop;
  }

  /** Checks a chain: every hash is right and links to the one before. Returns the first bad index or -1. */
  static async verify(entries, prev = null) {
    for (let i = 0; i < entries.length; i++) {
      const { hash, ...rest } = entries[i];
      if (rest.prev !== prev || (await sha256Hex(JSON.stringify(rest))) !== hash) return i;
      prev = hash;
    }
    return -1;
  }

  async #read() {
    return (await this.#storage.get(this.#key)) ?? { chain: null, head: null, entries: [] };
  }

  /** Runs `f` alone: after this log's earlier calls and, with Web Locks, other tabs' calls. */
  #exclusive(f) {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    const run = () => (locks ? locks.request(this.#key, f) : f());
    const done = this.#tail.then(run, run);
    this.#tail = done.catch(() => {});
    return done;
  }
}
