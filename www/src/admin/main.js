// The admin console: the token, then the draft's status bar and one tab per task. Every tab
// edits the draft (kept on the server), and nothing is published until "Publish".

import { preload } from 'fieldgate';
import { api } from '../api.js';
import { confirmDialog, describe, el, messageBox, say } from '../dom.js';
import { languageSwitch, t } from '../i18n.js';
import { activityTab } from './activity.js';
import { adminsTab } from './admins.js';
import { advancedTab } from './advanced.js';
import { flowsTab } from './flows.js';
import { matrixTab } from './matrix.js';
import { orgTab } from './org.js';
import { peopleTab } from './people.js';
import { publishTab } from './publish.js';
import { reviewsTab } from './reviews.js';
import { rolesTab, templatesTab } from './roles.js';
import { rulesTab } from './rules.js';
import { discard, load, note, onChange, onReload, scopeWords, state, statusText, takeNote } from './state.js';

// The engine's module (live checks of the draft) downloads while the console loads its data.
preload('/dist/fieldgate_wasm_full_bg.wasm');

const TABS = {
  matrix: matrixTab,
  roles: rolesTab,
  templates: templatesTab,
  people: peopleTab,
  org: orgTab,
  rules: rulesTab,
  flows: flowsTab,
  publish: publishTab,
  activity: activityTab,
  reviews: reviewsTab,
  admins: adminsTab,
  advanced: advancedTab,
};

/** The tabs a restricted admin (分级管理员) works in: their people's roles, their roles' grants
 * (the matrix, when they may edit roles), publishing. The rest of the policy is not theirs to
 * change. */
const RESTRICTED = ['matrix', 'roles', 'people', 'publish', 'activity'];

/** The tabs the signed-in admin sees. */
const tabs = () => Object.keys(TABS).filter((name) => (state.me?.restricted
  ? RESTRICTED.includes(name) && (name !== 'matrix' || state.me.scope?.can_edit_roles)
  : name !== 'admins' || state.me?.everything));

let tab = (location.hash.match(/tab=(\w+)/) || [])[1] || 'matrix';
const root = () => document.getElementById('admin');

function go(name) {
  tab = tabs().includes(name) ? name : tabs()[0];
  history.replaceState(null, '', `#tab=${tab}`);
  render();
}

function statusBar() {
  const msg = messageBox();
  const left = takeNote('draft');
  if (left) say(msg, left.text, left.kind);
  const line = el('span', { 'data-testid': 'draft-status' }, statusText());
  const stale = () => document.querySelector('.draftbar .stale');
  onChange(() => {
    line.textContent = statusText();
    if (stale()) stale().hidden = state.status !== 'stale';
  });
  const people = state.draftPeople
    ? el('span', { class: 'notice', 'data-testid': 'draft-people' }, t('directoryPending', { n: state.draftPeople.length }))
    : null;
  return el('div', { class: 'draftbar' }, line, people,
    el('button', { type: 'button', class: 'stale', hidden: state.status !== 'stale', onclick: () => load() }, t('loadDraft')),
    el('button', { type: 'button', class: 'secondary', onclick: async () => {
      if (!(await confirmDialog(t('discard'), el('p', {}, t('discardConfirm', { v: state.current })), { ok: t('discard'), cancel: t('cancel') }))) return;
      note('draft', t('discarded', { v: state.current }));
      await discard();
    } }, t('discard')),
    msg);
}

function render() {
  if (!tabs().includes(tab)) [tab] = tabs();
  const bar = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('admin') }, tabs().map((name) => el('button', {
    type: 'button', role: 'tab', id: `tab-${name}`, 'aria-selected': name === tab ? 'true' : 'false', 'aria-controls': 'panel',
    'data-tab': name, onclick: () => go(name),
  }, t(`tab.${name}`))));
  const panel = el('div', { id: 'panel', role: 'tabpanel', 'aria-labelledby': `tab-${tab}` }, TABS[tab](go));
  const limits = state.me?.restricted ? el('p', { class: 'notice', 'data-testid': 'restricted' }, scopeWords(state.me.scope, true)) : null;
  root().replaceChildren(...[statusBar(), limits, bar, panel].filter(Boolean));
}

async function main() {
  document.querySelector('header.top').append(languageSwitch());
  document.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
  if (!state.token) {
    const msg = messageBox();
    const input = el('input', { type: 'password', 'aria-label': t('token'), autocomplete: 'off' });
    const go2 = async () => {
      state.token = input.value.trim();
      try {
        await api('/v1/apps/acme-erp/versions', { headers: { authorization: `Bearer ${state.token}` } });
        sessionStorage.setItem('fieldgate-admin-token', state.token);
        main();
      } catch (e) { say(msg, describe(e), 'error'); }
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go2(); });
    root().replaceChildren(el('div', { class: 'card' }, el('h2', {}, t('token')), el('p', { class: 'muted' }, t('tokenHelp')), input, msg,
      el('div', { class: 'actions' }, el('button', { type: 'button', onclick: go2 }, t('continue')))));
    return;
  }
  sessionStorage.setItem('fieldgate-admin-token', state.token);
  onReload(() => render());
  await load();
}

main().catch((e) => root().replaceChildren(el('div', { class: 'msg error', role: 'alert' }, describe(e))));
