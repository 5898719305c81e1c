// The admins (管理员设置), for an admin of everything: who administers what, adding an admin
// who may change only their part (分级管理员: their departments' people, their roles, and with
// "may edit roles" those roles' grants on their forms), removing one, and handing the admin
// role over (管理员角色变更). The server keeps an unrestricted admin for every app.

import { describe, el, fill, messageBox, say } from '../dom.js';
import { locale, t } from '../i18n.js';
import { admin, labelText, scopeWords, state } from './state.js';

/** Ticks for a list of names: the chosen ones, or none ticked for "all". */
function ticks(label, names, word) {
  const chosen = new Set();
  const box = el('div', { class: 'checks', role: 'group', 'aria-label': label }, el('span', {}, label),
    names.map((n) => el('label', {}, el('input', { type: 'checkbox', 'aria-label': `${label}: ${n}`, onchange: (e) => (e.target.checked ? chosen.add(n) : chosen.delete(n)) }), word(n))));
  return { box, value: () => (chosen.size ? [...chosen] : undefined) };
}

export function adminsTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'admins-h' });
  const msg = messageBox();
  const token = el('div', { 'data-testid': 'new-token' });
  const list = el('ul', { class: 'admins' });
  const doc = state.currentDoc || {};
  const departments = ticks(t('departments'), Object.keys(doc.departments || {}), (d) => labelText(doc.departments[d]?.label) || d);
  const roles = ticks(t('roles'), Object.keys(doc.roles || {}), (r) => labelText(doc.roles[r]?.label) || r);
  const resources = ticks(t('resources'), Object.keys(doc.resources || {}), (r) => labelText(doc.resources[r]?.label) || r);
  const canEdit = el('input', { type: 'checkbox', 'aria-label': t('canEditRoles') });
  const name = el('input', { type: 'text', 'aria-label': t('adminName'), autocomplete: 'off' });
  const from = el('select', { 'aria-label': t('handoverFrom') });
  const to = el('input', { type: 'text', 'aria-label': t('handoverTo'), autocomplete: 'off' });
  const showToken = (who, tok) => fill(token, tok ? el('p', { class: 'msg notice' }, t('tokenOnce', { name: who }), ' ', el('code', {}, tok)) : null);
  const refresh = async () => {
    try {
      const r = await admin('/v1/admins');
      fill(from, r.admins.map((a) => el('option', { value: a.name }, a.name)));
      fill(list, r.admins.map((a) => el('li', { 'data-admin': a.name },
        el('strong', {}, a.name), ` · ${new Date(a.created_at).toLocaleDateString(locale())} · ${scopeWords(a.scope)} `,
        a.name === state.me?.name ? el('span', { class: 'muted' }, t('you')) : el('button', { type: 'button', class: 'link', 'aria-label': `${t('remove')} ${a.name}`, onclick: async () => {
          try {
            await admin(`/v1/admins/${encodeURIComponent(a.name)}`, { method: 'DELETE' });
            say(msg, `${t('remove')}: ${a.name}`);
            refresh();
          } catch (e) { say(msg, describe(e), 'error'); }
        } }, t('remove')))));
    } catch (e) { say(msg, describe(e), 'error'); }
  };
  fill(box,
    el('h2', { id: 'admins-h' }, t('tab.admins')),
    el('p', { class: 'muted' }, t('adminsHelp')),
    msg, token, list,
    el('fieldset', {}, el('legend', {}, t('newAdmin')),
      el('p', { class: 'muted' }, t('newAdminHelp')),
      el('label', {}, t('adminName'), name),
      departments.box, roles.box, resources.box,
      el('label', {}, canEdit, t('canEditRoles')),
      el('button', { type: 'button', onclick: async () => {
        const scope = { departments: departments.value(), roles: roles.value(), resources: resources.value(), can_edit_roles: canEdit.checked };
        try {
          const r = await admin('/v1/admins', { method: 'POST', body: { name: name.value.trim(), scope } });
          showToken(r.name, r.token);
          name.value = '';
          refresh();
        } catch (e) { say(msg, describe(e), 'error'); }
      } }, t('addAdmin'))),
    el('fieldset', {}, el('legend', {}, t('handover')),
      el('p', { class: 'muted' }, t('handoverHelp')),
      el('div', { class: 'bar' }, el('label', {}, t('handoverFrom'), from), el('label', {}, t('handoverTo'), to),
        el('button', { type: 'button', onclick: async () => {
          try {
            const r = await admin('/v1/admins/transfer', { method: 'POST', body: { from: from.value, to: to.value.trim() } });
            say(msg, t('handedOver', { from: r.from, to: r.to }));
            showToken(r.to, r.token);
            refresh();
          } catch (e) { say(msg, describe(e), 'error'); }
        } }, t('handover')))));
  refresh();
  return box;
}
