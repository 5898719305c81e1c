// @ts-check
// The engine: a verified policy version and the sessions made from it (`session.js`); the
// marshalling they share is `marshal.js`. The API users learn, a thin layer over the wasm
// evaluator.
//
// The hot path hands the wasm side plain numbers only: resource and action ids resolved once
// per policy version, and records reduced to the attributes the asked resource reads, written
// by a reader made once per resource as tagged f64 pairs into a scratch buffer in wasm memory;
// strings are interned once. State codes come back through wasm memory too. Nothing calls
// back from wasm into JS, and nothing here decides: every answer is the evaluator's.

import { WasmEngine } from './fieldgate_wasm.js';
import { call, FieldgateError } from './errors.js';
import { init, initNow, preload } from './wasm.js';
import { checkSignatures, checkSignaturesNow } from './signatures.js';
import { Compiled, loadOptions, toBytes, wasmBytes } from './marshal.js';
import { Session } from './session.js';

export { init, preload };

/** Freshness names by the module's code. */
const FRESHNESS = Object.freeze(['fresh', 'grace', 'stale', 'expired']);
export { STATES } from './marshal.js';

/** A verified policy and the sessions made from it. */
export class Engine {
  // Its name survives minification (stack traces and the console show it).
  static name = 'Engine';
  #compiled;
  #options;
  #generation = 0;
  #decisionListeners = new Set();
  #updateListeners = new Set();
  #stale = false;
  // Decisions waiting to be told to listeners, three entries each (subject, action, resource,
  // allow and kind packed), delivered together in a microtask: off the hot path.
  #pending = [];
  #delivering = false;

  constructor(wasm, options) {
    this.#compiled = new Compiled(wasm);
    this.#options = options;
  }

  /** Verifies a signed bundle (JSON or binary) and loads it; initialises the wasm module once. */
  static async load(bundle, options) {
    const bytes = toBytes(bundle);
    // A binary bundle starts with its magic; anything else is read as a JSON envelope.
    await init(options && options.wasm, { json: bytes[0] !== 0x46 });
    const checked = await checkSignatures(bytes, loadOptions(options, 0), options.trustedKeys);
    return Engine.#fromBundle(bytes, options, checked);
  }

  /** Synchronous start for mobile web views that cannot await: hand over the .wasm bytes
   * (in Node they may be left out). */
  static loadSync(bundle, wasmBytes, options) {
    initNow(wasmBytes);
    const bytes = toBytes(bundle);
    const checked = checkSignaturesNow(bytes, loadOptions(options, 0), options.trustedKeys);
    return Engine.#fromBundle(bytes, options, checked);
  }

  /** Compiles a policy document with NO signature check: previews and tests only. */
  static fromPolicyUnverified(policy) {
    initNow();
    const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
    return new Engine(call(() => WasmEngine.fromPolicyUnverified(text)), null);
  }

  static #fromBundle(bytes, options, checked) {
    const wasm = call(() => WasmEngine.load(bytes, loadOptions(options, 0, checked)));
    return new Engine(wasm, options);
  }

  get app() { return this.#live.info.app; }
  get version() { return this.#live.info.version; }
  get issuedAt() { return this.#live.info.issuedAt; }
  get expiresAt() { return this.#live.info.expiresAt; }
  /** `fresh`, `grace` or `stale` when it was loaded, as the verifier judged it. */
  get freshness() { return this.#live.info.freshness; }
  /** Where the bundle stands at `now` by the verifier's rule (`expired` without grace). */
  freshnessAt(now, { skewMs = 0, graceMs = -1 } = {}) {
    return FRESHNESS[this.#live.wasm.freshnessAt(now, skewMs, graceMs)];
  }
  get keyId() { return this.#live.info.keyId; }
  /** The user a minimized bundle is bound to, if any (sessions for anyone else are refused). */
  get subject() { return this.#live.info.subject; }
  /**
   * That user as the server resolved them (department, groups, roles, reporting line), signed
   * with the policy (`?for=me` bundles): `session()` with no subject decides for them.
   */
  get person() { return this.#live.info.person ? JSON.parse(this.#live.info.person) : null; }
  /**
   * Stale mode (set by `BundleStore` past an opted-in grace period): every field is at most
   * readonly and every action but `view` is denied, in every answer, until a fresh bundle
   * arrives. The evaluator applies it; sessions follow.
   */
  get stale() { return this.#stale; }
  set stale(on) {
    this.#stale = Boolean(on);
    this.#generation++;
    for (const f of this.#updateListeners) f(this);
  }

  /** Resource names in declaration order. */
  resources() { return [...this.#live.info.resources]; }
  /** Declared field names of a resource, in order. */
  fields(resource) { return [...this.#live.resource(resource).names]; }
  /** Declared actions of a resource, in order. */
  actions(resource) { return [...this.#live.resource(resource).actionNames]; }

  /**
   * A session for one user: reuse it for every decision about that user. With no subject, the
   * bundle's own `person`. A per-user bundle refuses anyone else (`wrong_subject`) and any
   * subject that says other things of its user (`subject_mismatch`).
   */
  session(subject, options) {
    subject ??= this.person;
    if (!subject || typeof subject.id !== 'string') {
      throw new FieldgateError('bad_request', 'a subject needs a string `id`');
    }
    const now = options?.now;
    const ms = now instanceof Date || typeof now === 'number' ? Number(now) : NaN;
    if (now !== undefined && !Number.isFinite(ms)) {
      throw new FieldgateError('bad_request', '`now` is a Date or Unix milliseconds');
    }
    return new Session(this, subject, now === undefined ? undefined : ms);
  }

  /**
   * Verifies and swaps in a new bundle atomically: on any failure it throws and the current
   * policy stays in force. Versions below the current one are refused (`rollback`), and so are
   * expired ones, whatever grace an earlier load was given.
   */
  async update(bundle, options) {
    const opts = options ?? this.#options;
    if (!opts) throw new FieldgateError('bad_request', 'an unverified engine cannot take bundles; give options');
    await init(opts.wasm);
    const bytes = toBytes(bundle);
    const at = { ...opts, now: options?.now ?? Date.now() };
    const checked = await checkSignatures(bytes, loadOptions(at, this.version), opts.trustedKeys);
    const wasm = call(() => WasmEngine.load(bytes, loadOptions(at, this.version, checked)));
    const previous = this.#live;
    this.#compiled = new Compiled(wasm);
    this.#options = opts;
    this.#generation++;
    previous.wasm.free();
    this.#stale = false;
    for (const f of this.#updateListeners) f(this);
    return this;
  }

  /**
   * Audit hook: told of every decision, `{ subject, action, resource, allow, version, at, kind }`
   * (`kind`: `check` for `can`, `attempt` for `attempt`, with `record` its id). Events are
   * delivered together, in a microtask after the decisions.
   */
  onDecision(listener) {
    this.#decisionListeners.add(listener);
    return () => this.#decisionListeners.delete(listener);
  }

  /**
   * Releases the policy's wasm memory now instead of when the engine is collected (an app that
   * drops engines often, such as one per tenant, should call it; sessions still alive hold the
   * policy until they are freed or collected). The engine and its sessions throw `freed` after.
   */
  free() {
    this.#compiled?.wasm.free();
    this.#compiled = null;
    this.#generation++;
  }

  /** Called after `update` swapped in a new policy, and when stale mode changes. */
  onUpdate(listener) {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  /** The compiled policy; throws `freed` after `free()`. */
  get #live() {
    if (!this.#compiled) throw new FieldgateError('freed', 'this engine was freed');
    return this.#compiled;
  }

  /** @internal The options a later `update(bundle)` verifies with (a grace load's extra skew
   * must not carry over to updates). */
  _options(options) { this.#options = options; }
  /** @internal */
  _compiled() { return this.#live; }
  /** @internal */
  _generation() { return this.#generation; }
  /** @internal Queues a decision for the listeners (nothing when there are none). */
  _emit(subject, action, resource, allow, kind, record) {
    if (this.#decisionListeners.size === 0) return;
    this.#pending.push(subject, action, resource, allow, kind, record);
    if (!this.#delivering) {
      this.#delivering = true;
      queueMicrotask(() => this.#deliver());
    }
  }

  #deliver() {
    const batch = this.#pending;
    this.#pending = [];
    this.#delivering = false;
    const at = Date.now();
    const version = this.#compiled ? this.version : 0;
    const listeners = [...this.#decisionListeners];
    for (let i = 0; i < batch.length; i += 6) {
      const event = { subject: batch[i].id, action: batch[i + 1], resource: batch[i + 2], allow: batch[i + 3], version, at, kind: batch[i + 4] };
      if (batch[i + 5] !== undefined) event.record = batch[i + 5];
      for (let k = 0; k < listeners.length; k++) listeners[k](event);
    }
  }
}
