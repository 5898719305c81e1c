// fieldgate/rjsf: react-jsonschema-form `uiSchema` and `formData` from field states.
import { resolve, shownData, submittable } from './states.js';

function uiNode(ui, schema, path) {
  let node = ui;
  let s = schema;
  for (const seg of path.split('.')) {
    if (s && s.type === 'array') { node = node.items ??= {}; s = s.items; }
    node = node[seg] ??= {};
    s = s?.properties?.[seg];
  }
  if (s && s.type === 'array') node = node.items ??= {};
  return node;
}

/** A uiSchema (merged over `options.uiSchema`): hidden -> `ui:widget: 'hidden'`, masked and
 * read-only -> `ui:readonly` (or `ui:disabled` with `options.readonlyAs: 'disabled'`).
 * Give `options.schema` so fields inside arrays land under `items`. */
export function uiSchema(source, options = {}) {
  const { states } = resolve(source, options);
  const ui = structuredClone(options.uiSchema ?? {});
  const lock = options.readonlyAs === 'disabled' ? 'ui:disabled' : 'ui:readonly';
  for (const [path, state] of Object.entries(states)) {
    const node = uiNode(ui, options.schema, path);
    if (state === 'hidden') node['ui:widget'] = 'hidden';
    // A masked value is text (`138****5678`) whatever the field's type: show it as text.
    else if (state === 'masked') Object.assign(node, { 'ui:readonly': true, 'ui:widget': 'text' });
    else if (state === 'readonly') node[lock] = true;
  }
  return ui;
}

/** The formData to render: the session's `redact` of the record (rjsf's hidden widget would
 * still hold and submit a hidden value, so it never arrives). */
export function formData(record, source, options = {}) {
  return shownData(record, source, options);
}

/** What to send on submit: the session's `writable` of the data. */
export function submitData(data, source, options = {}) {
  return submittable(data, source, options);
}

/** `{ uiSchema, formData }` in one call, to spread into `<Form>`. */
export function rjsfProps(source, options = {}) {
  return { uiSchema: uiSchema(source, options), formData: formData(options.record ?? {}, source, options) };
}
