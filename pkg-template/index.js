// fieldgate: the JavaScript face of the wasm evaluator.
//
// The hot path hands the wasm side plain numbers only: resource and action ids resolved once
// per policy version, and records reduced to the few attributes the policy reads (its record
// paths), written as tagged f64 pairs into a scratch buffer in wasm memory; strings are interned
// once. State codes come back through wasm memory too. Nothing calls back from wasm into JS.

import wasmInit, { initSync, internValue, scratchAddress, WasmEngine } from './fieldgate_wasm.js';

/** State names by state code. */
export const STATES = Object.freeze(['hidden', 'masked', 'readonly', 'editable']);
/** Mode codes by mode name. */
const MODES = Object.freeze({ view: 0, create: 1, edit: 2 });
const WASM_URL = new URL('./fieldgate_wasm_bg.wasm', import.meta.url);

/** An error with a stable `code` (and `path` for policy mistakes). */
export class FieldgateError extends Error {
  constructor(code, message, path, errors) {
    super(message);
    this.name = 'FieldgateError';
    this.code = code;
    if (path !== undefined && path !== null) this.path = path;
    if (errors !== undefined && errors !== null) this.errors = errors;
  }
}

/** The one place wasm errors become FieldgateError. */
function rethrow(e) {
  if (e instanceof FieldgateError) throw e;
  if (typeof e === 'string' && e.startsWith('{')) {
    try {
      e = JSON.parse(e);
    } catch {
      // not one of ours: reported as internal below
    }
  }
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    throw new FieldgateError(e.code, e.message, e.path, e.errors);
  }
  throw new FieldgateError('internal', String(e && e.message ? e.message : e));
}

function call(f) {
  try {
    return f();
  } catch (e) {
    return rethrow(e);
  }
}

let initialized = false;
let initializing = null;
let wasmExports = null;

/**
 * Loads the wasm module once. `Engine.load` calls it for you; call it yourself only to host the
 * .wasm elsewhere (a URL, a Response, bytes or a WebAssembly.Module).
 */
export async function init(urlOrBytes) {
  if (initialized) return;
  if (!initializing) {
    initializing = (async () => {
      let input = urlOrBytes;
      if (input === undefined && nodeFs()) input = nodeFs().readFileSync(WASM_URL);
      wasmExports = await wasmInit({ module_or_path: input === undefined ? WASM_URL : input });
      initialized = true;
    })();
    initializing.catch(() => { initializing = null; });
  }
  return initializing;
}

/** Node's fs when running in Node (no import: bundlers and browsers never see it). */
function nodeFs() {
  const p = globalThis.process;
  return p && p.versions && p.versions.node && typeof p.getBuiltinModule === 'function'
    ? p.getBuiltinModule('node:fs')
    : null;
}

function initNow(wasmBytes) {
  if (initialized) return;
  const bytes = wasmBytes ?? nodeFs()?.readFileSync(WASM_URL);
  if (!bytes) {
    throw new FieldgateError('not_initialized', 'call `await init()` (or use Engine.load) before synchronous use in a browser');
  }
  wasmExports = initSync({ module: bytes });
  initialized = true;
}

const encoder = new TextEncoder();

function toBytes(bundle) {
  if (typeof bundle === 'string') return encoder.encode(bundle);
  if (bundle instanceof Uint8Array) return bundle;
  if (bundle instanceof ArrayBuffer) return new Uint8Array(bundle);
  if (ArrayBuffer.isView(bundle)) return new Uint8Array(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  throw new FieldgateError('bad_request', 'a bundle is a string, Uint8Array or ArrayBuffer');
}

function loadOptions(options, minVersion) {
  if (!options || !Array.isArray(options.trustedKeys)) {
    throw new FieldgateError('bad_key', 'options.trustedKeys must list the trusted public keys');
  }
  return JSON.stringify({
    trustedKeys: options.trustedKeys,
    threshold: options.threshold,
    app: options.app,
    minVersion: Math.max(minVersion ?? 0, options.minVersion ?? 0),
    now: options.now ?? Date.now(),
    skewMs: options.skewMs,
    maxBytes: options.maxBytes,
    user: options.user,
  });
}

function modeCode(mode) {
  const m = MODES[mode];
  if (m === undefined) throw new FieldgateError('bad_request', `mode must be view, create or edit, not ${JSON.stringify(mode)}`);
  return m;
}

/** A path like `customer.region` read from an object; missing is null. */
function pick(obj, keys) {
  let v = obj;
  for (let i = 0; i < keys.length; i++) {
    if (v === null || typeof v !== 'object') return null;
    v = v[keys[i]];
  }
  return v === undefined ? null : v;
}

// ---- slot values: tagged f64 pairs (0 null, 1 false, 2 true, 3 number, 4 interned id) ----

// Ids of interned values: strings by their text, lists and objects by their JSON text.
const internedStrings = new Map();
const internedJson = new Map();
let epoch = 0;
let scratchView = null;

function intern(map, text, json) {
  let id = map.get(text);
  if (id === undefined) {
    id = internValue(text, json);
    if (id < 0) {
      // The wasm table was full and cleared: every id we hold is void.
      internedStrings.clear();
      internedJson.clear();
      epoch++;
      id = internValue(text, json);
    }
    map.set(text, id);
  }
  return id;
}

function encode(v, buf, i) {
  if (v === null || v === undefined) {
    buf[i] = 0;
  } else if (v === false) {
    buf[i] = 1;
  } else if (v === true) {
    buf[i] = 2;
  } else if (typeof v === 'number') {
    buf[i] = Number.isFinite(v) ? 3 : 0;
    buf[i + 1] = v;
  } else if (typeof v === 'string') {
    buf[i] = 4;
    buf[i + 1] = intern(internedStrings, v, false);
  } else if (typeof v === 'bigint') {
    buf[i] = 3;
    buf[i + 1] = Number(v);
  } else {
    buf[i] = 4;
    buf[i + 1] = intern(internedJson, JSON.stringify(v), true);
  }
}

/**
 * The scratch buffer in wasm memory, as a view of at least `len` f64. Values are written straight
 * into it; interning a new string calls into wasm, which may grow its memory and detach the
 * view (its length drops to 0): the writer then asks again and writes again.
 */
function scratch(len) {
  if (scratchView === null || scratchView.length < len) {
    const cap = Math.max(len, scratchView ? scratchView.length : 0, 256);
    const addr = scratchAddress(cap);
    scratchView = new Float64Array(wasmExports.memory.buffer, addr, cap);
  }
  return scratchView;
}

let bytesView = null;

/** `n` bytes written by wasm at `addr`, as a view (copy it before the next call). The view is
 * reused while the place is the same (a grown memory detaches it: its length drops to 0). */
function wasmBytes(addr, n) {
  if (bytesView === null || bytesView.byteOffset !== addr || bytesView.length !== n) {
    bytesView = new Uint8Array(wasmExports.memory.buffer, addr, n);
  }
  return bytesView;
}

// Whether this page lets us generate code (a CSP without 'unsafe-eval' does not); tried once.
let generate = true;

/**
 * A function `(codes, STATES) => { field: state, … }` for these field names, in order. Where the
 * page allows it, generated code that writes one object literal (V8 builds it from a template,
 * an order of magnitude faster than storing sixty keys one by one); else a copy of a template
 * object filled in by key. Names enter the code only as JSON string literals.
 */
function objectBuilder(names) {
  if (generate) {
    try {
      const key = (n) => (n === '__proto__' ? '["__proto__"]' : JSON.stringify(n));
      const body = names.map((n, i) => `${key(n)}: S[c[${i}]]`).join(',\n');
      return new Function('c', 'S', `return {\n${body}\n};`);
    } catch {
      generate = false;
    }
  }
  const shape = Object.fromEntries(names.map((n) => [n, STATES[0]]));
  return (codes, states) => {
    const out = { ...shape };
    for (let i = 0; i < codes.length; i++) out[names[i]] = states[codes[i]];
    return out;
  };
}

/** Everything derived from one loaded policy version, computed once. */
class Compiled {
  constructor(wasm) {
    this.wasm = wasm;
    this.recordKeys = wasm.recordPaths().map((p) => p.split('.'));
    this.contextKeys = wasm.contextPaths().map((p) => p.split('.'));
    // By resource name: `{ id, names, object, actions }`, where `object` turns state codes into
    // `{ field: state }` and `actions` maps action names to ids.
    this.resources = new Map();
    // Layout of the last `input`: record and context offsets (-1: absent) and lengths.
    this.recAt = -1;
    this.ctxAt = -1;
  }

  /** The resource's entry (see `resources`), made on first use. */
  resource(name) {
    let r = this.resources.get(name);
    if (r === undefined) {
      const id = call(() => this.wasm.resourceId(String(name)));
      const names = call(() => this.wasm.fields(name));
      r = { id, names, object: objectBuilder(names), actions: new Map() };
      this.resources.set(name, r);
    }
    return r;
  }

  /** The id of `action` on the resource entry `r`. */
  action(r, action) {
    let id = r.actions.get(action);
    if (id === undefined) {
      id = call(() => this.wasm.actionId(r.id, String(action)));
      r.actions.set(action, id);
    }
    return id;
  }

  get recLen() { return this.recordKeys.length * 2; }
  get ctxLen() { return this.contextKeys.length * 2; }

  /** Writes `obj`'s slots at `at` in the scratch buffer. */
  #fill(buf, at, obj, keys) {
    for (let i = 0; i < keys.length; i++) encode(pick(obj, keys[i]), buf, at + 2 * i);
  }

  /** Hands a record and context over; sets `recAt`/`ctxAt`. */
  input(record, context) {
    const hasR = record !== undefined && record !== null;
    const hasC = context !== undefined && context !== null;
    const nr = this.recLen;
    const len = (hasR ? nr : 0) + (hasC ? this.ctxLen : 0);
    this.recAt = hasR ? 0 : -1;
    this.ctxAt = hasC ? (hasR ? nr : 0) : -1;
    if (len === 0) return;
    let buf, seen;
    do {
      buf = scratch(len);
      seen = epoch;
      if (hasR) this.#fill(buf, 0, record, this.recordKeys);
      if (hasC) this.#fill(buf, this.ctxAt, context, this.contextKeys);
    } while (seen !== epoch || buf.length === 0);
  }

  /** Hands many records (one after another) and a context over; returns the context offset. */
  inputMany(records, context) {
    const nr = this.recLen;
    const hasC = context !== undefined && context !== null;
    const len = records.length * nr + (hasC ? this.ctxLen : 0);
    this.ctxAt = hasC ? records.length * nr : -1;
    if (len === 0) return;
    let buf, seen;
    do {
      buf = scratch(len);
      seen = epoch;
      for (let k = 0; k < records.length; k++) this.#fill(buf, k * nr, records[k] ?? {}, this.recordKeys);
      if (hasC) this.#fill(buf, this.ctxAt, context, this.contextKeys);
    } while (seen !== epoch || buf.length === 0);
  }
}

/** A verified policy and the sessions made from it. */
export class Engine {
  #compiled;
  #options;
  #generation = 0;
  #decisionListeners = new Set();
  #updateListeners = new Set();
  #stale = false;

  constructor(wasm, options) {
    this.#compiled = new Compiled(wasm);
    this.#options = options;
  }

  /** Verifies a signed bundle (JSON or binary) and loads it; initialises the wasm module once. */
  static async load(bundle, options) {
    await init(options && options.wasm);
    return Engine.#fromBundle(bundle, options);
  }

  /** Synchronous start for mobile web views that cannot await: hand over the .wasm bytes. */
  static loadSync(bundle, wasmBytes, options) {
    initNow(wasmBytes);
    return Engine.#fromBundle(bundle, options);
  }

  /** Compiles a policy document with NO signature check: previews and tests only. */
  static fromPolicyUnverified(policy) {
    initNow();
    const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
    return new Engine(call(() => WasmEngine.fromPolicyUnverified(text)), null);
  }

  static #fromBundle(bundle, options) {
    const bytes = toBytes(bundle);
    const wasm = call(() => WasmEngine.load(bytes, loadOptions(options, 0)));
    return new Engine(wasm, options);
  }

  get app() { return this.#live.wasm.app; }
  get version() { return this.#live.wasm.version; }
  get issuedAt() { return this.#live.wasm.issuedAt ?? null; }
  get expiresAt() { return this.#live.wasm.expiresAt ?? null; }
  get keyId() { return this.#live.wasm.keyId || null; }
  /** The user a minimized bundle is bound to, if any. */
  get subject() { return this.#live.wasm.subject ?? null; }
  /**
   * Stale mode (set by `BundleStore` past an opted-in grace period): every field is at most
   * readonly and every action but `view` is denied, until a fresh bundle arrives.
   */
  get stale() { return this.#stale; }
  set stale(on) {
    this.#stale = Boolean(on);
    for (const f of this.#updateListeners) f(this);
  }

  /** Resource names in declaration order. */
  resources() { return this.#live.wasm.resources(); }
  /** Declared field names of a resource, in order. */
  fields(resource) { return call(() => this.#live.wasm.fields(String(resource))); }
  /** Declared actions of a resource, in order. */
  actions(resource) { return call(() => this.#live.wasm.actions(String(resource))); }

  /** A session for one user: reuse it for every decision about that user. */
  session(subject) {
    if (!subject || typeof subject.id !== 'string') {
      throw new FieldgateError('bad_request', 'a subject needs a string `id`');
    }
    return new Session(this, subject);
  }

  /**
   * Verifies and swaps in a new bundle atomically: on any failure it throws and the current
   * policy stays in force. Versions below the current one are refused (`rollback`).
   */
  async update(bundle, options) {
    const opts = options ?? this.#options;
    if (!opts) throw new FieldgateError('bad_request', 'an unverified engine cannot take bundles; give options');
    await init(opts.wasm);
    const bytes = toBytes(bundle);
    const wasm = call(() => WasmEngine.load(bytes, loadOptions({ ...opts, now: options?.now ?? Date.now() }, this.version)));
    const previous = this.#live;
    this.#compiled = new Compiled(wasm);
    this.#options = opts;
    this.#generation++;
    previous.wasm.free();
    this.#stale = false;
    for (const f of this.#updateListeners) f(this);
    return this;
  }

  /** Audit hook: called after every `can` with `{ subject, action, resource, allow, version, at }`. */
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

  /** Called after `update` swapped in a new policy. */
  onUpdate(listener) {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  /** @internal */
  /** The compiled policy; throws `freed` after `free()`. */
  get #live() {
    if (!this.#compiled) throw new FieldgateError('freed', 'this engine was freed');
    return this.#compiled;
  }

  _compiled() { return this.#live; }
  /** @internal */
  _generation() { return this.#generation; }
  /** @internal */
  _emit(subject, action, resource, allow) {
    if (this.#decisionListeners.size === 0) return;
    const event = { subject: subject.id, action, resource, allow, version: this.version, at: Date.now() };
    for (const f of this.#decisionListeners) f(event);
  }
}

const isEmptyList = (v) => Array.isArray(v) && v.length === 0;
const isEmptyObject = (v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const _ in v) return false;
  return true;
};

/**
 * The subject as JSON for wasm: what `JSON.stringify` gives, without the empty lists and the
 * empty `attrs` (their defaults), which `JSON.stringify` is slow to write.
 */
function subjectJson(s) {
  const { roles, department, groups, attrs } = s;
  let out = '{"id":' + JSON.stringify(s.id);
  if (roles !== undefined && !isEmptyList(roles)) out += ',"roles":' + JSON.stringify(roles);
  if (department !== undefined) out += ',"department":' + JSON.stringify(department);
  if (groups !== undefined && !isEmptyList(groups)) out += ',"groups":' + JSON.stringify(groups);
  if (attrs !== undefined && !isEmptyObject(attrs)) out += ',"attrs":' + JSON.stringify(attrs);
  return out + '}';
}

/** One user's decisions. Follows the engine to new policy versions on its own. */
export class Session {
  #engine;
  #subject;
  #subjectJson;
  #generation = -1;
  #inner = null;
  #c = null;

  constructor(engine, subject) {
    this.#engine = engine;
    this.#subject = subject;
    this.#subjectJson = subjectJson(subject);
    this.#session(); // a malformed subject throws here, not at the first decision
  }

  /** The subject this session decides for. */
  get subject() { return this.#subject; }

  #session() {
    const g = this.#engine._generation();
    if (g !== this.#generation) {
      this.#c = this.#engine._compiled();
      this.#inner = call(() => this.#c.wasm.session(this.#subjectJson));
      this.#generation = g;
    }
    return this.#inner;
  }

  /** Whether `action` is allowed on `resource` (for this record, or for some record). */
  can(action, resource, record, context) {
    const s = this.#session();
    const c = this.#c;
    const r = c.resource(resource);
    const aid = c.action(r, action);
    c.input(record, context);
    const answer = s.can(r.id, aid, c.recAt, c.recLen, c.ctxAt, c.ctxLen);
    if (answer < 0) throw new FieldgateError('internal', 'resource or action id not in this policy version');
    const allow = answer === 1 && (action === 'view' || !this.#engine.stale);
    this.#engine._emit(this.#subject, action, resource, allow);
    return allow;
  }

  /** State codes as a view into wasm memory, valid until the next call (`r` from `#resource`,
   * which brought the session up to date). */
  #codes(r, mode, record, context) {
    const s = this.#inner;
    const c = this.#c;
    const m = modeCode(mode);
    c.input(record, context);
    const addr = s.fieldStates(r.id, m, c.recAt, c.recLen, c.ctxAt, c.ctxLen);
    if (addr === 0) throw new FieldgateError('internal', 'resource id not in this policy version');
    const codes = wasmBytes(addr, r.names.length);
    if (this.#engine.stale) for (let i = 0; i < codes.length; i++) codes[i] = Math.min(codes[i], 2);
    return codes;
  }

  /** One state code per declared field (0 hidden, 1 masked, 2 readonly, 3 editable). */
  fieldStates(resource, mode, record, context) {
    return this.#codes(this.#resource(resource), mode, record, context).slice();
  }

  /** `{ field: 'editable' | 'readonly' | 'masked' | 'hidden' }` in declaration order. */
  fields(resource, mode, record, context) {
    const r = this.#resource(resource);
    return r.object(this.#codes(r, mode, record, context), STATES);
  }

  /** The resource's entry in the current policy version. */
  #resource(resource) {
    this.#session();
    return this.#c.resource(resource);
  }

  /** A copy of the record as `mode` shows it: hidden fields removed, masked values masked. */
  redact(resource, mode, record, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.redact(String(resource), modeCode(mode), JSON.stringify(record), json(context))));
  }

  /** A copy of `formData` with only the fields editable here: what may be submitted. */
  writable(resource, mode, record, formData, context) {
    const s = this.#session();
    if (this.#engine.stale) return {};
    return JSON.parse(call(() => s.writable(String(resource), modeCode(mode), json(record), JSON.stringify(formData), json(context))));
  }

  /** Everything a form needs in one call: `{ actions: { edit: true, … }, fields: { … } }`. */
  form(resource, mode, record, context) {
    const actions = {};
    for (const a of this.#engine.actions(resource)) actions[a] = this.can(a, resource, record, context);
    return { actions, fields: this.fields(resource, mode, record, context) };
  }

  /** 0/1 per record: list and dashboard screens in one crossing. */
  canMany(action, resource, records, context) {
    const s = this.#session();
    const c = this.#c;
    const r = c.resource(resource);
    const aid = c.action(r, action);
    c.inputMany(records, context);
    const addr = call(() => s.canMany(r.id, aid, records.length, c.recLen, c.ctxAt, c.ctxLen));
    const out = wasmBytes(addr, records.length).slice();
    if (this.#engine.stale && action !== 'view') out.fill(0);
    return out;
  }

  /** Which grants and rules decided, by role/template/rule id, and why each field has its state. */
  explain(action, resource, record, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.explain(String(action), String(resource), json(record), json(context))));
  }

  /** The condition a record must meet for `action`, as a JSON tree (for local lists or queries). */
  scopeFilter(resource, action, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.scopeFilter(String(resource), String(action), json(context))));
  }

  /** The records on which `action` is allowed. */
  filter(resource, action, records, context) {
    const mask = this.canMany(action, resource, records, context);
    return records.filter((_, i) => mask[i] === 1);
  }

  /** Effective roles. */
  roles() {
    return this.#session().roles();
  }

  /** Releases the wasm memory of this session now (it is also released when collected). */
  free() {
    if (this.#inner) this.#inner.free();
    this.#inner = null;
    this.#generation = -1;
  }
}

function json(v) {
  return v === undefined || v === null ? undefined : JSON.stringify(v);
}

export { BundleStore, DecisionLog, memoryStorage } from './store.js';
