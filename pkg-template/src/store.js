// @ts-check
// BundleStore: the last verified bundle and the highest version seen, kept per app and user so
// an app starts offline, never goes back to an older policy (even across reloads and logouts),
// refreshes in the background, and keeps tabs in step. (The decision log is `decision-log.js`,
// the storages `storage.js`.)

import { Engine, preload } from './engine.js';
import { FieldgateError } from './errors.js';
import { defaultStorage, toBase64, fromBase64, asBytes } from './storage.js';

const DAY = 86_400_000;

/** A stored floor: a whole number from 0 up to 2^53 - 1, or undefined when it is not one. */
const floorOf = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/**
 * Keeps one app's verified bundle for one user.
 *
 * Options: everything `Engine.load` takes (`trustedKeys`, `app`, …) plus `user` (the key and the
 * bound subject), `storage` (default IndexedDB > localStorage > memory), `graceMs` (opt in: how
 * long an expired bundle still serves an offline device; 0 = expiry is enforced), `now`
 * (a clock function, default `Date.now`), `json` (the fetcher returns JSON bundles: the module
 * that compiles them is preloaded; binary bundles, `Accept: application/octet-stream`, need the
 * smaller one).
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
    // The module downloads while the first bundle is fetched, not after.
    preload(options.wasm, { json: options.json });
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
    // Grace is asked for below, only while the floor is trusted.
    const opts = { ...this.#o, graceMs: undefined, minVersion: Math.max(this.#o.minVersion ?? 0, this.#highest), now };
    // An existing engine updates in place (atomic, and never to a lower version).
    const load = (o) => (this.#engine ? this.#engine.update(bytes, o) : Engine.load(bytes, o));
    // Opted-in grace (while the floor is trusted): the verifier runs every other check and
    // says whether the bundle is fresh, in grace or stale.
    const grace = this.#o.graceMs > 0 && this.#trustCache;
    const loaded = await load(grace ? { ...opts, graceMs: this.#o.graceMs } : opts);
    const status = loaded.freshness;
    // Later updates are checked without the grace.
    if (grace) loaded._options(opts);
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
