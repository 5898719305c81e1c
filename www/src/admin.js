// The demo admin page: edit a draft of the policy (role x field matrix, templates, personal
// grants and denies, department and group assignments, staff transfer, CSV import/export),
// preview it as a user, review the access diff, publish, and roll back.
import { init, Engine } from 'fieldgate';
import { api, APP } from './api.js';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...kids.flat().filter((k) => k !== null && k !== undefined));
  return e;
};
const STATES = ['', 'hidden', 'masked', 'readonly', 'editable'];
const SCOPES = ['', 'all', 'department_tree', 'department', 'own'];

let token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('fieldgate-admin-token') || '';
let draft = null;
let current = null;
let resource = 'customer';
let users = [];
const auth = () => ({ authorization: `Bearer ${token}` });
const admin = (path, opts = {}) => api(path, { ...opts, headers: { ...auth(), ...(opts.headers || {}) } });

// The last message survives re-renders. Handlers that re-render show their message after the
// render, so a message on screen means the page under it is the new one.
let note = { text: '', kind: '' };
function showMessage() {
  const box = $('#message');
  if (!box) return;
  box.className = note.text ? note.kind : '';
  box.setAttribute('role', note.kind === 'error' ? 'alert' : 'status');
  box.textContent = note.text;
}
function message(text, kind = 'notice') {
  note = { text, kind };
  showMessage();
}
const fail = (e) => message(`${e.code || 'error'}: ${e.message}${e.data?.errors ? ' — ' + e.data.errors.map((x) => `${x.path}: ${x.code}`).join('; ') : ''}${e.data?.cells ? ' — ' + e.data.cells.map((c) => `row ${c.row} ${c.column}: ${c.message}`).join('; ') : ''}`, 'error');

const parseCsv = (text) => text.replace(/^\ufeff/, '').trim().split(/\r?\n/).map((line) => {
  const out = []; let cell = ''; let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) { if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c; }
    else if (c === '"') q = true; else if (c === ',') { out.push(cell); cell = ''; } else cell += c;
  }
  out.push(cell); return out;
});
const toCsv = (rows) => rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';

async function matrixTable() {
  const csv = await admin('/v1/drafts/matrix/export', { method: 'POST', body: { document: draft, resource } });
  return parseCsv(csv);
}

async function applyMatrix(rows) {
  const r = await admin('/v1/drafts/matrix/import', { method: 'POST', body: { document: draft, resource, csv: toCsv(rows) } });
  draft = r.document;
  await render();
  message('Draft updated. Review the changes, then publish.');
}

// Cell edits apply one after another, each to the matrix of the draft as it is by then: two
// edits made before the table re-renders both land.
let edits = Promise.resolve();
function editCell(role, column, value) {
  edits = edits.catch(() => {}).then(async () => {
    const rows = await matrixTable();
    const r = rows.findIndex((x, i) => i >= 2 && x[0] === role);
    const c = rows[0].indexOf(column);
    if (r < 0 || c < 0) throw new Error(`the draft has no cell ${role} ${column}`);
    rows[r][c] = value;
    await applyMatrix(rows);
  });
  return edits;
}

async function renderMatrix(box) {
  const rows = await matrixTable();
  const [head, labels, ...body] = rows;
  const table = el('table', { 'aria-label': `Role by field matrix for ${resource}` },
    el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { scope: 'col' }, i === 0 ? 'Role' : labels[i])))),
    el('tbody', {}, body.map((row) => el('tr', {}, row.map((cell, c) => {
      if (c === 0) return el('th', { scope: 'row' }, cell);
      const isField = head[c].startsWith('field:');
      const options = isField ? STATES : SCOPES;
      const select = el('select', {
        'aria-label': `${row[0]} ${head[c]}`, 'data-role': row[0], 'data-column': head[c],
        onchange: (e) => editCell(row[0], head[c], e.target.value).catch(fail),
      }, options.map((o) => el('option', { value: o, selected: o === cell }, o || (isField ? '—' : 'no'))));
      return el('td', {}, select);
    })))));
  box.append(el('div', { class: 'scroll' }, table),
    el('div', { class: 'actions' },
      el('button', { class: 'secondary', onclick: () => download(`${resource}-matrix.csv`, toCsv(rows)) }, 'Export CSV'),
      el('label', {}, 'Import CSV ', el('input', { type: 'file', accept: '.csv,text/csv', 'aria-label': 'Import CSV', onchange: async (e) => {
        const text = await e.target.files[0].text();
        try {
          const r = await admin('/v1/drafts/matrix/import', { method: 'POST', body: { document: draft, resource, csv: text } });
          draft = r.document; await render(); message('Matrix imported into the draft.');
        } catch (err) { fail(err); }
      } }))));
}

function download(name, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob(['\ufeff' + text.replace(/^\ufeff/, '')], { type: 'text/csv' })), download: name });
  document.body.append(a); a.click(); a.remove();
}

function jsonSection(title, pointer, help) {
  const get = () => pointer.reduce((o, k) => (o ? o[k] : undefined), draft) ?? {};
  const area = el('textarea', { rows: 8, 'aria-label': title, style: 'width:100%;font-family:monospace', 'data-section': pointer.join('.') }, JSON.stringify(get(), null, 2));
  return el('section', { class: 'card' }, el('h3', {}, title), el('p', { class: 'muted' }, help), area,
    el('div', { class: 'actions' }, el('button', { class: 'secondary', onclick: () => {
      try {
        const value = JSON.parse(area.value);
        let o = draft; for (const k of pointer.slice(0, -1)) o = o[k] ??= {};
        o[pointer.at(-1)] = value; message(`${title}: applied to the draft.`);
      } catch (e) { message(`${title}: not valid JSON (${e.message})`, 'error'); }
    } }, `Apply ${title.toLowerCase()}`)));
}

function transferSection() {
  const options = () => users.map((u) => el('option', { value: u.id }, `${u.name} (${u.id})`));
  const from = el('select', { 'aria-label': 'Leaver' }, options());
  const to = el('select', { 'aria-label': 'Successor' }, options());
  const copy = el('input', { type: 'checkbox', 'aria-label': 'Copy instead of move' });
  const records = el('input', { type: 'checkbox', 'aria-label': 'Also reassign their records' });
  return el('section', { class: 'card' }, el('h3', {}, 'Staff transfer'),
    el('div', { class: 'bar' }, el('label', {}, 'From', from), el('label', {}, 'To', to),
      el('label', {}, el('span', {}, 'Copy, keep the leaver'), copy), el('label', {}, el('span', {}, 'Also reassign records now'), records)),
    el('button', { onclick: async () => {
      try {
        const r = await admin('/v1/drafts/transfer', { method: 'POST', body: { document: draft, from: from.value, to: to.value, copy: copy.checked, new_successor: true } });
        draft = r.document;
        let text = `Draft: ${r.report.from} → ${r.report.to}: roles ${r.report.roles.join(', ') || 'none'}, ${r.report.grants.length} grants, ${r.report.denies.length} denies.`;
        if (records.checked) {
          const m = await admin('/v1/admin/reassign-records', { method: 'POST', body: { from: from.value, to: to.value } });
          text += ` Records reassigned: ${Object.entries(m.moved).map(([k, v]) => `${v} ${k}`).join(', ')}.`;
        }
        await render(); message(text);
      } catch (e) { fail(e); }
    } }, 'Transfer'));
}

async function preview(box, userId) {
  await init('/dist/fieldgate_wasm_bg.wasm');
  const u = users.find((x) => x.id === userId);
  let engine;
  try { engine = Engine.fromPolicyUnverified(draft); } catch (e) { box.replaceChildren(el('p', { class: 'error' }, `${e.code}: ${e.message}`)); return; }
  const s = engine.session({ id: u.id, department: u.department, groups: u.groups || [] });
  const fields = s.fields(resource, 'edit', null);
  const actions = engine.actions(resource).filter((a) => s.can(a, resource));
  box.replaceChildren(el('p', {}, `Roles: ${s.roles().join(', ') || 'none'}. Can (on some record): ${actions.join(', ') || 'nothing'}.`),
    el('table', { 'aria-label': 'Preview' }, el('tbody', {}, Object.entries(fields).map(([f, st]) => el('tr', {}, el('th', { scope: 'row' }, f), el('td', { 'data-preview': f }, st))))));
}

async function render() {
  const root = $('#admin');
  const versions = await api(`/v1/apps/${APP}/versions`);
  const previewBox = el('div', { 'data-testid': 'preview' });
  const matrixBox = el('div', { 'data-testid': 'matrix' });
  const diffBox = el('div', { 'data-testid': 'diff' });
  const userPick = el('select', { 'aria-label': 'Preview as user', onchange: (e) => preview(previewBox, e.target.value) }, users.map((u) => el('option', { value: u.id }, `${u.name} — ${u.title}`)));
  root.replaceChildren(
    el('div', { id: 'message', role: 'status' }),
    el('div', { class: 'bar' },
      el('label', {}, 'Resource', el('select', { 'aria-label': 'Resource', onchange: (e) => { resource = e.target.value; render().catch(fail); } },
        ['customer', 'inbound_order'].map((r) => el('option', { value: r, selected: r === resource }, r)))),
      el('span', { class: 'muted', 'data-testid': 'current-version' }, `current version ${versions.current}`)),
    el('section', { class: 'card' }, el('h2', {}, `Permission matrix: ${resource}`), el('p', { class: 'muted' }, 'Field cells: hidden / masked / read-only / editable. Action cells: the data scope the role may act on (all, department tree, department, own), empty for not allowed.'), matrixBox),
    el('div', { class: 'grid' },
      el('section', { class: 'card' }, el('h2', {}, 'Preview as user'), userPick, previewBox),
      el('section', { class: 'card' }, el('h2', {}, 'Review and publish'),
        el('div', { class: 'actions' },
          el('button', { class: 'secondary', onclick: async () => {
            try {
              const d = await admin(`/v1/apps/${APP}/policy?dry_run=true`, { method: 'POST', body: draft });
              diffBox.replaceChildren(el('p', {}, `Publishing makes version ${d.version}: ${d.structure.length} structural and ${d.access.length} access changes.`),
                el('ul', {}, d.summary.lines.map((l) => el('li', {}, l))));
            } catch (e) { fail(e); }
          } }, 'Review changes'),
          el('button', { onclick: async () => {
            try {
              const v = await admin(`/v1/apps/${APP}/policy`, { method: 'POST', body: draft, headers: { 'x-fieldgate-actor': 'admin page' } });
              current = v.version; await reload(); message(`Published version ${v.version}.`);
            } catch (e) { fail(e); }
          } }, 'Publish')),
        diffBox,
        el('h3', {}, 'Versions'),
        el('ul', {}, versions.versions.map((v) => el('li', {}, `v${v.version} by ${v.published_by}, ${new Date(v.published_at).toLocaleString()} `,
          v.version !== versions.current ? el('button', { class: 'secondary', onclick: async () => {
            try { const r = await admin(`/v1/apps/${APP}/rollback-to/${v.version}`, { method: 'POST' }); await reload(); message(`Rolled back: published v${v.version}'s content as v${r.version}.`); } catch (e) { fail(e); }
          } }, `Roll back to v${v.version}`) : el('span', { class: 'muted' }, '(current)')))))),
    transferSection(),
    jsonSection('Templates', ['templates'], 'Permission templates: named lists of grants that roles apply.'),
    jsonSection('Users: personal grants and denies', ['assignments', 'users'], 'Per user: roles, personal grants and personal denies.'),
    jsonSection('Department assignments', ['assignments', 'departments'], 'Department → roles (also given to every sub-department).'),
    jsonSection('Group assignments', ['assignments', 'groups'], 'Group → roles.'),
  );
  showMessage();
  await renderMatrix(matrixBox).catch(fail);
  await preview(previewBox, userPick.value).catch(fail);
}

async function reload() {
  const versions = await api(`/v1/apps/${APP}/versions`);
  current = versions.current;
  draft = (await api(`/v1/apps/${APP}/versions/${current}`)).document;
  await render();
}

async function main() {
  const root = $('#admin');
  if (!token) {
    const input = el('input', { type: 'password', 'aria-label': 'Admin token', autocomplete: 'off' });
    root.replaceChildren(el('div', { class: 'card' }, el('h2', {}, 'Admin token'),
      el('p', { class: 'muted' }, 'Printed by fieldgate serve at first start (also in <data>/admin.token).'), input,
      el('div', { class: 'actions' }, el('button', { onclick: () => { token = input.value.trim(); sessionStorage.setItem('fieldgate-admin-token', token); main(); } }, 'Continue'))));
    return;
  }
  sessionStorage.setItem('fieldgate-admin-token', token);
  users = await api('/v1/users');
  await reload();
}
main().catch((e) => { document.getElementById('admin').replaceChildren(el('div', { class: 'error', role: 'alert' }, `${e.code || 'error'}: ${e.message}`)); });
