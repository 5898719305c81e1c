// @ts-check
// DecisionLog: decision events for the server's audit trail, hash-chained, flushed on a
// timer, when the page is hidden and on reconnect, backing off when the server asks.

import { FieldgateError } from './errors.js';
import { defaultStorage, sha256Hex } from './storage.js';

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
   * @param {{ url?: string, intervalMs?: number, fetch?: typeof globalThis.fetch }} [options]
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
        throw Object.assign(new Error(`decision events refused: ${res.status}`), {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
        });
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
