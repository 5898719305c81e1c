// @ts-check
// Marshalling between JS and the wasm evaluator: state and mode codes, bundle bytes, interned
// strings, records written as tagged f64 pairs into the scratch buffer in wasm memory, readers
// generated once per resource, and the JSON the module answers in. Nothing here decides.

import { internValue, scratchAddress } from './fieldgate_wasm.js';
import { call, FieldgateError } from './errors.js';
import { instance } from './wasm.js';

/** State names by state code. */
export const STATES = Object.freeze(['hidden', 'masked', 'readonly', 'editable']);
/** Mode codes by mode name. */
const MODES = Object.freeze({ view: 0, create: 1, edit: 2 });

const encoder = new TextEncoder();

export function toBytes(bundle) {
  if (typeof bundle === 'string') return encoder.encode(bundle);
  if (bundle instanceof Uint8Array) return bundle;
  if (bundle instanceof ArrayBuffer) return new Uint8Array(bundle);
  if (ArrayBuffer.isView(bundle)) return new Uint8Array(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  throw new FieldgateError('bad_request', 'a bundle is a string, Uint8Array or ArrayBuffer');
}

export function loadOptions(options, minVersion, checked) {
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
    graceMs: options.graceMs,
    maxBytes: options.maxBytes,
    user: options.user,
  });
}

export function modeCode(mode) {
  const m = MODES[mode];
  if (m === undefined) throw new FieldgateError('bad_request', `mode must be view, create or edit, not ${JSON.stringify(mode)}`);
  return m;
}

// ---- reading records: own members of objects only ----

const hasOwn = Object.prototype.hasOwnProperty;

/** The member `key` of `v`: own members of objects only (lists and functions have none, and
 * nothing comes from a prototype); missing is null. */
export function member(v, key) {
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
export function wasmBytes(addr, n) {
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
export class Compiled {
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
export function subjectJson(s) {
  const { roles, department, groups, org, attrs, reports } = s;
  let out = '{"id":' + JSON.stringify(s.id);
  if (roles !== undefined && !isEmptyList(roles)) out += ',"roles":' + JSON.stringify(roles);
  if (department !== undefined) out += ',"department":' + JSON.stringify(department);
  if (groups !== undefined && !isEmptyList(groups)) out += ',"groups":' + JSON.stringify(groups);
  if (org !== undefined && org !== null) out += ',"org":' + JSON.stringify(org);
  if (attrs !== undefined && !isEmptyObject(attrs)) out += ',"attrs":' + JSON.stringify(attrs);
  if (reports !== undefined && !isEmptyObject(reports)) out += ',"reports":' + JSON.stringify(reports);
  return out + '}';
}


export function json(v) {
  return v === undefined || v === null ? undefined : JSON.stringify(v);
}
