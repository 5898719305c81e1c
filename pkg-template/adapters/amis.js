// fieldgate/amis: a pure JSON-to-JSON transform of an amis schema from field states.
import { resolve, shownData, valueAt } from './states.js';

const CONTAINERS = new Set(['form', 'page', 'crud', 'dialog', 'drawer', 'wizard', 'service', 'tabs', 'panel']);

/** A copy of an amis schema: each form item whose `name` has a state becomes hidden (with
 * `clearValueOnHidden: true`), `static` (read-only, or `disabled` with
 * `options.readonlyAs: 'disabled'`), or static with the masked value. Each form's `data` is
 * the session's `redact` of it (a form with `data` needs a session), and its `api` submits only
 * the editable fields among its own form items (never a field the form does not show, which
 * would be sent empty). */
export function applyAmis(schema, source, options = {}) {
  const { states, shown } = resolve(source, options);
  const walk = (node) => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    const state = typeof out.name === 'string' && !CONTAINERS.has(out.type) ? states[out.name] : undefined;
    if (state === 'hidden') {
      out.hidden = true;
      out.clearValueOnHidden = true;
      delete out.value;
    } else if (state === 'masked') {
      out.static = true;
      const v = shown ? valueAt(shown, out.name) : undefined;
      if (v === undefined) delete out.value;
      else out.value = v;
    } else if (state === 'readonly') {
      if (options.readonlyAs === 'disabled') out.disabled = true;
      else out.static = true;
    }
    if (out.type === 'form') {
      if (out.data && typeof out.data === 'object') out.data = shownData(out.data, source, options);
      if (out.api) {
        const editable = itemNames(out.body).filter((name) => states[name] === 'editable');
        out.api = { ...apiObject(out.api), data: Object.fromEntries(editable.map((name) => [name, `\${${name}}`])) };
      }
    }
    return out;
  };
  return walk(schema);
}

/** amis's string API form `"put:/url"` as an object: `{ method: 'put', url: '/url' }`. */
function apiObject(api) {
  if (typeof api !== 'string') return api;
  const m = /^(get|post|put|patch|delete|jsonp|js):(.*)$/i.exec(api);
  return m ? { method: m[1].toLowerCase(), url: m[2] } : { url: api };
}

/** Names of the form items inside `body`, not descending into nested forms. */
function itemNames(body) {
  const names = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if (typeof node.name === 'string' && !CONTAINERS.has(node.type)) names.push(node.name);
    if (node.type === 'form') return;
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  walk(body);
  return [...new Set(names)];
}
