// The engine and its sessions: the API users learn, a thin layer over the wasm evaluator.
//
// The hot path hands the wasm side plain numbers only: resource and action ids resolved once
// per policy version, and records reduced to the attributes the asked resource reads, written
// by a reader made once per resource as tagged f64 pairs into a scratch buffer in wasm memory;
// strings are interned once. State codes come back through wasm memory too. Nothing calls
// back from wasm into JS, and nothing here decides: every answer is the evaluator's.

import { internValue, scratchAddress, WasmEngine } from './fieldgate_wasm.js';
import { call, FieldgateError } from './errors.js';
import { init, initNow, instance } from './wasm.js';
import { checkSignatures, checkSignaturesNow } from './signatures.js';

export { init };

/** State names by state code. */
export const STATES = Object.freeze(['hidden', 'masked', 'readonly', 'editable']);
/** Mode codes by mode name. */
const MODES = Object.freeze({ view: 0, create: 1, edit: 2 });

const encoder = new TextEncoder();

function toBytes(bundle) {
  if (typeof bundle === 'string') return encoder.encode(bundle);
  if (bundle instanceof Uint8Array) return bundle;
  if (bundle instanceof ArrayBuffer) return new Uint8Array(bundle);
  if (ArrayBuffer.isView(bundle)) return new Uint8Array(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  throw new FieldgateError('bad_request', 'a bundle is a string, Uint8Array or ArrayBuffer');
}

function loadOptions(options, minVersion, checked) {
  if (!options || !Array.isArray(options.trustedKeys)) {
    throw new FieldgateError('bad_key', 'options.trustedKeys must list the trusted public keys');
  }
  return JSON.stringify({
    checked,
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

// ---- reading records: own members of objects only ----

const hasOwn = Object.prototype.hasOwnProperty;

/** The member `key` of `v`: own members of objects only (lists and functions have none, and
 * nothing comes from a prototype); missing is null. */
function member(v, key) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && hasOwn.call(v, key) ? v[key] : null;
}

/** The value at a path of keys; missing is null. */
function pick(obj, keys) {
  let v = obj;
  for (let i = 0; i < keys.length; i++) v = member(v, keys[i]);
  return v === undefined ? null : v;
}

// ---- slot values: tagged f64 pairs (0 null, 1 false, 2 true, 3 number, 4 interned id) ----

// Ids of interned values: strings by their text, lists and objects by their JSON text.
const internedStrings = new Map();
const internedJson = new Map();
let epoch = 0;
let scratchView = null;
// Whether a number was written since the last hand-over began (wasm decodes numbers only then).
let sawNumber = false;

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

/**
 * Writes `v` as a tag and a payload at `buf[i]`. Interning may call into wasm and grow its
 * memory, which detaches `buf`: nothing is written to a detached view (the caller asks for a new
 * one and writes again). A store to a detached typed array would also turn V8's store sites for
 * these views generic for good, several times slower on every later call.
 */
function encode(v, buf, i) {
  let tag = 0;
  let val = 0;
  if (typeof v === 'string') {
    tag = 4;
    val = intern(internedStrings, v, false);
  } else if (typeof v === 'number') {
    if (Number.isFinite(v)) {
      tag = 3;
      val = v;
      sawNumber = true;
    }
  } else if (v === false) {
    tag = 1;
  } else if (v === true) {
    tag = 2;
  } else if (typeof v === 'bigint') {
    tag = 3;
    val = Number(v);
    sawNumber = true;
  } else if (v !== null && v !== undefined) {
    tag = 4;
    val = intern(internedJson, JSON.stringify(v), true);
  }
  if (buf.length !== 0) {
    buf[i] = tag;
    buf[i + 1] = val;
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
    scratchView = new Float64Array(instance().memory.buffer, addr, cap);
  }
  return scratchView;
}

let bytesView = null;

/** `n` bytes written by wasm at `addr`, as a view (copy it before the next call). The view is
 * reused while the place is the same (a grown memory detaches it: its length drops to 0). */
function wasmBytes(addr, n) {
  if (bytesView === null || bytesView.byteOffset !== addr || bytesView.length !== n) {
    bytesView = new Uint8Array(instance().memory.buffer, addr, n);
  }
  return bytesView;
}

// Whether this page lets us generate code (a CSP without 'unsafe-eval' does not); tried once.
let generate = true;

/** A function made from `body` with `args`, or null where the page forbids generated code. */
function generated(args, body) {
  if (!generate) return null;
  try {
    return new Function(...args, body);
  } catch {
    generate = false;
    return null;
  }
}

/**
 * A function `(codes, STATES) => { field: state, … }` for these field names, in order. Where the
 * page allows it, generated code that writes one object literal (V8 builds it from a template,
 * an order of magnitude faster than storing sixty keys one by one); else a copy of a template
 * object filled in by key. Names enter the code only as JSON string literals.
 */
function objectBuilder(names) {
  const key = (n) => (n === '__proto__' ? '["__proto__"]' : JSON.stringify(n));
  const made = generated(['c', 'S'], `return {\n${names.map((n, i) => `${key(n)}: S[c[${i}]]`).join(',\n')}\n};`);
  if (made) return made;
  const shape = Object.fromEntries(names.map((n) => [n, STATES[0]]));
  return (codes, states) => {
    const out = { ...shape };
    for (let i = 0; i < codes.length; i++) out[names[i]] = states[codes[i]];
    return out;
  };
}

const objectProto = Object.prototype;
const protoOf = Object.getPrototypeOf;

/** Whether a plain read of `v[key]` sees own members only (for a key `Object.prototype` does
 * not have): `v` is a plain or null-prototype object. */
function plain(v) {
  if (v === null || typeof v !== 'object') return false;
  const p = protoOf(v);
  return p === objectProto || p === null;
}

/**
 * A function `(record, buf, at)` writing the slots one resource reads: where the page allows
 * generated code, straight-line reads (a plain object's members read directly, anything else
 * and names `Object.prototype` has through `member`); else a loop over the paths.
 */
function slotWriter(paths, slots) {
  const step = (expr, k, top) => {
    const key = JSON.stringify(k);
    if (k in objectProto || k === '__proto__') return `m(${expr}, ${key})`;
    return `(${top ? 'pr' : `p(x = ${expr})`} ? ${top ? 'r' : 'x'}[${key}] : m(${top ? 'r' : 'x'}, ${key}))`;
  };
  const reads = slots.map((s) => {
    let expr = 'r';
    paths[s].forEach((k, i) => { expr = step(expr, k, i === 0); });
    return `e(${expr}, b, at + ${2 * s});`;
  });
  const made = generated(['m', 'e', 'p'], `return function (r, b, at) {\nconst pr = p(r);\nlet x;\n${reads.join('\n')}\n};`);
  if (made) return made(member, encode, plain);
  return (record, buf, at) => {
    for (const s of slots) encode(pick(record, paths[s]), buf, at + 2 * s);
  };
}

/** Everything derived from one loaded policy version, computed once (per resource on first
 * use: a large policy loads without listing every field). */
class Compiled {
  constructor(wasm) {
    this.wasm = wasm;
    // Header facts, the attribute paths and the resource names (a resource's id is its index).
    this.info = JSON.parse(wasm.schema());
    this.recordKeys = this.info.recordPaths.map((p) => p.split('.'));
    this.contextKeys = this.info.contextPaths.map((p) => p.split('.'));
    this.recLen = this.recordKeys.length * 2;
    this.ctxLen = this.contextKeys.length * 2;
    this.writeContext = slotWriter(this.contextKeys, this.contextKeys.map((_, i) => i));
    this.ids = new Map(this.info.resources.map((name, id) => [name, id]));
    // By resource name, made on first use: `{ id, names, actionNames, actions, slots, object, write }`.
    this.resources = new Map();
  }

  /** The resource's entry; an unknown name throws the evaluator's `unknown_resource`. */
  resource(name) {
    const r = this.resources.get(name);
    return r === undefined ? this.#add(name) : r;
  }

  #add(name) {
    const id = this.ids.get(name);
    if (id === undefined) call(() => this.wasm.resourceId(String(name)));
    const { fields, actions, slots } = JSON.parse(this.wasm.resourceSchema(id));
    const r = {
      id, names: fields, actionNames: actions, actions: new Map(actions.map((a, i) => [a, i])), slots,
      object: objectBuilder(fields), write: slotWriter(this.recordKeys, slots),
    };
    this.resources.set(name, r);
    return r;
  }

  /** The id of `action` on the resource entry `r` (an unknown one throws `unknown_action`). */
  action(r, action) {
    const id = r.actions.get(action);
    return id === undefined ? call(() => this.wasm.actionId(r.id, String(action))) : id;
  }

  /** Hands a record and context over for resource entry `r`; returns the flags for wasm
   * (1: a record, 2: a context, 4: some value is a number). */
  input(r, record, context) {
    const hasR = record !== undefined && record !== null;
    const hasC = context !== undefined && context !== null;
    if (!hasR && !hasC) return 0;
    let buf, seen;
    sawNumber = false;
    do {
      buf = scratch(this.recLen + this.ctxLen);
      seen = epoch;
      if (hasR) r.write(record, buf, 0);
      if (hasC) this.writeContext(context, buf, this.recLen);
    } while (seen !== epoch || buf.length === 0);
    return (hasR ? 1 : 0) | (hasC ? 2 : 0) | (sawNumber ? 4 : 0);
  }

  /** Hands many records (one after another) and a context over. */
  inputMany(r, records, context) {
    const nr = this.recLen;
    const hasC = context !== undefined && context !== null;
    let buf, seen;
    do {
      buf = scratch(records.length * nr + this.ctxLen);
      seen = epoch;
      for (let k = 0; k < records.length; k++) r.write(records[k] ?? {}, buf, k * nr);
      if (hasC) this.writeContext(context, buf, records.length * nr);
    } while (seen !== epoch || buf.length === 0);
    return hasC;
  }
}

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
    await init(options && options.wasm);
    const bytes = toBytes(bundle);
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
  session(subject) {
    subject ??= this.person;
    if (!subject || typeof subject.id !== 'string') {
      throw new FieldgateError('bad_request', 'a subject needs a string `id`');
    }
    return new Session(this, subject);
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
  const { roles, department, groups, attrs, reports } = s;
  let out = '{"id":' + JSON.stringify(s.id);
  if (roles !== undefined && !isEmptyList(roles)) out += ',"roles":' + JSON.stringify(roles);
  if (department !== undefined) out += ',"department":' + JSON.stringify(department);
  if (groups !== undefined && !isEmptyList(groups)) out += ',"groups":' + JSON.stringify(groups);
  if (attrs !== undefined && !isEmptyObject(attrs)) out += ',"attrs":' + JSON.stringify(attrs);
  if (reports !== undefined && !isEmptyObject(reports)) out += ',"reports":' + JSON.stringify(reports);
  return out + '}';
}

/** One user's decisions. Follows the engine to new policy versions on its own. */
export class Session {
  // Its name survives minification (stack traces and the console show it).
  static name = 'Session';
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
    this.#session(); // a malformed subject (or one a minimized bundle is not for) throws here
  }

  /** The subject this session decides for. */
  get subject() { return this.#subject; }

  #session() {
    const e = this.#engine;
    const g = e._generation();
    if (g !== this.#generation) {
      const c = e._compiled();
      const inner = call(() => c.wasm.session(this.#subjectJson));
      if (e.stale) inner.setStale(true);
      this.#inner?.free();
      this.#c = c;
      this.#inner = inner;
      this.#generation = g;
    }
    return this.#inner;
  }

  /** Whether `action` is allowed on `resource` (for this record, or for some record). */
  can(action, resource, record, context) {
    const s = this.#session();
    const c = this.#c;
    const r = c.resource(resource);
    const answer = s.can(r.id, c.action(r, action), c.input(r, record, context));
    if (answer < 0) throw new FieldgateError('internal', 'resource or action id not in this policy version');
    const allow = answer === 1;
    this.#engine._emit(this.#subject, action, resource, allow, 'check');
    return allow;
  }

  /**
   * The app is about to perform `action` on `record`: the decision, logged as an attempt with
   * the record's id (its `id` member, or `options.id`) for the audit trail.
   */
  attempt(action, resource, record, context, options) {
    const s = this.#session();
    const c = this.#c;
    const r = c.resource(resource);
    const answer = s.can(r.id, c.action(r, action), c.input(r, record, context));
    if (answer < 0) throw new FieldgateError('internal', 'resource or action id not in this policy version');
    const allow = answer === 1;
    const id = options?.id ?? member(record ?? null, 'id');
    this.#engine._emit(this.#subject, action, resource, allow, 'attempt', id === null ? undefined : id);
    return allow;
  }

  /** State codes as a view into wasm memory, valid until the next call (`r` from `#resource`,
   * which brought the session up to date). */
  #codes(r, mode, record, context) {
    const c = this.#c;
    const m = modeCode(mode);
    const addr = this.#inner.fieldStates(r.id, m, c.input(r, record, context));
    if (addr === 0) throw new FieldgateError('internal', 'resource id not in this policy version');
    return wasmBytes(addr, r.names.length);
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

  /** A copy of the record as `mode` shows it: only the declared fields the user may see
   * (dotted names nest), masked values masked, plus `id` and the owner and department. */
  redact(resource, mode, record, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.redact(String(resource), modeCode(mode), JSON.stringify(record), json(context))));
  }

  /** A copy of `formData` with only the declared fields editable here: what may be submitted. */
  writable(resource, mode, record, formData, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.writable(String(resource), modeCode(mode), json(record), JSON.stringify(formData), json(context))));
  }

  /**
   * What an export of `records` may contain: `{ columns, rows }`, the records the user may
   * both `export` and `view` as the view shows them (the session's `redact`), in columns `id` and then the
   * fields whose view state is not hidden on at least one of them, in declaration order; a
   * cell of a field hidden on its record is null. The server's export follows the same rule
   * (tests compare the two on the sample data).
   */
  exportRows(resource, records, context) {
    const names = this.#resource(resource).names;
    const seen = new Uint8Array(names.length);
    const kept = [];
    for (const record of records) {
      if (!this.can('export', resource, record, context) || !this.can('view', resource, record, context)) continue;
      const codes = this.fieldStates(resource, 'view', record, context);
      for (let i = 0; i < codes.length; i++) seen[i] |= codes[i] > 0 ? 1 : 0;
      kept.push(this.redact(resource, 'view', record, context));
    }
    const columns = names.filter((_, i) => seen[i]);
    const at = (v, path) => path.split('.').reduce((x, k) => (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.hasOwn(x, k) ? x[k] : null), v);
    const rows = kept.map((shown) => [at(shown, 'id'), ...columns.map((c) => at(shown, c))]);
    return { columns: ['id', ...columns], rows };
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
    const withContext = c.inputMany(r, records, context);
    const addr = call(() => s.canMany(r.id, aid, records.length, withContext));
    return wasmBytes(addr, records.length).slice();
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

  /** Effective roles, sorted by name. */
  roles() {
    return JSON.parse(this.#session().roles());
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
