// Roles and templates as forms: create (optionally from a template), rename (every reference
// follows), duplicate, delete (after showing who loses what); a role's label, the roles it
// inherits, the templates it applies and its grants. Templates: the same grant editor, the
// roles that use each, and the impact of a change before it is kept.

import { confirmDialog, describe, el, fill, messageBox, say } from '../dom.js';
import { t } from '../i18n.js';
import { grantList } from './grants.js';
import { diffList } from './publish.js';
import { check, edit, labelText, mayGive, state, withLabel } from './state.js';

let openRole = null;

/** Renames role `from` to `to` everywhere the draft names it. */
export function renameRole(doc, from, to) {
  const roles = doc.roles || {};
  const entries = Object.entries(roles).map(([k, v]) => [k === from ? to : k, v]);
  doc.roles = Object.fromEntries(entries);
  for (const r of Object.values(doc.roles)) {
    if (Array.isArray(r.inherits)) r.inherits = r.inherits.map((x) => (x === from ? to : x));
  }
  const a = doc.assignments || {};
  // An assignment entry is a name, or `{ role, from?, until? }` (dated access).
  const renamed = (x) => (x === from ? to : x?.role === from ? { ...x, role: to } : x);
  for (const u of Object.values(a.users || {})) {
    if (Array.isArray(u.roles)) u.roles = u.roles.map(renamed);
  }
  for (const section of ['departments', 'groups']) {
    for (const [k, list] of Object.entries(a[section] || {})) a[section][k] = list.map(renamed);
  }
  for (const rule of doc.rules || []) {
    if (Array.isArray(rule.except_roles)) rule.except_roles = rule.except_roles.map((x) => (x === from ? to : x));
  }
}

/** Removes role `name` and every reference to it. */
export function deleteRole(doc, name) {
  delete doc.roles?.[name];
  const drop = (list) => (Array.isArray(list) ? list.filter((x) => x !== name && x?.role !== name) : list);
  for (const r of Object.values(doc.roles || {})) r.inherits = drop(r.inherits);
  const a = doc.assignments || {};
  for (const u of Object.values(a.users || {})) u.roles = drop(u.roles);
  for (const section of ['departments', 'groups']) {
    for (const k of Object.keys(a[section] || {})) a[section][k] = drop(a[section][k]);
  }
  for (const rule of doc.rules || []) rule.except_roles = drop(rule.except_roles);
}

/** A role name: letters of any script (a Chinese name too), digits, `_`, `.` or `-`. */
const validName = (n) => /^[\p{L}\p{N}_.-]{1,64}$/u.test(n);

/** The name a new role gets: the one typed, else one made from its label. */
function nameFor(typed, label, taken) {
  if (typed) return typed;
  let n = label.replace(/[^\p{L}\p{N}_.-]+/gu, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'role';
  while (taken.includes(n)) n += '_';
  return n;
}

function checks(label, all, chosen, onToggle, word = (x) => x) {
  return el('div', { class: 'checks', role: 'group', 'aria-label': label },
    all.length ? all.map((x) => el('label', {}, el('input', { type: 'checkbox', checked: chosen.includes(x), 'aria-label': `${label}: ${x}`, onchange: (e) => onToggle(x, e.target.checked) }), word(x))) : el('span', { class: 'muted' }, t('none')));
}

/** A role by its label (with its name). */
const roleWord = (r) => (labelText(state.draft.roles?.[r]?.label) ? `${labelText(state.draft.roles[r].label)} (${r})` : r);

function toggle(list, x, on) {
  const s = new Set(list || []);
  if (on) s.add(x); else s.delete(x);
  return [...s];
}

export function rolesTab(go) {
  const box = el('section', { class: 'card', 'aria-labelledby': 'roles-h' });
  const msg = messageBox();
  const render = () => {
    const roles = Object.keys(state.draft.roles || {});
    const templates = Object.keys(state.draft.templates || {});
    // A restricted admin sees their own roles and changes only their grants.
    const limited = Boolean(state.me?.restricted);
    const shown = roles.filter(mayGive);
    openRole = shown.includes(openRole) ? openRole : shown[0];
    const name = el('input', { type: 'text', 'aria-label': `${t('newRole')}: ${t('name')}`, placeholder: 'purchasing_lead' });
    const label = el('input', { type: 'text', 'aria-label': `${t('newRole')}: ${t('label')}` });
    const from = el('select', { 'aria-label': `${t('newRole')}: ${t('fromTemplate')}` }, el('option', { value: '' }, t('none')), templates.map((x) => el('option', { value: x }, x)));
    const create = () => {
      const n = nameFor(name.value.trim(), label.value.trim(), roles);
      if (!validName(n)) return say(msg, t('badRoleName', { n }), 'error');
      if (roles.includes(n)) return say(msg, t('roleTaken', { n }), 'error');
      edit((d) => {
        d.roles ??= {};
        d.roles[n] = { ...(label.value.trim() ? { label: label.value.trim() } : {}), ...(from.value ? { templates: [from.value] } : {}), grants: [] };
      });
      openRole = n;
      say(msg, `${t('create')}: ${n}`);
      render();
    };
    const role = openRole && state.draft.roles[openRole];
    const rename = el('input', { type: 'text', 'aria-label': `${t('rename')} ${openRole}`, value: openRole || '' });
    fill(box, 
      el('h2', { id: 'roles-h' }, t('tab.roles')),
      !limited && el('fieldset', {}, el('legend', {}, t('newRole')),
        el('div', { class: 'bar' }, el('label', {}, t('name'), name), el('label', {}, t('label'), label), el('label', {}, t('fromTemplate'), from),
          el('button', { type: 'button', onclick: create }, t('create')))),
      msg,
      el('div', { class: 'split' },
        el('nav', { class: 'list', 'aria-label': t('roles') }, shown.map((r) => el('button', {
          type: 'button', 'aria-pressed': r === openRole, 'data-role': r, onclick: () => { openRole = r; render(); },
        }, labelText(state.draft.roles[r].label) ? `${labelText(state.draft.roles[r].label)} (${r})` : r))),
        role ? el('div', { class: 'editor', 'data-editing': openRole },
          !limited && el('div', { class: 'bar' },
            el('label', {}, t('label'), el('input', { type: 'text', 'aria-label': `${t('label')} ${openRole}`, value: labelText(role.label), onchange: (e) => edit((d) => { if (e.target.value.trim()) d.roles[openRole].label = withLabel(d.roles[openRole].label, e.target.value.trim()); else delete d.roles[openRole].label; }) })),
            el('label', {}, t('rename'), rename),
            el('button', { type: 'button', class: 'secondary', onclick: () => {
              const n = rename.value.trim();
              if (!validName(n)) return say(msg, t('badRoleName', { n }), 'error');
              if (roles.includes(n)) return say(msg, t('roleTaken', { n }), 'error');
              edit((d) => renameRole(d, openRole, n));
              say(msg, `${openRole} → ${n}`);
              openRole = n;
              render();
            } }, t('rename')),
            el('button', { type: 'button', class: 'secondary', onclick: () => {
              let n = `${openRole}_copy`;
              while (roles.includes(n)) n += '_';
              edit((d) => { d.roles[n] = structuredClone(d.roles[openRole]); });
              openRole = n;
              render();
            } }, t('duplicate')),
            el('button', { type: 'button', class: 'danger', onclick: async () => {
              const doc = structuredClone(state.draft);
              deleteRole(doc, openRole);
              let body;
              try {
                body = diffList((await check(doc)).diff);
              } catch (e) {
                body = el('p', { class: 'msg error' }, describe(e));
              }
              const ok = await confirmDialog(t('delete'), el('div', {}, el('p', {}, t('deleteConfirm', { role: openRole })), body), { ok: t('delete'), cancel: t('cancel') });
              if (!ok) return;
              edit((d) => deleteRole(d, openRole));
              say(msg, `${t('delete')}: ${openRole}`);
              openRole = null;
              render();
            } }, t('delete'))),
          // Partners (people of an outside organisation) hold external roles only.
          el('label', { class: 'check' }, el('input', { type: 'checkbox', checked: role.external === true, 'aria-label': `${t('external')} ${openRole}`,
            onchange: (e) => edit((d) => { if (e.target.checked) d.roles[openRole].external = true; else delete d.roles[openRole].external; }) }), t('external')),
          el('h3', {}, t('inherits')),
          checks(`${t('inherits')} ${openRole}`, roles.filter((r) => r !== openRole), role.inherits || [], (x, on) => edit((d) => { d.roles[openRole].inherits = toggle(d.roles[openRole].inherits, x, on); }), roleWord),
          el('h3', {}, t('templates')),
          checks(`${t('templates')} ${openRole}`, templates, role.templates || [], (x, on) => edit((d) => { d.roles[openRole].templates = toggle(d.roles[openRole].templates, x, on); })),
          el('h3', {}, t('grants')),
          grantList({ get: () => (state.draft.roles[openRole].grants ??= []), path: `roles.${openRole}.grants` }),
          el('button', { type: 'button', class: 'link', onclick: () => go('matrix') }, t('tab.matrix'))) : el('p', { class: 'muted' }, t('none'))));
  };
  render();
  return box;
}

export function templatesTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'templates-h' });
  const msg = messageBox();
  const impact = el('div', {});
  const render = () => {
    const templates = Object.keys(state.draft.templates || {});
    const name = el('input', { type: 'text', 'aria-label': `${t('newTemplate')}: ${t('name')}` });
    fill(box, 
      el('h2', { id: 'templates-h' }, t('tab.templates')),
      el('div', { class: 'bar' }, el('label', {}, t('newTemplate'), name),
        el('button', { type: 'button', onclick: () => {
          const n = name.value.trim();
          if (!validName(n) || templates.includes(n)) return say(msg, `${t('name')}: ${n || '—'}`, 'error');
          edit((d) => { d.templates ??= {}; d.templates[n] = []; });
          render();
        } }, t('create')),
        el('button', { type: 'button', class: 'secondary', onclick: async () => {
          try {
            fill(impact, diffList((await check()).diff));
          } catch (e) {
            say(msg, describe(e), 'error');
          }
        } }, t('checkChanges'))),
      msg, impact,
      templates.map((tpl) => {
        const users = Object.entries(state.draft.roles || {}).filter(([, r]) => (r.templates || []).includes(tpl)).map(([n]) => n);
        return el('details', { class: 'template', open: templates.length <= 3, 'data-template': tpl },
          el('summary', {}, tpl, ' · ', users.length ? t('usedBy', { roles: users.join(', ') }) : t('notUsed')),
          grantList({ get: () => state.draft.templates[tpl], path: `templates.${tpl}` }));
      }));
  };
  render();
  return box;
}
