// The admin page's state: the token, the app's current version and directory, and the draft,
// kept on the server (`/v1/apps/{app}/draft`) so it survives reloads and is shared by tabs.
// Every change saves after a short pause, from the revision it read (a save from an older
// revision is refused, 412, and the page says so instead of overwriting).

import { init, Engine } from 'fieldgate';
import { api, APP } from '../api.js';
import { lang, locale, t } from '../i18n.js';

const listeners = new Set();
const reloads = new Set();
const notes = new Map();
let saveTimer = null;
let saving = null;

export const state = {
  token: new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('fieldgate-admin-token') || '',
  /** The current version's number and document. */
  current: null,
  currentDoc: null,
  /** The draft: its document, the version it was made from, its saved revision. */
  draft: null,
  base: null,
  revision: 0,
  /** `saved`, `unsaved`, `saving` or `stale` (another tab saved). */
  status: 'saved',
  savedAt: null,
  /** The app's people. */
  people: [],
  /** The people the draft will publish (a directory upload), or null. */
  draftPeople: null,
  /** The signed-in admin: `{name, scope, restricted, everything, departments}` (a restricted
   * admin is shown only what they may change; the server checks every change anyway). */
  me: null,
};

/** An API call with the admin token. */
export function admin(path, opts = {}) {
  return api(path, { ...opts, headers: { authorization: `Bearer ${state.token}`, ...(opts.headers || {}) } });
}

/** Called after every change of the draft or the status. */
export function onChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}
const changed = () => listeners.forEach((f) => f());

/** Called when the whole draft or the current version changed (load, discard, replace): the
 * tabs render again. Typing does not call it, so nothing typed is wiped. */
export function onReload(f) {
  reloads.add(f);
  return () => reloads.delete(f);
}
const reloaded = () => reloads.forEach((f) => f());

/** A message for `key`'s message area that outlives a render (shown by `takeNote`). */
export function note(key, text, kind = 'notice') {
  notes.set(key, { text, kind });
}

/** The message left for `key`, once. */
export function takeNote(key) {
  const n = notes.get(key);
  notes.delete(key);
  return n;
}

/** Loads the current version, the directory and the admin's saved draft (or starts one). */
export async function load() {
  const versions = await admin(`/v1/apps/${APP}/versions`);
  state.current = versions.current;
  state.versions = versions.versions;
  state.currentDoc = (await admin(`/v1/apps/${APP}/versions/${state.current}`)).document;
  state.people = (await admin(`/v1/apps/${APP}/directory`)).people;
  state.me = await admin(`/v1/admins/me?app=${APP}`);
  try {
    const d = await admin(`/v1/apps/${APP}/draft`);
    state.draft = d.document;
    state.base = d.base ?? state.current;
    state.revision = d.revision;
    state.savedAt = d.updated_at;
    state.draftPeople = d.directory ?? null;
  } catch (e) {
    if (e.status !== 404) throw e;
    state.draftPeople = null;
    state.draft = structuredClone(state.currentDoc);
    state.base = state.current;
    state.revision = 0;
    state.savedAt = null;
  }
  state.status = 'saved';
  changed();
  reloaded();
}

/** Changes the draft with `f(draft)` and saves it shortly after. */
export function edit(f) {
  f(state.draft);
  state.status = 'unsaved';
  changed();
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => { save().catch(() => {}); }, 600);
}

/** Replaces the draft (an import, a transfer, a rebase) and saves it. */
export function replace(doc, base = state.base) {
  state.base = base;
  edit((d) => {
    for (const k of Object.keys(d)) delete d[k];
    Object.assign(d, structuredClone(doc));
  });
  reloaded();
}

/** Saves now (waiting for a save under way first). */
export async function save() {
  clearTimeout(saveTimer);
  if (saving) await saving.catch(() => {});
  if (state.status !== 'unsaved') return;
  state.status = 'saving';
  changed();
  // "d0" says this page read no draft: a draft another tab saved meanwhile is not overwritten.
  const headers = { 'if-match': `"d${state.revision}"` };
  saving = admin(`/v1/apps/${APP}/draft`, { method: 'PUT', body: { document: state.draft, base: state.base }, headers });
  try {
    const r = await saving;
    state.revision = r.revision;
    state.savedAt = Date.now();
    if (state.status === 'saving') state.status = 'saved';
  } catch (e) {
    state.status = e.code === 'stale_draft' ? 'stale' : 'unsaved';
    throw e;
  } finally {
    saving = null;
    changed();
  }
}

/** Forgets the draft and starts again from the current version. */
export async function discard() {
  await admin(`/v1/apps/${APP}/draft`, { method: 'DELETE' });
  state.draftPeople = null;
  state.draft = structuredClone(state.currentDoc);
  state.base = state.current;
  state.revision = 0;
  state.status = 'saved';
  changed();
  reloaded();
}

/** The draft's access diff against the current version (422 with every path when invalid). */
export async function check(doc = state.draft) {
  return admin('/v1/drafts/check', { method: 'POST', body: { document: strip(doc) } });
}

/** The draft without the page's own notes (`x-fieldgate-*`), as it is published. */
export function strip(doc) {
  const out = { ...doc };
  for (const k of Object.keys(out)) if (k.startsWith('x-fieldgate-')) delete out[k];
  return out;
}

/** The draft compiled by the engine in the page (for live checks): an engine, or the
 * FieldgateError with the JSON path and position of each mistake. */
export async function compile(doc = state.draft) {
  await init('/dist/fieldgate_wasm_full_bg.wasm');
  try {
    return { engine: Engine.fromPolicyUnverified(strip(doc)) };
  } catch (e) {
    return { error: e };
  }
}

/** A policy `label` in the page's language: a text, or texts by language (`zh-CN`, `en`). */
export const labelText = (l) => (typeof l === 'string' ? l : l?.[lang === 'zh' ? 'zh-CN' : 'en'] ?? l?.['zh-CN'] ?? l?.en ?? '');

/** A lint warning in the page's words: what kind of problem, and where (`title`: the
 * checker's own sentence). */
export function warningWords(w) {
  const where = flowPlace(w.path) ?? (/^(?:roles|templates|resources|rules|assignments)\b/.test(w.path) ? w.path : '');
  const who = /`([^`]+)`/.exec(w.message)?.[1] ?? '';
  const text = t(`lint.${w.code}`, { who, where });
  return text === `lint.${w.code}` ? w.message : text;
}

/** A place in an approval flow (`resources.R.workflow.states.S`, `….transitions.T.steps[i]`)
 * by its labels: "入库单 · 入库审批 · 审批 · 财务审批"; null for any other path. */
function flowPlace(path) {
  const m = /^resources\.([^.]+)\.workflow(?:\.states\.([^.]+)|\.transitions\.([^.]+)(?:\.steps\[(\d+)\])?)?$/.exec(path);
  if (!m) return null;
  const res = state.draft?.resources?.[m[1]];
  const flow = res?.workflow;
  const tr = m[3] && flow?.transitions?.[m[3]];
  const step = m[4] && tr?.steps?.[Number(m[4])];
  return [labelText(res?.label) || m[1], labelText(flow?.label),
    m[2] && t('flowState', { s: labelText(flow?.states?.[m[2]]?.label) || m[2] }),
    m[3] && (labelText(tr?.label) || m[3]), m[4] && (labelText(step?.label) || step?.id || m[4])].filter(Boolean).join(' · ');
}

/** An action in the page's words (its name when the page has none). */
export function actionWord(a) {
  const w = t(`action.${a}`);
  return w === `action.${a}` ? a : w;
}

/** A form (resource) by its label, else its name. */
export const resourceWord = (r) => labelText(state.draft?.resources?.[r]?.label) || r;

/** A `label` with the page's language's text set to `text` (the other language's kept). */
export function withLabel(l, text) {
  if (l && typeof l === 'object') return { ...l, [lang === 'zh' ? 'zh-CN' : 'en']: text };
  return text;
}

/** Whether a restricted admin may assign `person` (someone in the departments they reach). */
export const mayAssign = (person) => !state.me?.restricted || !state.me.departments || state.me.departments.includes(person.department);

/** Whether a restricted admin gives and takes `role`. */
export const mayGive = (role) => !state.me?.restricted || !state.me.scope?.roles || state.me.scope.roles.includes(role);

/** What an admin may change, in words, by the policy's labels (`self`: said to the admin). */
export function scopeWords(scope, self = false) {
  if (!scope || !(scope.departments || scope.roles || scope.resources || scope.can_edit_roles)) return t('adminEverything');
  const doc = state.currentDoc || {};
  const list = (names, kind) => (names ? names.map((n) => labelText(doc[kind]?.[n]?.label) || n).join(t('listSep')) : t('allOf'));
  const vars = { departments: list(scope.departments, 'departments'), roles: list(scope.roles, 'roles'), resources: list(scope.resources, 'resources') };
  return t(self ? 'restrictedAdmin' : 'adminScope', vars) + (scope.can_edit_roles ? t(self ? 'restrictedGrants' : 'adminScopeGrants', vars) : '');
}

/** A label for a person of the directory. */
export const personLabel = (p) => `${p.name || p.id} (${p.id}${p.department ? `, ${p.department}` : ''}${p.org ? `, ${t('org')}: ${p.org}` : ''})`;

/** The status line of the draft. */
export function statusText() {
  const when = state.savedAt ? new Date(state.savedAt).toLocaleTimeString(locale()) : '';
  const s = { saved: state.savedAt ? t('draftSaved', { t: when }) : '', saving: t('draftSaving'), unsaved: t('draftUnsaved'), stale: t('draftStale') }[state.status];
  return [t('draftOf', { v: state.base }), s].filter(Boolean).join(' · ');
}

// Leaving with unsaved changes asks first.
window.addEventListener('beforeunload', (e) => {
  if (state.status === 'unsaved' || state.status === 'saving') {
    e.preventDefault();
    e.returnValue = t('leaveWarning');
  }
});
