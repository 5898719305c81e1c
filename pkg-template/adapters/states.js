// What every adapter shares: field states from a session (or from `s.fields()`'s output), and
// the data a form holds or submits, which only the engine shapes (the session's `redact` and
// `writable`). Nothing here decides: adapters map states onto their library's props.

const isSession = (source) => source != null && typeof source.fields === 'function' && typeof source.redact === 'function';

/** `{ states, shown }`: field states, and the record as the mode shows it: the session's
 * `redact`, or with field states alone `options.record` as given (already shown, e.g. the
 * server's redacted copy). */
export function resolve(source, options = {}) {
  if (isSession(source)) {
    const { resource, mode = 'edit', record = null, context = null } = options;
    if (!resource) throw new TypeError('fieldgate: pass { resource } with a session');
    return {
      states: source.fields(resource, mode, record, context),
      shown: record ? source.redact(resource, mode, record, context) : null,
    };
  }
  return { states: source ?? {}, shown: options.record ?? null };
}

function session(source, options, what) {
  if (!isSession(source)) throw new TypeError(`fieldgate: ${what} needs a session (the engine shapes form data), not field states`);
  if (!options.resource) throw new TypeError('fieldgate: pass { resource } with a session');
  return source;
}

/** The record as a form may hold it: the session's `redact` (hidden fields left out, masked
 * values masked, only declared fields). */
export function shownData(record, source, options = {}) {
  const { resource, mode = 'edit', context = null } = options;
  return session(source, options, 'form data').redact(resource, mode, record ?? {}, context);
}

/** What a form may submit: the session's `writable` (only the editable declared fields). */
export function submittable(values, source, options = {}) {
  const { resource, mode = 'edit', record = null, context = null } = options;
  return session(source, options, 'submitted data').writable(resource, mode, record, values ?? {}, context);
}

/** The value at a dotted path of the engine's output: a number picks a list's item, any other
 * key maps over the items. */
export function valueAt(obj, path) {
  const get = (v, keys) => {
    if (keys.length === 0) return v;
    const [head, ...rest] = keys;
    if (Array.isArray(v)) return /^\d+$/.test(head) ? get(v[Number(head)], rest) : v.map((item) => get(item, keys));
    return v !== null && typeof v === 'object' && Object.hasOwn(v, head) ? get(v[head], rest) : undefined;
  };
  return get(obj, path.split('.'));
}
