// @ts-check
// fieldgate/server: enforcement in Node backends, with the same engine and the same signed
// bundle the browser uses. A `PolicySource` keeps a verified bundle fresh (a URL refreshed by
// ETag, or a file); `createGate` builds Express/Koa middleware and response helpers on it. Every
// decision is the engine's (`can`, `redact`, `writable`); this file only wires them to HTTP.

import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
// The package's own Node entry, by name: one engine module whichever entry a backend imports.
import { Engine, FieldgateError } from 'fieldgate';

/**
 * The file a `--publish-dir` pointer (`latest.json`: `{"app", "version", "bundle"}`) names, or
 * null for anything else (a bundle). A pointer names a version file beside it, nothing more.
 */
function pointee(bytes) {
  if (bytes[0] !== 0x7b || bytes.length > 4096) return null;
  let doc;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || 'payload' in doc || !('bundle' in doc)) return null;
  if (typeof doc.bundle !== 'string' || !/^v[0-9]+(-[0-9]+)?\.json$/.test(doc.bundle)) {
    throw new FieldgateError('bad_bundle', `the pointer names \`${doc.bundle}\`, not a version file beside it`);
  }
  return doc.bundle;
}

/** The JSON error every refusal answers with, as the policy server's API does. */
function problem(status, code, message, more) {
  return { status, body: { code, message, ...more } };
}

/**
 * A verified policy bundle from `url` (refreshed with `If-None-Match`) or `file` (re-read when
 * it changes), every `refreshMs`. A bundle that fails any check is refused and the previous
 * one stays in force; past its expiry (plus `graceMs`) without a fresh one, the engine goes
 * stale (view only), so a backend cut off from its policy server fails safe.
 */
export class PolicySource {
  static name = 'PolicySource';
  #o;
  #engine = null;
  #etag = null;
  #fileStamp = null;
  #timer = null;
  #listeners = new Set();

  constructor(options) {
    if (!options || (!options.url) === (!options.file)) {
      throw new FieldgateError('bad_request', 'PolicySource needs either `url` or `file`');
    }
    if (!Array.isArray(options.trustedKeys) || !options.trustedKeys.length) {
      throw new FieldgateError('bad_key', 'PolicySource needs `trustedKeys`');
    }
    this.#o = { refreshMs: 30_000, graceMs: 0, fetch: globalThis.fetch, now: () => Date.now(), ...options };
  }

  /** The engine (null before the first bundle). */
  get engine() { return this.#engine; }
  /** The loaded version (0 before the first bundle). */
  get version() { return this.#engine ? this.#engine.version : 0; }

  /** Called with `(error)` when a refresh fails (the previous bundle stays in force). */
  onError(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Loads the first bundle (throws if it cannot), then refreshes in the background. */
  async start() {
    await this.refresh();
    if (!this.#engine) throw new FieldgateError('unavailable', 'no policy bundle could be loaded');
    if (this.#o.refreshMs > 0) {
      this.#timer = setInterval(() => this.refresh().catch((e) => this.#tell(e)), this.#o.refreshMs);
      this.#timer.unref?.();
    }
    return this;
  }

  /** Stops refreshing. */
  stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * Fetches or re-reads the bundle now. Returns true when a new one was swapped in. Throws
   * (and keeps the previous bundle) when the new one fails verification or cannot be read.
   */
  async refresh() {
    try {
      const bytes = this.#o.url ? await this.#fetch() : await this.#read();
      if (!bytes) return false;
      const minVersion = Math.max(this.#o.minVersion ?? 0, await this.#floor());
      const opts = { trustedKeys: this.#o.trustedKeys, app: this.#o.app, minVersion, now: this.#o.now() };
      if (this.#engine) await this.#engine.update(bytes, opts);
      else this.#engine = await Engine.load(bytes, opts);
      await this.#keepFloor(this.#engine.version);
      return true;
    } finally {
      this.#checkExpiry();
    }
  }

  /**
   * The highest version this backend ever loaded, from `floorFile` (0 without one, or before
   * the first load): a restarted backend refuses an older bundle a stale mirror serves, as a
   * running one does. A file it cannot read as a version is refused, not taken as 0.
   */
  async #floor() {
    if (!this.#o.floorFile) return 0;
    let text;
    try {
      text = await readFile(this.#o.floorFile, 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') return 0;
      throw e;
    }
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new FieldgateError('bad_request', `the floor file ${this.#o.floorFile} does not hold a version`);
    }
    return n;
  }

  /** Writes `version` to `floorFile` when it is higher (whole: a temporary file, then a rename). */
  async #keepFloor(version) {
    if (!this.#o.floorFile || version <= await this.#floor()) return;
    const tmp = `${this.#o.floorFile}.${process.pid}.tmp`;
    await writeFile(tmp, `${version}\n`);
    await rename(tmp, this.#o.floorFile);
  }

  async #fetch() {
    const headers = { accept: 'application/octet-stream', ...this.#o.headers };
    if (this.#etag && this.#engine) headers['if-none-match'] = this.#etag;
    const res = await this.#o.fetch(this.#o.url, { headers });
    if (res.status === 304) return null;
    if (!res.ok) {
      throw new FieldgateError('unavailable', `GET ${this.#o.url} answered ${res.status}`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.#etag = res.headers.get('etag');
    return bytes;
  }

  async #read() {
    const s = await stat(this.#o.file);
    const stamp = `${s.mtimeMs}:${s.size}`;
    if (stamp === this.#fileStamp && this.#engine) return null;
    let bytes = new Uint8Array(await readFile(this.#o.file));
    const next = pointee(bytes);
    if (next) bytes = new Uint8Array(await readFile(join(dirname(this.#o.file), next)));
    this.#fileStamp = stamp;
    return bytes;
  }

  #checkExpiry() {
    const e = this.#engine;
    if (!e || !e.expiresAt) return;
    const stale = e.freshnessAt(this.#o.now(), { graceMs: this.#o.graceMs }) === 'stale';
    if (stale !== e.stale) e.stale = stale;
  }

  #tell(error) {
    for (const f of this.#listeners) f(error);
    if (!this.#listeners.size) console.warn(`fieldgate: policy refresh failed: ${error.message}`);
  }
}

/** Express `(req, res, next)` or Koa `(ctx, next)`: what the rest of this file needs of each. */
function adapt(a, b, c) {
  if (typeof c === 'function') {
    return {
      ctx: a,
      next: c,
      state: (v) => { a.fieldgate = v; },
      refuse: ({ status, body }) => { b.status(status).json(body); },
      fail: (e) => c(e),
    };
  }
  return {
    ctx: a,
    next: b,
    state: (v) => { a.state.fieldgate = v; },
    refuse: ({ status, body }) => { a.status = status; a.body = body; },
    fail: (e) => { throw e; },
  };
}

/**
 * Middleware and helpers on a `PolicySource` (or its options: it is made and started for you).
 *   subject(reqOrCtx) -> { id, roles?, department?, groups?, attrs? } | null   (required)
 *   context(reqOrCtx) -> the decision context (optional)
 */
export async function createGate(options) {
  if (typeof options?.subject !== 'function') {
    throw new FieldgateError('bad_request', 'createGate needs `subject(req)`');
  }
  const source = options.source ?? await new PolicySource(options).start();
  const context = options.context ?? (() => undefined);

  /** The session of the caller of `reqOrCtx`, or a refusal. */
  const sessionOf = (reqOrCtx) => {
    const engine = source.engine;
    if (!engine) return { refusal: problem(503, 'unavailable', 'no policy is loaded') };
    const subject = options.subject(reqOrCtx);
    if (!subject) return { refusal: problem(401, 'unauthorized', 'nobody is signed in') };
    return { session: engine.session(subject), version: engine.version };
  };

  /**
   * Middleware: lets the request through only if `action` on `resource` is allowed (on the
   * record `getRecord(reqOrCtx)` returns, if given; a null record answers 404). Refusals are
   * `{code, message}` JSON: 401 `unauthorized`, 403 `forbidden`, 404 `not_found`, 503
   * `unavailable`. On success `req.fieldgate` (Koa: `ctx.state.fieldgate`) holds
   * `{ session, record, version }` for the handler.
   */
  const authorize = (resource, action, getRecord) => async (a, b, c) => {
    const http = adapt(a, b, c);
    try {
      const { session, version, refusal } = sessionOf(http.ctx);
      if (refusal) return http.refuse(refusal);
      let record;
      if (getRecord) {
        record = await getRecord(http.ctx);
        if (record === null || record === undefined) {
          return http.refuse(problem(404, 'not_found', `no such ${resource}`));
        }
      }
      if (!session.can(action, resource, record, context(http.ctx))) {
        return http.refuse(problem(403, 'forbidden', `you may not ${action} this ${resource}`));
      }
      http.state({ session, record, version });
    } catch (e) {
      return http.fail(e);
    }
    return http.next();
  };

  /**
   * A response body as the caller may see it: a record redacted for `mode` (default `view`),
   * or a list of records without those the caller may not view, each redacted.
   */
  const redact = (reqOrCtx, resource, records, mode = 'view') => {
    const { session, refusal } = sessionOf(reqOrCtx);
    if (refusal) throw new FieldgateError(refusal.body.code, refusal.body.message);
    const ctx = context(reqOrCtx);
    if (!Array.isArray(records)) return session.redact(resource, mode, records, ctx);
    return session.filter(resource, 'view', records, ctx).map((r) => session.redact(resource, mode, r, ctx));
  };

  /**
   * A write checked against the caller's rights: `{ ok, writable, forbidden }`, where
   * `writable` is what of `data` the caller may write (in `mode`, to `record`) and `forbidden`
   * the paths of `data` they may not.
   */
  const checkWrite = (reqOrCtx, resource, mode, record, data) => {
    const { session, refusal } = sessionOf(reqOrCtx);
    if (refusal) throw new FieldgateError(refusal.body.code, refusal.body.message);
    const ctx = context(reqOrCtx);
    const writable = session.writable(resource, mode, record, data, ctx);
    const forbidden = session.forbiddenWrites(resource, mode, record, data, ctx);
    return { ok: forbidden.length === 0, writable, forbidden };
  };

  /**
   * Middleware after `authorize`: refuses a body that writes what the caller may not
   * (403 `forbidden_fields` with `fields`), or with `{ strip: true }` narrows the body to what
   * they may write.
   */
  const guardWrite = (resource, mode, { strip = false } = {}) => async (a, b, c) => {
    const http = adapt(a, b, c);
    try {
      const req = http.ctx.request ?? http.ctx;
      const held = http.ctx.state?.fieldgate ?? http.ctx.fieldgate;
      const w = checkWrite(http.ctx, resource, mode, held?.record, req.body ?? {});
      if (!w.ok && !strip) {
        return http.refuse(problem(403, 'forbidden_fields', `you may not write ${w.forbidden.join(', ')}`, { fields: w.forbidden }));
      }
      req.body = w.writable;
    } catch (e) {
      return http.fail(e);
    }
    return http.next();
  };

  return { source, authorize, redact, checkWrite, guardWrite, stop: () => source.stop() };
}
