// fieldgate/formily: field states onto a Formily JSON schema (`x-display`, `x-pattern`) or a
// live @formily/core form (`form.setFieldState`), nested fields by dotted paths.
import { resolve, shownData, submittable, valueAt } from './states.js';

const PATTERN = { masked: 'readOnly', readonly: 'readOnly', editable: 'editable' };

function schemaNode(schema, path) {
  let node = schema;
  for (const seg of path.split('.')) {
    while (node && (node.type === 'array' || (node.items && !node.properties))) node = node.items;
    node = node?.properties?.[seg];
    if (!node) return null;
  }
  return node;
}

function pattern(state, options) {
  return state === 'readonly' && options.readonlyPattern ? options.readonlyPattern : PATTERN[state];
}

/** A copy of `schema` with `x-display` (visible / hidden) and `x-pattern` (editable /
 * readOnly, or `options.readonlyPattern` such as `disabled`) set from the states; masked fields
 * are read-only and, given a record, default to the masked value. */
export function applyToSchema(schema, source, options = {}) {
  const { states, shown } = resolve(source, options);
  const out = structuredClone(schema);
  for (const [path, state] of Object.entries(states)) {
    const node = schemaNode(out, path);
    if (!node) continue;
    if (state === 'hidden') {
      node['x-display'] = 'hidden';
      delete node.default;
      continue;
    }
    node['x-display'] = 'visible';
    node['x-pattern'] = pattern(state, options);
    if (state === 'masked') {
      const v = shown ? valueAt(shown, path) : undefined;
      if (v === undefined) delete node.default;
      else node.default = v;
    }
  }
  return out;
}

/** The form's path pattern for a dotted field path: array levels become `*`. */
function formPath(values, path) {
  const out = [];
  let v = values;
  for (const seg of path.split('.')) {
    if (Array.isArray(v)) { out.push('*'); v = v[0]; }
    out.push(seg);
    v = v?.[seg];
  }
  return out.join('.');
}

/** Applies the states to a live @formily/core form: hidden fields get `display: 'none'` (hidden
 * and their value removed from the form), masked fields show the masked value read-only,
 * read-only fields get `readOnly` (or `options.readonlyPattern`). */
export function applyToForm(form, source, options = {}) {
  const { states, shown } = resolve(source, options);
  for (const [path, state] of Object.entries(states)) {
    form.setFieldState(formPath(form.values, path), (field) => {
      field.display = state === 'hidden' ? 'none' : 'visible';
      if (state === 'hidden') return;
      field.pattern = pattern(state, options);
      if (state === 'masked') field.value = shown ? valueAt(shown, String(field.path ?? path)) : undefined;
    });
  }
  return states;
}

/** Initial values for a form: the session's `redact` of the record. */
export function formValues(record, source, options = {}) {
  return shownData(record, source, options);
}

/** What to submit: the session's `writable` of `values`. */
export function submitValues(values, source, options = {}) {
  return submittable(values, source, options);
}
