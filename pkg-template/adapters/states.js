// What every adapter shares: resolving "a session or the output of s.fields()" into states,
// and the two data rules (what a form may hold, what it may submit). No decisions are made
// here: states come from the engine.

/** `{ states, shown }`: field states, and the record as the mode shows it (hidden removed,
 * masked values masked) when a session and a record were given. */
export function resolve(source, options = {}) {
  if (source && typeof source.fields === 'function') {
    const { resource, mode = 'edit', record = null, context = null } = options;
    if (!resource) throw new TypeError('fieldgate: pass { resource } with a session');
    return {
      states: source.fields(resource, mode, record, context),
      shown: record ? source.redact(resource, mode, record, context) : null,
    };
  }
  return { states: source ?? {}, shown: options.record ?? null };
}

const split = (path) => path.split('.');
// A plain deep copy (form libraries hand over proxies that structuredClone refuses).
const copy = (data) => JSON.parse(JSON.stringify(data));

function get(obj, [head, ...rest]) {
  if (obj == null || typeof obj !== 'object') return undefined;
  const v = obj[head];
  return rest.length === 0 ? v : Array.isArray(v) ? v.map((item) => get(item, rest)) : get(v, rest);
}

function remove(obj, [head, ...rest]) {
  if (obj == null || typeof obj !== 'object') return;
  if (rest.length === 0) { delete obj[head]; return; }
  const v = obj[head];
  if (Array.isArray(v)) v.forEach((item) => remove(item, rest));
  else remove(v, rest);
}

function set(obj, [head, ...rest], value) {
  if (obj == null || typeof obj !== 'object') return;
  if (rest.length === 0) { if (value !== undefined) obj[head] = value; return; }
  const v = obj[head];
  if (Array.isArray(v)) v.forEach((item, i) => set(item, rest, Array.isArray(value) ? value[i] : undefined));
  else set(v, rest, value);
}

/** The data a form may hold: hidden fields removed, masked fields replaced by their masked
 * value (from `shown`, else removed: an unmasked secret never reaches the form). */
export function visibleData(data, states, shown) {
  if (data == null) return data;
  const out = copy(data);
  for (const [path, state] of Object.entries(states)) {
    if (state === 'hidden') remove(out, split(path));
    else if (state === 'masked') {
      const masked = shown ? get(shown, split(path)) : undefined;
      if (masked === undefined) remove(out, split(path));
      else set(out, split(path), masked);
    }
  }
  return out;
}

/** What a form may submit: only the editable fields (masked, read-only, hidden and undeclared
 * keys are left out). */
export function submittable(data, states) {
  const out = copy(data ?? {});
  const keep = Object.entries(states).filter(([, s]) => s === 'editable').map(([p]) => p);
  for (const [path, state] of Object.entries(states)) {
    if (state !== 'editable') remove(out, split(path));
  }
  for (const key of Object.keys(out)) {
    if (!keep.some((p) => p === key || p.startsWith(`${key}.`))) delete out[key];
  }
  return out;
}

/** The value at a dotted path (arrays map over their items). */
export const valueAt = (obj, path) => get(obj, split(path));
