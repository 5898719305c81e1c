// Rules: deny and limit rules as a readable list (what it does, when, for whom not) and forms
// to add, change and remove them, with the same condition editor as grants.

import { el, fill, messageBox, say } from '../dom.js';
import { t } from '../i18n.js';
import { conditionEditor, resources, STATES } from './grants.js';
import { edit, state } from './state.js';

/** A rule in plain words: its description, else what it denies or caps. */
function plain(r) {
  if (r.description) return r.description;
  const what = r.effect === 'deny'
    ? `${t('deniesActions')} ${(r.actions || []).join(', ')}`
    : `${t('capsFields')} ${Object.entries(r.fields || {}).map(([f, s]) => `${f} → ${t(`state.${s}`)}`).join(', ')}`;
  return `${r.resource}: ${what}${r.when ? ` (${r.when})` : ''}`;
}

/** The rules open in the page (by place): a render keeps them open while they are edited. */
const opened = new Set();

export function rulesTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'rules-h' });
  const msg = messageBox();
  const list = () => (state.draft.rules ??= []);
  const render = () => {
    const roles = Object.keys(state.draft.roles || {});
    fill(box, 
      el('h2', { id: 'rules-h' }, t('tab.rules')),
      msg,
      ...list().map((r, i) => {
        const path = `rules[${i}]`;
        const res = state.draft.resources?.[r.resource];
        const fields = r.resource === '*' ? [...new Set(resources().flatMap(([, x]) => Object.keys(x.fields || {})))] : Object.keys(res?.fields || {});
        const actions = r.resource === '*' ? [...new Set(resources().flatMap(([, x]) => x.actions || []))] : res?.actions || [];
        const d = el('details', { class: 'rule', 'data-rule': r.id, open: opened.has(i) });
        d.addEventListener('toggle', () => (d.open ? opened.add(i) : opened.delete(i)));
        return fill(d,
          el('summary', {}, el('strong', {}, r.id), ' — ', plain(r), r.except_roles?.length ? ` · ${t('exceptRoles')}: ${r.except_roles.join(', ')}` : ''),
          el('div', { class: 'bar' },
            el('label', {}, t('id'), el('input', { type: 'text', value: r.id, 'aria-label': `${t('id')} ${path}`, onchange: (e) => edit(() => { list()[i].id = e.target.value.trim(); }) })),
            el('label', {}, t('effect'), el('select', { 'aria-label': `${t('effect')} ${path}`, onchange: (e) => { edit(() => { const x = list()[i]; x.effect = e.target.value; if (x.effect === 'deny') { delete x.fields; x.actions ??= []; } else { delete x.actions; x.fields ??= {}; } }); render(); } },
              ['deny', 'limit'].map((x) => el('option', { value: x, selected: r.effect === x }, t(`effect.${x}`))))),
            el('label', {}, t('resource'), el('select', { 'aria-label': `${t('resource')} ${path}`, onchange: (e) => { edit(() => { list()[i].resource = e.target.value; }); render(); } },
              ['*', ...resources().map(([n]) => n)].map((n) => el('option', { value: n, selected: r.resource === n }, n)))),
            el('button', { type: 'button', class: 'danger', onclick: () => { edit(() => list().splice(i, 1)); render(); } }, t('delete'))),
          el('label', {}, t('description'), el('input', { type: 'text', class: 'wide', value: r.description || '', 'aria-label': `${t('description')} ${path}`, onchange: (e) => edit(() => { if (e.target.value.trim()) list()[i].description = e.target.value.trim(); else delete list()[i].description; }) })),
          r.effect === 'deny'
            ? el('div', { class: 'checks', role: 'group', 'aria-label': `${t('deniesActions')} ${path}` }, actions.map((a) => el('label', {}, el('input', { type: 'checkbox', checked: (r.actions || []).includes(a), 'aria-label': `${a} ${path}`, onchange: (e) => edit(() => { const s = new Set(list()[i].actions || []); if (e.target.checked) s.add(a); else s.delete(a); list()[i].actions = [...s]; }) }), a)))
            : el('div', { class: 'fields' }, fields.map((f) => el('label', {}, f, el('select', { 'aria-label': `${f} ${path}`, onchange: (e) => edit(() => { const fs = list()[i].fields ??= {}; if (e.target.value) fs[f] = e.target.value; else delete fs[f]; }) },
              ['', ...STATES].map((s) => el('option', { value: s, selected: (r.fields?.[f] || '') === s }, s ? t(`state.${s}`) : '—')))))),
          conditionEditor({ get: () => list()[i], key: 'when', resource: () => list()[i].resource, path }),
          el('div', { class: 'checks', role: 'group', 'aria-label': `${t('exceptRoles')} ${path}` }, el('span', {}, t('exceptRoles')),
            roles.map((ro) => el('label', {}, el('input', { type: 'checkbox', checked: (r.except_roles || []).includes(ro), 'aria-label': `${t('exceptRoles')} ${ro} ${path}`, onchange: (e) => edit(() => { const s = new Set(list()[i].except_roles || []); if (e.target.checked) s.add(ro); else s.delete(ro); if (s.size) list()[i].except_roles = [...s]; else delete list()[i].except_roles; }) }), ro))));
      }),
      el('button', { type: 'button', onclick: () => {
        let n = 1;
        while (list().some((r) => r.id === `rule-${n}`)) n++;
        edit(() => list().push({ id: `rule-${n}`, effect: 'deny', resource: resources()[0]?.[0] || '*', actions: [] }));
        say(msg, `${t('addRule')}: rule-${n}`);
        render();
      } }, t('addRule')));
  };
  render();
  return box;
}
