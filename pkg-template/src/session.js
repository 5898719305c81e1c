// @ts-check
// A session: one user's decisions, asked of the evaluator through the engine's compiled
// resources. Every answer is the evaluator's.

import { call, FieldgateError } from './errors.js';
import { STATES, json, member, modeCode, subjectJson, wasmBytes } from './marshal.js';

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
  // The decision time: fixed when given, else the device's clock, read again only once the
  // evaluator's `changesAt` (a dated entry starting or ending) has passed.
  #now;
  #changesAt = Infinity;

  constructor(engine, subject, now) {
    this.#engine = engine;
    this.#subject = subject;
    this.#subjectJson = subjectJson(subject);
    this.#now = now;
    this.#session(); // a malformed subject (or one a minimized bundle is not for) throws here
  }

  /** The subject this session decides for. */
  get subject() { return this.#subject; }

  #session() {
    const e = this.#engine;
    const g = e._generation();
    if (g !== this.#generation || (this.#changesAt !== Infinity && Date.now() >= this.#changesAt)) {
      const c = e._compiled();
      const inner = call(() => c.wasm.session(this.#subjectJson, this.#now ?? Date.now()));
      this.#changesAt = this.#now === undefined ? inner.changesAt() : Infinity;
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
    return JSON.parse(call(() => s.writes(String(resource), modeCode(mode), json(record), JSON.stringify(formData), json(context), false)));
  }

  /** The paths of `changes` the user may not write (in `mode`, to `record`): not declared, not
   * editable, or a container replaced whole that holds a field not editable. */
  forbiddenWrites(resource, mode, record, changes, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.writes(String(resource), modeCode(mode), json(record), JSON.stringify(changes), json(context), true)));
  }

  /**
   * What an export of `records` may contain: `{ columns, rows }`, the records the user may
   * both `export` and `view` as the view shows them (the session's `redact`), in columns `id` and then the
   * fields whose view state is not hidden on at least one of them, in declaration order; a
   * cell of a field hidden on its record is null. The core decides it, for the server's export
   * too.
   */
  exportRows(resource, records, context) {
    const s = this.#session();
    return JSON.parse(call(() => s.exportRows(String(resource), JSON.stringify(records), json(context))));
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

  /**
   * The record's approval flow as this person may move it now: every transition with whether
   * they may do it (for one with steps: sign the next step), the step they would sign, whether
   * that completes it, and each step's state; with reasons (`wrong_status`, `not_next`,
   * `distinct`, …). Empty for a resource without a flow.
   */
  transitions(resource, record, context) {
    const s = this.#session();
    // The module answers it through `explain` with no action (one export for both).
    return JSON.parse(call(() => s.explain('', String(resource), json(record), json(context))));
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
