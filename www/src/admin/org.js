// Departments and groups: the roles each gives its people, picked from the draft's roles.
// A department's roles are also held by every department below it.

import { el } from '../dom.js';
import { t } from '../i18n.js';
import { edit, labelText, state } from './state.js';

function rolesFor(section, name) {
  const roles = Object.keys(state.draft.roles || {});
  const held = state.draft.assignments?.[section]?.[name] || [];
  return el('div', { class: 'checks', role: 'group', 'aria-label': `${t('roles')}: ${name}` },
    roles.map((r) => el('label', {}, el('input', {
      type: 'checkbox', checked: held.includes(r), 'aria-label': `${name}: ${r}`,
      onchange: (e) => edit((d) => {
        d.assignments ??= {};
        d.assignments[section] ??= {};
        const s = new Set(d.assignments[section][name] || []);
        if (e.target.checked) s.add(r); else s.delete(r);
        if (s.size) d.assignments[section][name] = [...s]; else delete d.assignments[section][name];
      }),
    }), r)));
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
