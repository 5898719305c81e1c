// Departments and groups: the roles each gives its people, picked from the draft's roles.
// A department's roles are also held by every department below it.

import { el } from '../dom.js';
import { t } from '../i18n.js';
import { edit, labelText, state } from './state.js';

/** The role an assignment entry names: a name, or `{ role, from?, until? }` (dated). */
const named = (x) => (typeof x === 'string' ? x : x.role);

function rolesFor(section, name) {
  const roles = Object.keys(state.draft.roles || {});
  const held = state.draft.assignments?.[section]?.[name] || [];
  // A dated entry keeps its dates here, and says its end next to the role.
  const until = (r) => held.find((x) => named(x) === r && x.until)?.until;
  return el('div', { class: 'checks', role: 'group', 'aria-label': `${t('roles')}: ${name}` },
    roles.map((r) => el('label', {}, el('input', {
      type: 'checkbox', checked: held.some((x) => named(x) === r), 'aria-label': `${name}: ${r}`,
      onchange: (e) => edit((d) => {
        d.assignments ??= {};
        d.assignments[section] ??= {};
        const list = (d.assignments[section][name] || []).filter((x) => named(x) !== r);
        if (e.target.checked) list.push(r);
        if (list.length) d.assignments[section][name] = list; else delete d.assignments[section][name];
      }),
    }), r, until(r) ? ` (${t('dates.untilDay', { d: until(r).slice(0, 10) })})` : '')));
}

export function orgTab() {
  const depts = state.draft.departments || {};
  const depth = (d) => (depts[d]?.parent ? 1 + depth(depts[d].parent) : 0);
  const ordered = [];
  const visit = (parent) => Object.keys(depts).filter((d) => (depts[d].parent || null) === parent).forEach((d) => { ordered.push(d); visit(d); });
  visit(null);
  const groups = [...new Set([
    ...Object.keys(state.draft.assignments?.groups || {}),
    ...state.people.flatMap((p) => p.groups || []),
  ])];
  return el('section', { class: 'card', 'aria-labelledby': 'org-h' },
    el('h2', { id: 'org-h' }, t('tab.org')),
    el('h3', {}, t('departments')),
    el('p', { class: 'muted' }, t('deptHelp')),
    el('ul', { class: 'tree' }, ordered.map((d) => el('li', { style: `margin-left:${depth(d) * 1.2}em`, 'data-department': d },
      el('strong', {}, labelText(depts[d].label) ? `${labelText(depts[d].label)} (${d})` : d), rolesFor('departments', d)))),
    el('h3', {}, t('groups')),
    el('ul', {}, groups.map((g) => el('li', { 'data-group': g }, el('strong', {}, g), rolesFor('groups', g)))));
}
