// Reviewing and publishing the draft, and the history. Publishing always sends the version the
// draft was made from (`If-Match`): when another admin published since, nothing is published
// (409) and the page shows the three versions, merges the draft's changes onto the new one
// and lets the admin rebase. A transfer's record reassignment rides on the publication.
// Rollback shows what changes and asks first, offering to give back records moved since.

import { APP } from '../api.js';
import { confirmDialog, describe, el, fill, messageBox, say } from '../dom.js';
import { lang, locale, t } from '../i18n.js';
import { admin, check, load, note, replace, state, strip, takeNote, warningWords } from './state.js';

/** A diff as the server words it: one section per change the admin made, with how many people
 * and capabilities it moves, its lines (who gains or loses what, on which records), and everyone
 * it reaches listed on demand (name and id); and, when given, the parts of the document that
 * changed without moving access (labels, descriptions). */
export function diffList(diff, changed = []) {
  const groups = diff?.impact?.groups || [];
  const other = changed.length
    ? el('div', {}, el('p', {}, t('otherChanges')), el('ul', { class: 'diff' }, changed.map((p) => el('li', {}, el('code', {}, p)))))
    : null;
  if (!groups.length) {
    // A diff that failed to come: its words, as a list.
    const lines = diff?.summary || [];
    if (!lines.length) return el('div', {}, el('p', { class: 'muted' }, t('noChanges')), other);
    return el('div', {}, el('ul', { class: 'diff' }, lines.map((l) => el('li', {}, l))), other);
  }
  const person = (p) => el('li', { 'data-subject': p.subject }, p.name,
    p.subject.startsWith('user:') && p.name !== p.subject.slice(5) ? el('span', { class: 'muted' }, ` (${p.subject.slice(5)})`) : null);
  return el('div', {},
    el('p', {}, t('affects', { counts: diff.impact.counts })),
    groups.map((g) => el('section', { class: 'cause', 'data-causes': g.causes.join(',') },
      el('h4', {}, g.text, ' ', el('span', { class: 'muted' }, `(${g.counts})`)),
      el('ul', { class: 'diff' }, g.lines.map((l) => el('li', { 'data-what': l.what, 'data-resource': l.resource }, l.text))),
      el('details', { class: 'everyone' }, el('summary', {}, t('reaches', { n: g.people.length })),
        el('ul', { class: 'people' }, g.people.map(person))))),
    other);
}

/** Where two documents differ, as paths (`rules[no-self-approval].description`): what
 * changed in the text, not what it means for access (that is the server's diff). */
export function changedPaths(a, b, path = '', out = []) {
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  const keyed = (v) => Array.isArray(v) && v.every((x) => isObject(x) && typeof x.id === 'string');
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) changedPaths(a[k], b[k], path ? `${path}.${k}` : k, out);
  } else if (keyed(a) && keyed(b)) {
    const by = (list) => new Map(list.map((x) => [x.id, x]));
    const [x, y] = [by(a), by(b)];
    for (const id of new Set([...x.keys(), ...y.keys()])) changedPaths(x.get(id), y.get(id), `${path}[${id}]`, out);
  } else {
    out.push(path || '$');
  }
  return out;
}

/** A three-way merge of JSON values: the draft's changes (base -> yours) onto theirs. Objects
 * merge member by member, lists of objects with an `id` (rules) item by item, other lists of
 * the same length place by place; where both changed something differently, yours wins and
 * its path is listed. */
export function merge(base, yours, theirs, path = '', conflicts = []) {
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (same(yours, base)) return { value: structuredClone(theirs), conflicts };
  if (same(theirs, base) || same(yours, theirs)) return { value: structuredClone(yours), conflicts };
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if ([base, yours, theirs].every(isObject)) {
    const out = {};
    for (const k of new Set([...Object.keys(base), ...Object.keys(yours), ...Object.keys(theirs)])) {
      const r = merge(base[k], yours[k], theirs[k], path ? `${path}.${k}` : k, conflicts).value;
      if (r !== undefined) out[k] = r;
    }
    return { value: out, conflicts };
  }
  if ([base, yours, theirs].every(Array.isArray)) {
    const ids = (list) => list.every((x) => isObject(x) && typeof x.id === 'string');
    if (ids(base) && ids(yours) && ids(theirs)) {
      const by = (list) => new Map(list.map((x) => [x.id, x]));
      const [b, y, th] = [by(base), by(yours), by(theirs)];
      const order = [...theirs.map((x) => x.id), ...yours.map((x) => x.id).filter((id) => !th.has(id))];
      const out = [];
      for (const id of order) {
        const r = merge(b.get(id), y.get(id), th.get(id), `${path}[${id}]`, conflicts).value;
        if (r !== undefined) out.push(r);
      }
      return { value: out, conflicts };
    }
    if (base.length === yours.length && yours.length === theirs.length) {
      return { value: base.map((_, i) => merge(base[i], yours[i], theirs[i], `${path}[${i}]`, conflicts).value), conflicts };
    }
  }
  conflicts.push(path || '$');
  return { value: structuredClone(yours), conflicts };
}

export function publishTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'publish-h' });
  const msg = messageBox();
  const diffBox = el('div', { 'data-testid': 'diff' });
  const conflictBox = el('div', { 'data-testid': 'conflict' });
  const reassign = state.draft['x-fieldgate-reassign'];

  const reviewChanges = async () => {
    try {
      const d = await admin(`/v1/apps/${APP}/policy?dry_run=true`, { method: 'POST', body: strip(state.draft) });
      const warnings = d.lint || [];
      fill(diffBox, el('p', {}, t('publishWill', { v: d.version })),
        d.directory != null ? el('p', { class: 'notice' }, t('directoryPending', { n: d.directory })) : null,
        diffList(d),
        warnings.length ? el('div', { class: 'msg error', 'data-testid': 'new-warnings' }, el('p', {}, t('newWarnings')),
          el('ul', {}, warnings.map((w) => el('li', { 'data-code': w.code, title: w.message }, warningWords(w))))) : null);
    } catch (e) {
      say(msg, describe(e), 'error');
    }
  };

  const noteBox = el('input', { type: 'text', maxlength: 500, 'aria-label': t('versionNote'), placeholder: t('versionNoteHint') });
  const publish = async () => {
    const r = state.draft['x-fieldgate-reassign'];
    const params = new URLSearchParams(r ? { reassign_from: r.from, reassign_to: r.to } : {});
    if (noteBox.value.trim()) params.set('note', noteBox.value.trim());
    const q = params.size ? `?${params}` : '';
    try {
      const v = await admin(`/v1/apps/${APP}/policy${q}`, { method: 'POST', body: strip(state.draft), headers: { 'if-match': `"${state.base}"` } });
      await admin(`/v1/apps/${APP}/draft`, { method: 'DELETE' }).catch(() => {});
      note('publish', t('published', { v: v.version }));
      await load();
    } catch (e) {
      if (e.code === 'conflict') return showConflict();
      say(msg, describe(e), 'error');
    }
  };

  const showConflict = async () => {
    const versions = await admin(`/v1/apps/${APP}/versions`);
    const theirs = (await admin(`/v1/apps/${APP}/versions/${versions.current}`)).document;
    const base = (await admin(`/v1/apps/${APP}/versions/${state.base}`)).document;
    const strippedBase = { ...base, version: undefined };
    const m = merge({ ...strippedBase }, { ...strip(state.draft), version: undefined }, { ...theirs, version: undefined });
    m.value.version = versions.current;
    if (state.draft['x-fieldgate-reassign']) m.value['x-fieldgate-reassign'] = state.draft['x-fieldgate-reassign'];
    const theirDiff = await admin(`/v1/apps/${APP}/diff?from=${state.base}&to=${versions.current}`);
    let yourDiff = null;
    try {
      yourDiff = (await check()).diff;
    } catch (e) {
      yourDiff = { summary: [describe(e)] };
    }
    say(msg, t('conflict', { v: versions.current, base: state.base }), 'error');
    state.versions = versions.versions;
    state.current = versions.current;
    fill(historyBox, history());
    const edits = (doc) => changedPaths(strippedBase, { ...doc, version: undefined, 'x-fieldgate-reassign': undefined });
    fill(conflictBox,
      el('div', { class: 'grid' },
        el('section', {}, el('h3', {}, t('theirs', { base: state.base, v: versions.current })), diffList(theirDiff, edits(theirs))),
        el('section', {}, el('h3', {}, t('yours', { base: state.base })), diffList(yourDiff, edits(strip(state.draft))))),
      el('h3', {}, t('merged', { v: versions.current })),
      m.conflicts.length ? el('p', { class: 'msg error' }, t('conflicts', { paths: m.conflicts.join(', ') })) : null,
      el('button', { type: 'button', onclick: () => {
        note('publish', t('rebased', { v: versions.current }));
        replace(m.value, versions.current);
      } }, t('rebase', { v: versions.current })));
  };

  const rollback = async (v) => {
    try {
      const d = await admin(`/v1/apps/${APP}/diff?from=${state.current}&to=${v.version}`);
      const moved = state.versions.some((x) => x.version > v.version && x.reassigned);
      const back = el('input', { type: 'checkbox', checked: moved });
      const body = el('div', {}, el('p', {}, t('rollbackConfirm', { v: v.version })), diffList(d),
        moved ? el('label', {}, back, t('moveBack', { v: v.version })) : null);
      if (!(await confirmDialog(t('rollback', { v: v.version }), body, { ok: t('rollback', { v: v.version }), cancel: t('cancel') }))) return;
      const q = back.checked && moved ? '?move_records_back=true' : '';
      const r = await admin(`/v1/apps/${APP}/rollback-to/${v.version}${q}`, { method: 'POST', headers: { 'if-match': `"${state.current}"` } });
      note('publish', t('rolledBack', { v: v.version, n: r.version }));
      await load();
    } catch (e) {
      say(msg, describe(e), 'error');
    }
  };

  /** A version's note in words (a rollback's is the server's fixed `rollback to N`). */
  const noteText = (n) => {
    const back = /^rollback to (\d+)$/.exec(n || '');
    return back ? t('rollbackNote', { v: back[1] }) : n;
  };
  /** Every version, newest first, each but the current one with its rollback: who, when, what
   * it changed (the server's headline, in the page's language) and the admin's note. */
  const history = () => el('ul', { class: 'versions' }, state.versions.map((v) => el('li', { 'data-version': v.version },
    `v${v.version} · ${t('by', { who: v.published_by })} · ${new Date(v.published_at).toLocaleString(locale())}`,
    v.summary?.headline ? el('div', { class: 'headline' }, v.summary.headline[lang === 'zh' ? 'zh-CN' : 'en']) : null,
    v.note ? el('div', { class: 'muted' }, `${t('note')}: ${noteText(v.note)}`) : '',
    v.directory_changed ? ` · ${t('directoryChanged')}` : '',
    v.reassigned ? ` · ${v.reassigned.from} → ${v.reassigned.to}` : '',
    ' ',
    v.version === state.current
      ? el('span', { class: 'muted' }, t('current'))
      : el('button', { type: 'button', class: 'secondary', onclick: () => rollback(v) }, t('rollback', { v: v.version })))));
  const historyBox = el('div', {}, history());

  const left = takeNote('publish');
  if (left) say(msg, left.text, left.kind);
  fill(box,
    el('h2', { id: 'publish-h' }, t('tab.publish')),
    reassign ? el('p', { class: 'notice' }, t('reassignPending', reassign)) : null,
    el('label', {}, t('versionNote'), noteBox),
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: reviewChanges }, t('review')),
      el('button', { type: 'button', onclick: publish }, t('publish'))),
    msg, diffBox, conflictBox,
    el('h3', {}, t('versions')),
    historyBox);
  return box;
}
