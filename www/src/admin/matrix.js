// The permission matrix: roles by fields and actions, effective values from the server's
// matrix (the engine's answers), each cell explaining itself (set here, from a template, from
// a parent role, capped by a rule, conditional) and linking to where it can be changed. Edits
// change one cell (or are refused with the reason); XLSX and CSV go out and come back in, an
// import showing its diff before anything is applied.

import { APP } from '../api.js';
import { confirmDialog, describe, download, el, fill, messageBox, say } from '../dom.js';
import { locale, t } from '../i18n.js';
import { diffList } from './publish.js';
import { admin, labelText, mayGive, note, replace, state, strip, takeNote } from './state.js';

let resource = null;

const VALUES = { field: ['hidden', 'masked', 'readonly', 'editable'], action: ['', 'all', 'department_tree', 'department', 'subordinates', 'own', 'member', 'parent'] };

/** Where a cell's note says its value comes from: a tab to open and a label. */
/** A cell's note in the page's words (the server's `text` is its English). */
function noteWords(n) {
  const rule = () => labelText((state.draft.rules || []).find((r) => r.id === n.name)?.label) || n.name;
  // A rule of an approval flow (`workflow:<resource>:…`): the flow decides, by its states, steps
  // and separation rules.
  const flow = n.name?.startsWith('workflow:') && n.name.split(':')[1];
  if (flow && (n.kind === 'rule' || n.kind === 'rule_when')) {
    return t('note.flow', { name: labelText(state.draft.resources?.[flow]?.workflow?.label) || flow });
  }
  switch (n.kind) {
    case 'template': return t('note.template', { name: n.name });
    case 'role': return t('note.role', { name: labelText(state.draft.roles?.[n.name]?.label) || n.name });
    case 'personal': return t('note.personal');
    case 'wildcard': return t('note.wildcard');
    case 'scope': return t(`scope.${n.name}`);
    case 'condition': return t('note.condition', { when: n.name });
    case 'rule': return t('note.rule', { name: rule() });
    case 'rule_when': return t('note.ruleWhen', { name: rule() });
    case 'also_scope': return t('note.alsoScope', { scope: t(`scope.${n.name}`) });
    default: return n.text;
  }
}

function source(note) {
  switch (note.kind) {
    case 'template': return { tab: 'templates', label: `${t('tab.templates')}: ${note.name}` };
    case 'role': return { tab: 'roles', label: `${t('tab.roles')}: ${note.name}` };
    case 'rule': case 'rule_when': return note.name.startsWith('workflow:') ? null : { tab: 'rules', label: `${t('tab.rules')}: ${note.name}` };
    case 'personal': return { tab: 'people', label: t('tab.people') };
    default: return null;
  }
}

export function matrixTab(go) {
  const box = el('section', { class: 'card', 'aria-labelledby': 'matrix-h' });
  const msg = messageBox();
  resource ??= Object.keys(state.draft.resources || {})[0];
  const left = takeNote('matrix');
  if (left) say(msg, left.text, left.kind);
  const render = async () => {
    let m;
    try {
      m = await admin('/v1/drafts/matrix/export?format=json', { method: 'POST', body: { document: strip(state.draft), resource } });
    } catch (e) {
      fill(box, el('h2', { id: 'matrix-h' }, t('tab.matrix')), msg);
      return say(msg, describe(e), 'error');
    }
    const cellFor = (row, kind, i, name) => {
      const c = (kind === 'field' ? row.fields : row.actions)[i];
      const column = `${kind}:${name}`;
      const notes = c.notes || [];
      const why = notes.map(noteWords).join(t('listSep')) || t('cellSet');
      const links = notes.map(source).filter(Boolean);
      const select = el('select', {
        'aria-label': `${row.name} ${column}`, 'data-role': row.name, 'data-column': column,
        title: why, disabled: row.kind !== 'role',
        onchange: async (e) => {
          try {
            const r = await admin('/v1/drafts/matrix/edit', { method: 'POST', body: { document: strip(state.draft), resource, edits: [{ role: row.name, column, value: e.target.value }] } });
            note('matrix', `${t('applied')} ${r.diff?.summary?.length ? r.diff.summary.slice(0, 3).join('; ') : t('noChanges')}`);
            replace(r.document);
          } catch (err) {
            say(msg, describe(err), 'error');
            e.target.value = c.value;
          }
        },
      }, VALUES[kind].map((v) => el('option', { value: v, selected: v === c.value }, v ? (kind === 'field' ? t(`state.${v}`) : t(`scope.${v}`)) : t('noScope'))));
      return el('td', { class: c.editable ? '' : 'inherited', 'data-why': why },
        select,
        notes.length > 0 && el('details', { class: 'why' }, el('summary', { 'aria-label': `${t('why')} ${row.name} ${column}` }, '?'),
          el('p', {}, why),
          links.map((l) => el('button', { type: 'button', class: 'link', onclick: () => go(l.tab) }, t('changeAt', { where: l.label })))));
    };
    const table = el('table', { class: 'matrix', 'aria-label': `${t('tab.matrix')}: ${resource}` },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col', class: 'sticky' }, t('role')),
        m.fields.map((f) => el('th', { scope: 'col', title: f.name }, f.label || f.name)),
        m.actions.map((a) => el('th', { scope: 'col', class: 'action', title: a.name }, a.label || a.name)))),
      // A restricted admin's rows: the roles they give (the server refuses edits of others).
      el('tbody', {}, m.rows.filter((row) => row.kind !== 'role' || mayGive(row.name)).map((row) => el('tr', { 'data-row': row.name },
        el('th', { scope: 'row', class: 'sticky' }, row.label ? `${row.label} (${row.name})` : row.name),
        m.fields.map((f, i) => cellFor(row, 'field', i, f.name)),
        m.actions.map((a, i) => cellFor(row, 'action', i, a.name))))));
    const file = el('input', { type: 'file', accept: '.xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'aria-label': t('importSheet') });
    file.addEventListener('change', async () => {
      const f = file.files[0];
      if (!f) return;
      const bytes = new Uint8Array(await f.arrayBuffer());
      let b64 = '';
      for (let i = 0; i < bytes.length; i += 0x8000) b64 += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      try {
        const r = await admin('/v1/drafts/matrix/import', { method: 'POST', body: { document: strip(state.draft), resource, file: btoa(b64) } });
        const refused = r.refused || [];
        const body = el('div', {},
          refused.length ? el('div', { class: 'msg error', 'data-testid': 'refused-cells' },
            el('p', {}, t('cellsRefused', { n: refused.length })),
            el('ul', {}, refused.map((c) => el('li', {}, `${t('row')} ${c.row} · ${c.column}: ${c.message}`)))) : null,
          el('p', {}, t('importPreview')), diffList(r.diff));
        const ok = await confirmDialog(t('importSheet'), body, { ok: t('apply'), cancel: t('cancel') });
        if (ok) {
          note('matrix', t('applied'));
          replace(r.document);
        }
      } catch (e) {
        say(msg, describe(e), 'error');
      }
      file.value = '';
    });
    const exportAs = async (format) => {
      try {
        const res = await fetch(`/v1/drafts/matrix/export?format=${format}`, {
          method: 'POST', headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json', 'accept-language': locale() },
          body: JSON.stringify({ document: strip(state.draft), resource }),
        });
        if (!res.ok) throw Object.assign(new Error(`${res.status}`), await res.json().catch(() => ({})));
        download(`${APP}-${resource}-matrix.${format}`, await res.blob());
      } catch (e) {
        say(msg, describe(e), 'error');
      }
    };
    fill(box, 
      el('h2', { id: 'matrix-h' }, t('tab.matrix')),
      el('div', { class: 'bar' },
        el('label', {}, t('resource'), el('select', { 'aria-label': t('resource'), onchange: (e) => { resource = e.target.value; render(); } },
          Object.keys(state.draft.resources || {}).map((r) => el('option', { value: r, selected: r === resource }, labelText(state.draft.resources[r].label) || r)))),
        el('button', { type: 'button', class: 'secondary', onclick: () => exportAs('xlsx') }, t('exportXlsx')),
        el('button', { type: 'button', class: 'secondary', onclick: () => exportAs('csv') }, t('exportCsv')),
        el('label', { class: 'file' }, t('importSheet'), file)),
      msg,
      el('p', { class: 'muted' }, t('matrixHelp')),
      el('div', { class: 'scroll', tabindex: 0, 'aria-label': `${t('tab.matrix')} ${resource}` }, table));
  };
  render();
  return box;
}
