// Editors shared by roles, templates, people and rules: a grant as a row of controls, and a
// condition with a small builder for the common cases and the raw text as a fallback, checked
// live by compiling the draft with the engine (the error's position is shown).

import { Engine } from 'fieldgate';
import { el, fill, messageBox, say } from '../dom.js';
import { t } from '../i18n.js';
import { actionWord, admin, compile, edit, labelText, resourceWord, state } from './state.js';

/** The form modes and the action that opens each. */
const MODES = [['view', 'view'], ['create', 'create'], ['edit', 'edit']];

/**
 * What this grant alone gives each field, per form mode its actions open, as the engine
 * decides it (a field left unset takes the grant's default: the page asks, never guesses).
 * `{mode: {field: state}}`, or null when the grant cannot be asked about (`*`, or invalid).
 */
async function grantStates(gr) {
  const res = state.draft.resources?.[gr.resource];
  if (!res || gr.resource === '*') return null;
  await compile();
  const probe = { resource: gr.resource, actions: gr.actions || [], ...(gr.fields ? { fields: gr.fields } : {}) };
  const doc = {
    format: state.draft.format, app: state.draft.app, version: 1,
    resources: { [gr.resource]: res }, roles: { probe: { grants: [probe] } },
  };
  try {
    const s = Engine.fromPolicyUnverified(doc).session({ id: 'probe', roles: ['probe'] });
    const all = (gr.actions || []).includes('*');
    const out = {};
    for (const [mode, action] of MODES) {
      if (all || (gr.actions || []).includes(action)) out[mode] = s.fields(gr.resource, mode);
    }
    return out;
  } catch {
    return null;
  }
}

/** The unset choice of field `f` in words: "default (view: read-only, edit: editable)". */
function defaultWords(states, f) {
  if (!states || !f) return t('stateDefault');
  const parts = Object.entries(states).filter(([, fs]) => fs[f]).map(([mode, fs]) => t('modeState', { mode: t(`modeName.${mode}`), state: t(`state.${fs[f]}`) }));
  return parts.length ? t('stateDefaultIs', { states: parts.join(t('listSep')) }) : t('stateDefaultNone');
}

const STATES = ['hidden', 'masked', 'readonly', 'editable'];
/** Scopes in the order a CRM admin reads them: 全部, 本人, 本人及下属, 本部门, 本部门及下级, 协作, 随上级,
 * 本组织 (a partner's own organisation). */
const SCOPES = ['all', 'own', 'subordinates', 'department', 'department_tree', 'member', 'parent', 'org'];

/**
 * The scopes a grant on `res` can take: `member` needs the resource's members list and
 * `parent` its parent link (a grant on every form may use neither); the grant's own scope is
 * always offered, so a scope the check refuses stays visible next to its error.
 */
function scopesFor(res, current) {
  return SCOPES.filter((s) => s === current
    || (s === 'member' ? Boolean(res?.members) : s === 'parent' ? Boolean(res?.parent) : s === 'org' ? Boolean(res?.org) : true));
}
const OPS = ['==', '!=', '<', '<=', '>', '>=', 'in', 'contains'];

/** The draft's resources: `[name, declaration]`. */
export const resources = () => Object.entries(state.draft.resources || {});

/** A quoted literal for a condition: numbers and booleans as they are, text in quotes. */
function literal(v) {
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s) || s === 'true' || s === 'false' || s === 'null') return s;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A condition editor for `get()[key]` (a `when`): the text, a builder that adds clauses, and
 * a live check. `resource()` names the resource the condition's `record.*` is about.
 */
export function conditionEditor({ get, key, resource, path, label = t('condition') }) {
  const box = messageBox();
  const text = el('input', { type: 'text', class: 'cond', 'aria-label': `${label} ${path}`, value: get()[key] || '', placeholder: "record.status == 'pending'" });
  const check = async () => {
    const { error } = await compile();
    if (!error) return say(box, get()[key] ? t('conditionOk') : '', 'notice');
    const mine = (error.errors || []).find((x) => x.path.startsWith(`${path}.${key}`));
    if (mine) say(box, t('conditionBad', { pos: mine.position ?? 0, message: mine.message }), 'error');
    else say(box, '', 'notice');
  };
  const set = (value) => {
    edit(() => {
      if (value.trim()) get()[key] = value.trim();
      else delete get()[key];
    });
    check();
  };
  text.addEventListener('change', () => set(text.value));
  const res = () => state.draft.resources?.[resource()] ?? { fields: {} };
  // What a clause may test: the record's fields (by label) and the person's own facts.
  const attrKeys = [...new Set(state.people.flatMap((p) => Object.keys(p.attrs || {})))];
  const field = el('select', { 'aria-label': `${t('builder')} ${path}` },
    el('optgroup', { label: t('recordFields') },
      Object.keys(res().fields || {}).concat(['status']).filter((v, i, a) => a.indexOf(v) === i)
        .map((f) => el('option', { value: `record.${f}` }, labelText(res().fields?.[f]?.label) || f))),
    el('optgroup', { label: t('userFacts') },
      ['department', 'groups', 'roles', 'id'].map((u) => el('option', { value: `user.${u}` }, t(`user.${u}`))),
      attrKeys.map((k) => el('option', { value: `user.attrs.${k}` }, t('user.attr', { k })))));
  const op = el('select', { 'aria-label': `${t('builder')} op ${path}` }, OPS.map((o) => el('option', { value: o }, t(`op.${o}`))));
  const value = el('input', { type: 'text', 'aria-label': `${t('builder')} value ${path}`, size: 14, placeholder: t('valueHint') });
  const add = (clause) => {
    text.value = text.value.trim() ? `${text.value.trim()} && ${clause}` : clause;
    set(text.value);
  };
  /** The right side: a list for `in` (comma-separated), else one value. */
  const right = () => (op.value === 'in'
    ? `[${value.value.split(/[,，、]/).map((v) => v.trim()).filter(Boolean).map(literal).join(', ')}]`
    : literal(value.value));
  const owner = () => res().owner;
  const dept = () => res().department;
  // Only one record: found by its name or id, as the app's people know it.
  const found = el('ul', { class: 'picks', 'data-testid': 'record-picks' });
  const search = el('input', { type: 'search', 'aria-label': `${t('oneRecord')} ${path}`, placeholder: t('oneRecordHint') });
  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q || !resource() || resource() === '*') return fill(found);
      try {
        const r = await admin(`/v1/admin/records/${encodeURIComponent(resource())}?q=${encodeURIComponent(q)}`);
        fill(found, r.records.map((x) => el('li', {}, el('button', { type: 'button', onclick: () => {
          add(`record.id == ${literal(x.id)}`);
          search.value = '';
          fill(found);
        } }, x.label ? `${x.label} (${x.id})` : x.id))));
      } catch {
        fill(found);
      }
    }, 200);
  });
  return el('div', { class: 'condition' },
    el('label', {}, label, text),
    el('div', { class: 'builder' },
      field, op, value,
      el('button', { type: 'button', class: 'secondary', onclick: () => value.value.trim() && add(`${field.value} ${op.value} ${right()}`) }, t('addCondition')),
      owner() && el('button', { type: 'button', class: 'secondary', onclick: () => add(`record.${owner()} == user.id`) }, t('creatorIsUser')),
      dept() && el('button', { type: 'button', class: 'secondary', onclick: () => add(`record.${dept()} == user.department`) }, t('sameDepartment'))),
    el('div', { class: 'picker' }, el('label', {}, t('oneRecord'), search), found),
    box);
}

/**
 * A grant as a form: resource, actions, scope, condition and field states. `get()` returns the
 * grant inside the draft; `path` is its JSON path; `remove()` takes it out.
 */
/** This device's offset as RFC 3339 writes it (`+08:00`). */
function offset() {
  const m = -new Date().getTimezoneOffset();
  const abs = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The day an entry's time falls on, as a date input shows it (`2027-01-31`). */
export const dayOf = (time) => (time ? time.slice(0, 10) : '');

/** A day from a date input as the entry's bound: its first moment for `from`, its last for
 * `until`, in this device's offset. */
export const boundOf = (day, key) => `${day}T${key === 'from' ? '00:00:00' : '23:59:59'}${offset()}`;

/**
 * Dated access: a person's entry exists from a day and until a day (`from`, `until`, either
 * left empty), picked on a calendar. The engine decides; this only writes the dates.
 */
export function datesEditor({ get, path }) {
  const input = (key) => el('label', {}, t(`dates.${key}`), el('input', {
    type: 'date',
    value: dayOf(get()[key]),
    'aria-label': `${t(`dates.${key}`)} ${path}`,
    onchange: (e) => edit(() => {
      if (e.target.value) get()[key] = boundOf(e.target.value, key); else delete get()[key];
    }),
  }));
  return el('div', { class: 'bar dates' }, input('from'), input('until'));
}

export function grantEditor({ get, path, remove, withScope = true }) {
  const wrap = el('fieldset', { class: 'grant', 'data-path': path });
  const render = () => {
    const gr = get();
    const res = state.draft.resources?.[gr.resource];
    const actionNames = gr.resource === '*'
      ? [...new Set(resources().flatMap(([, r]) => r.actions || []))]
      : res?.actions || [];
    const fieldNames = gr.resource === '*'
      ? [...new Set(resources().flatMap(([, r]) => Object.keys(r.fields || {})))]
      : Object.keys(res?.fields || {});
    const all = Array.isArray(gr.actions) && gr.actions.includes('*');
    fill(wrap, 
      el('legend', { title: path }, t('grantN', { n: Number(/\[(\d+)\]$/.exec(path)?.[1] ?? 0) + 1 })),
      el('div', { class: 'bar' },
        el('label', {}, t('resource'), el('select', { 'aria-label': `${t('resource')} ${path}`, onchange: (e) => { edit(() => { get().resource = e.target.value; }); render(); } },
          ['*', ...resources().map(([n]) => n)].map((n) => el('option', { value: n, selected: n === gr.resource }, n === '*' ? t('everyForm') : resourceWord(n))))),
        withScope && el('label', {}, t('scope'), el('select', { 'aria-label': `${t('scope')} ${path}`, onchange: (e) => {
          edit(() => {
            if (e.target.value === 'all') delete get().scope; else get().scope = e.target.value;
            // `depth` belongs to the reporting line only.
            if (e.target.value !== 'subordinates') delete get().depth;
          });
          render();
        } },
        scopesFor(res, gr.scope || 'all').map((s) => el('option', { value: s, selected: (gr.scope || 'all') === s }, t(`scope.${s}`))))),
        withScope && gr.scope === 'subordinates' && el('label', {}, t('depth'), el('select', { 'aria-label': `${t('depth')} ${path}`, onchange: (e) => edit(() => {
          if (e.target.value) get().depth = Number(e.target.value); else delete get().depth;
        }) },
        ['', 1, 2, 3, 4, 5].map((d) => el('option', { value: d, selected: (gr.depth ?? '') === d }, d ? t('depthN', { n: d }) : t('depthAll'))))),
        remove && el('button', { type: 'button', class: 'danger', onclick: () => remove() }, t('removeGrant'))),
      el('div', { class: 'checks', role: 'group', 'aria-label': `${t('actions')} ${path}` },
        el('label', {}, el('input', { type: 'checkbox', checked: all, onchange: (e) => { edit(() => { get().actions = e.target.checked ? ['*'] : []; }); render(); } }), t('allActions')),
        actionNames.map((a) => el('label', {}, el('input', {
          type: 'checkbox', disabled: all, checked: all || (gr.actions || []).includes(a),
          'aria-label': `${a} ${path}`,
          onchange: (e) => {
            edit(() => {
              const list = new Set(get().actions || []);
              if (e.target.checked) list.add(a); else list.delete(a);
              get().actions = [...list];
            });
            showDefaults();
          },
        }), actionWord(a)))),
      conditionEditor({ get, key: 'when', resource: () => get().resource, path }),
      // A person's own grants may be dated; a role's last as long as the role is held.
      path.startsWith('assignments.users.') && datesEditor({ get, path }),
      el('details', {}, el('summary', {}, t('fieldStates')),
        el('div', { class: 'fields' },
          ['*', ...fieldNames].map((f) => el('label', {}, f === '*' ? t('everyField') : (labelText(res?.fields?.[f]?.label) || f),
            el('select', {
              'aria-label': `${f} ${path}`,
              onchange: (e) => { edit(() => {
                const fs = get().fields ?? (get().fields = {});
                if (e.target.value) fs[f] = e.target.value; else delete fs[f];
                if (!Object.keys(fs).length) delete get().fields;
              }); showDefaults(); },
            }, ['', ...STATES].map((s) => el('option', { value: s, 'data-default': s ? null : f, selected: (gr.fields?.[f] || '') === s }, s ? t(`state.${s}`) : t('stateDefault')))))))),
    );
    showDefaults();
  };
  /** Writes what "unset" means for each field, as the engine answers for this grant. */
  const showDefaults = async () => {
    const states = await grantStates(get());
    for (const o of wrap.querySelectorAll('option[data-default]')) o.textContent = defaultWords(states, o.dataset.default === '*' ? null : o.dataset.default);
  };
  render();
  return wrap;
}

/** A list of grants at `get()` (an array inside the draft) with add and remove. */
export function grantList({ get, path, withScope = true }) {
  const box = el('div', { class: 'grants' });
  const render = () => {
    const list = get() || [];
    fill(box, 
      ...list.map((_, i) => grantEditor({
        get: () => get()[i],
        path: `${path}[${i}]`,
        withScope,
        remove: () => { edit(() => get().splice(i, 1)); render(); },
      })),
      el('button', { type: 'button', class: 'secondary', onclick: () => {
        const first = resources()[0]?.[0] || '*';
        // A new grant gives nothing until the admin ticks what it gives.
        edit(() => get().push({ resource: first, actions: [] }));
        render();
      } }, t('addGrant')));
  };
  render();
  return box;
}

/** Field state names (for the other editors). */
export { STATES, SCOPES };
