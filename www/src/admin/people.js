// People: search the directory, and a person's page. It shows the roles they hold and where
// each comes from, their effective access per resource (field states per mode, allowed actions
// and why: the engine's answers, from `/v1/drafts/person`), their personal grants, denies and
// field limits as forms, and a staff transfer to a successor with a choice of what moves.
// The directory itself goes in and out as XLSX or CSV.

import { APP } from '../api.js';
import { describe, download, el, fill, messageBox, picker, say } from '../dom.js';
import { lang, t } from '../i18n.js';
import { boundOf, conditionEditor, datesEditor, dayOf, grantList, resources, STATES } from './grants.js';
import { diffList } from './publish.js';
import { actionWord, admin, check, edit, labelText, load, mayAssign, mayGive, note, personLabel, replace, resourceWord, state, strip, takeNote, warningWords } from './state.js';

let openPerson = null;
/** What the last directory upload changes (shown until the next one or a reload). */
let lastUpload = null;

/** A directory upload's answer: what it changes, who now needs a second look. */
function uploadReport(r) {
  const warnings = r.lint || [];
  const ignored = r.ignored_columns || [];
  return el('div', { class: 'upload', 'data-testid': 'directory-diff' },
    ignored.length ? el('p', { class: 'muted' }, t('ignoredColumns', { cols: ignored.join(lang === 'zh' ? '、' : ', ') })) : null,
    r.diff ? diffList(r.diff) : null,
    warnings.length ? el('div', { class: 'msg error' }, el('p', {}, t('newWarnings')),
      el('ul', {}, warnings.map((w) => el('li', { 'data-code': w.code, title: w.message }, warningWords(w))))) : null);
}

const userEntry = (d, id) => {
  d.assignments ??= {};
  d.assignments.users ??= {};
  return (d.assignments.users[id] ??= {});
};

/** How a role is held (`{kind, name}` as the engine says). */
function via(v) {
  switch (v.kind) {
    case 'subject': return t('via.subject');
    case 'user': return t('via.user');
    case 'department': return t('via.department', { d: v.name });
    case 'group': return t('via.group', { g: v.name });
    case 'inherited': return t('via.inherited', { r: v.name });
    default: return JSON.stringify(v);
  }
}

/** A person's personal denies (`assignments.users[id].denies`) as rows. */
function deniesEditor(id) {
  const box = el('div', {});
  const list = () => userEntry(state.draft, id).denies ??= [];
  const render = () => {
    fill(box, ...list().map((d, i) => {
      const path = `assignments.users.${id}.denies[${i}]`;
      const res = state.draft.resources?.[d.resource];
      return el('fieldset', { class: 'grant', 'data-path': path }, el('legend', { title: path }, t('entryN', { n: i + 1 })),
        el('div', { class: 'bar' },
          el('label', {}, t('resource'), el('select', { 'aria-label': `${t('resource')} ${path}`, onchange: (e) => { edit(() => { list()[i].resource = e.target.value; }); render(); } },
            ['*', ...resources().map(([n]) => n)].map((n) => el('option', { value: n, selected: n === d.resource }, n === '*' ? t('everyForm') : resourceWord(n))))),
          el('button', { type: 'button', class: 'danger', onclick: () => { edit(() => list().splice(i, 1)); render(); } }, t('delete'))),
        el('div', { class: 'checks', role: 'group', 'aria-label': `${t('deniesActions')} ${path}` },
          (res?.actions || []).map((a) => el('label', {}, el('input', { type: 'checkbox', checked: (d.actions || []).includes(a), 'aria-label': `${a} ${path}`,
            onchange: (e) => edit(() => { const s = new Set(list()[i].actions || []); if (e.target.checked) s.add(a); else s.delete(a); list()[i].actions = [...s]; }) }), a))),
        conditionEditor({ get: () => list()[i], key: 'when', resource: () => list()[i].resource, path }),
        datesEditor({ get: () => list()[i], path }));
    }), el('button', { type: 'button', class: 'secondary', onclick: () => { edit(() => list().push({ resource: resources()[0]?.[0] || '*', actions: [] })); render(); } }, t('addDeny')));
  };
  render();
  return box;
}

/** A person's personal field limits (`assignments.users[id].limits`). */
function limitsEditor(id) {
  const box = el('div', {});
  const list = () => userEntry(state.draft, id).limits ??= [];
  const render = () => {
    fill(box, el('p', { class: 'muted' }, t('limitHelp')), ...list().map((l, i) => {
      const path = `assignments.users.${id}.limits[${i}]`;
      const fields = Object.keys(state.draft.resources?.[l.resource]?.fields || {});
      return el('fieldset', { class: 'grant', 'data-path': path }, el('legend', { title: path }, t('entryN', { n: i + 1 })),
        el('div', { class: 'bar' },
          el('label', {}, t('resource'), el('select', { 'aria-label': `${t('resource')} ${path}`, onchange: (e) => { edit(() => { list()[i].resource = e.target.value; list()[i].fields = {}; }); render(); } },
            resources().map(([n]) => el('option', { value: n, selected: n === l.resource }, n)))),
          el('button', { type: 'button', class: 'danger', onclick: () => { edit(() => list().splice(i, 1)); render(); } }, t('delete'))),
        el('div', { class: 'fields' }, fields.map((f) => el('label', {}, f, el('select', {
          'aria-label': `${f} ${path}`,
          onchange: (e) => edit(() => { const fs = list()[i].fields ??= {}; if (e.target.value) fs[f] = e.target.value; else delete fs[f]; }),
        }, ['', ...STATES].map((s) => el('option', { value: s, selected: (l.fields?.[f] || '') === s }, s ? t(`state.${s}`) : '—')))))),
        conditionEditor({ get: () => list()[i], key: 'when', resource: () => list()[i].resource, path }),
        datesEditor({ get: () => list()[i], path }));
    }), el('button', { type: 'button', class: 'secondary', onclick: () => { edit(() => list().push({ resource: resources()[0]?.[0], fields: {} })); render(); } }, t('addLimit')));
  };
  render();
  return box;
}

/** The staff transfer from `id`: successor, what to move, records, preview, apply. */
/** The words of what a transfer moves, by kind. */
const KIND_WORDS = { roles: 'roles', grants: 'personalGrants', denies: 'personalDenies', limits: 'personalLimits' };

function transferEditor(id, msg) {
  const entry = state.draft.assignments?.users?.[id] || {};
  const to = { id: null };
  const pick = picker({ items: () => state.people.filter((p) => p.id !== id), label: personLabel, onPick: (p) => { to.id = p.id; }, placeholder: t('search'), name: t('successor') });
  const boxes = [];
  const choice = (list, kind, text) => (entry[list] || []).map((item, i) => {
    const value = kind === 'roles' ? (typeof item === 'string' ? item : item.role) : String(i);
    const c = el('input', { type: 'checkbox', checked: true, 'aria-label': `${t('whatToMove')}: ${kind} ${text(item, i)}` });
    boxes.push({ kind, value, c });
    return el('label', {}, c, `${t(KIND_WORDS[kind])}: ${text(item, i)}`);
  });
  // A stand-in (代岗) holds a copy until a day; only a copy ends.
  const until = el('input', { type: 'date', disabled: true, 'aria-label': t('dates.standInUntil') });
  const copy = el('input', { type: 'checkbox', 'aria-label': t('copy'), onchange: () => { until.disabled = !copy.checked; } });
  const records = el('input', { type: 'checkbox', 'aria-label': t('reassignRecords') });
  const out = el('div', {});
  const body = () => {
    const sel = { roles: [], grants: [], denies: [], limits: [] };
    for (const b of boxes) if (b.c.checked) sel[b.kind].push(b.value);
    const end = copy.checked && until.value ? { until: boundOf(until.value, 'until') } : {};
    return { from: id, to: to.id, copy: copy.checked, new_successor: true, ...end, ...sel };
  };
  const run = async (apply) => {
    if (!to.id) return say(msg, `${t('successor')}?`, 'error');
    try {
      const r = await admin('/v1/drafts/transfer', { method: 'POST', body: { document: strip(state.draft), ...body() } });
      const doc = r.document;
      if (records.checked) doc['x-fieldgate-reassign'] = { from: id, to: to.id };
      const rep = r.report;
      const summary = `${rep.from} → ${rep.to}: ${t('roles')} ${rep.roles.join(', ') || '—'}, ${rep.grants.length} grants, ${rep.denies.length} denies, ${rep.limits.length} limits${rep.until ? `; ${t('dates.untilDay', { d: dayOf(rep.until) })}` : ''}${rep.not_moved.length ? `; not moved: ${rep.not_moved.join(', ')}` : ''}`;
      if (!apply) {
        const d = await check(doc);
        fill(out, el('p', {}, summary), diffList(d.diff));
        return;
      }
      note('people', t('transferred', { summary }));
      replace(doc);
    } catch (e) {
      say(msg, describe(e), 'error');
    }
  };
  return el('div', { class: 'transfer' },
    el('label', {}, t('successor'), pick.box),
    el('fieldset', {}, el('legend', {}, t('whatToMove')),
      choice('roles', 'roles', (r) => (typeof r === 'string' ? roleName(r) : `${roleName(r.role)} ${r.until ? t('dates.untilDay', { d: dayOf(r.until) }) : ''}`.trim())),
      choice('grants', 'grants', (g, i) => `[${i}] ${resourceWord(g.resource)} ${(g.actions || []).map(actionWord).join('/')}`),
      choice('denies', 'denies', (g, i) => `[${i}] ${resourceWord(g.resource)} ${(g.actions || []).map(actionWord).join('/')}`),
      choice('limits', 'limits', (g, i) => `[${i}] ${resourceWord(g.resource)}`)),
    el('label', {}, copy, t('copy')),
    el('label', {}, t('dates.standInUntil'), until),
    el('label', {}, records, t('reassignRecords')),
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => run(false) }, t('preview')),
      el('button', { type: 'button', onclick: () => run(true) }, t('apply'))),
    out);
}

/** A role's name as the admin knows it. */
const roleName = (r) => {
  const text = labelText(state.draft.roles?.[r]?.label);
  return text ? `${text} (${r})` : r;
};

/** A field's label (its name when it has none). */
const fieldName = (resource, f) => labelText(state.draft.resources?.[resource]?.fields?.[f]?.label) || f;

/** Why an action is allowed or not, in words (the engine's reason and what decided). */
function reasonWords(a) {
  const e = a.explain;
  if (e.reason === 'denied_by_rule') {
    // A flow's own rules (`workflow:<resource>:…`) are said as the flow, once.
    const flows = [...new Set(e.denied_by.filter((id) => id.startsWith('workflow:')).map((id) => id.split(':')[1]))];
    const rules = e.denied_by.filter((id) => !id.startsWith('workflow:'));
    return [rules.length ? t('reason.denied_by_rule', { rules: rules.join(t('listSep')) }) : null,
      ...flows.map((f) => t('note.flow', { name: labelText(state.draft.resources?.[f]?.workflow?.label) || f }))]
      .filter(Boolean).join(t('listSep'));
  }
  if (e.reason !== 'allowed') return t(`reason.${e.reason}`);
  const by = e.grants.filter((g) => g.applies && g.lists_action).map((g) => t(`grantOf.${g.source}`, { name: g.source === 'role' ? roleName(g.name) : g.name, n: g.index + 1, scope: t(`scope.${g.scope}`) }));
  return t('reason.allowed', { by: by.join(t('listSep')) });
}

/**
 * The person's roles where they are held, each with its source: those given to the person
 * can be taken away here, the others say where to change them; and a role can be given. All
 * into the draft.
 */
function rolesEditor(id, info, rerender) {
  const own = () => userEntry(state.draft, id).roles ?? [];
  // A role entry is a name, or `{ role, from?, until? }` for a while.
  const named = (x) => (typeof x === 'string' ? x : x.role);
  const dates = (x) => (typeof x === 'string' ? '' : [x.from && t('dates.fromDay', { d: dayOf(x.from) }), x.until && t('dates.untilDay', { d: dayOf(x.until) })].filter(Boolean).join(' '));
  const ownDates = (role) => own().filter((x) => named(x) === role).map(dates).filter(Boolean).join(t('listSep'));
  const take = (role) => el('button', { type: 'button', class: 'secondary', 'aria-label': t('takeRoleOf', { r: role }), onclick: () => {
    edit((d) => {
      const e = userEntry(d, id);
      e.roles = (e.roles || []).filter((x) => named(x) !== role);
      if (!e.roles.length) delete e.roles;
    });
    rerender();
  } }, t('takeRole'));
  // Dated roles of theirs not in force now (not yet begun, or ended): shown, to renew or take.
  const resting = own().filter((x) => typeof x !== 'string' && !info.roles.some((r) => r.role === x.role));
  const give = el('select', { 'aria-label': t('giveRole') },
    el('option', { value: '' }, t('pickRole')),
    Object.keys(state.draft.roles || {}).filter((r) => mayGive(r) && !info.roles.some((x) => x.role === r)).map((r) => el('option', { value: r }, roleName(r))));
  const until = el('input', { type: 'date', 'aria-label': t('dates.giveUntil') });
  return el('div', { class: 'roles-edit' },
    el('ul', { 'data-testid': 'person-roles' },
      info.roles.map((r) => {
        const mine = r.via.kind === 'user' && own().some((x) => named(x) === r.role);
        // Their own entries say their dates; a department's or group's dated entry, its end.
        const when = mine ? ownDates(r.role) : (r.until ? t('dates.untilDay', { d: localDay(r.until) }) : '');
        return el('li', { 'data-role': r.role }, `${roleName(r.role)} · ${via(r.via)}${when ? ` · ${when}` : ''}`,
          mine && mayGive(r.role) ? take(r.role) : null);
      }),
      resting.map((x) => el('li', { 'data-role': x.role, class: 'muted' }, `${roleName(x.role)} · ${t('dates.notNow')} · ${dates(x)}`,
        mayGive(x.role) ? take(x.role) : null))),
    el('div', { class: 'bar' }, el('label', {}, t('giveRole'), give), el('label', {}, t('dates.giveUntil'), until),
      el('button', { type: 'button', onclick: () => {
        if (!give.value) return;
        const entry = until.value ? { role: give.value, until: boundOf(until.value, 'until') } : give.value;
        edit((d) => {
          const e = userEntry(d, id);
          e.roles = [...(e.roles || []).filter((x) => named(x) !== give.value), entry];
        });
        rerender();
      } }, t('give'))));
}

/** The person's department and groups, changed in the draft's directory (published with it). */
function placeEditor(p, msg, rerender) {
  const people = () => structuredClone(state.draftPeople ?? state.people);
  const dept = el('select', { 'aria-label': t('department') },
    el('option', { value: '' }, '—'),
    Object.entries(state.draft.departments || {}).map(([d, v]) => el('option', { value: d, selected: d === p.department },
      labelText(v.label) ? `${labelText(v.label)} (${d})` : d)));
  const groups = el('input', { type: 'text', 'aria-label': t('groups'), value: (p.groups || []).join(', ') });
  const save = async () => {
    const list = people();
    const me = list.find((x) => x.id === p.id);
    if (!me) return;
    if (dept.value) me.department = dept.value; else delete me.department;
    const g = groups.value.split(/[,，;；]/).map((x) => x.trim()).filter(Boolean);
    if (g.length) me.groups = g; else delete me.groups;
    try {
      const r = await admin(`/v1/apps/${APP}/directory`, { method: 'PUT', body: list });
      note('people', t('directoryDrafted', { n: r.people }));
      lastUpload = r;
      await load();
      rerender();
    } catch (e) {
      say(msg, describe(e), 'error');
    }
  };
  return el('div', { class: 'bar place' },
    el('label', {}, t('department'), dept), el('label', {}, t('groups'), groups),
    el('button', { type: 'button', class: 'secondary', onclick: save }, t('saveToDraft')));
}

async function personPage(id, box) {
  const msg = messageBox();
  let info;
  try {
    info = await admin('/v1/drafts/person', { method: 'POST', body: { document: strip(state.draft), person: id } });
  } catch (e) {
    fill(box, msg);
    return say(msg, describe(e), 'error');
  }
  const p = info.person;
  const rerender = () => personPage(id, box);
  const pending = (state.draftPeople || []).find((x) => x.id === id);
  fill(box, 
    el('h3', { 'data-person': p.id }, personLabel(p)),
    msg,
    el('h4', {}, t('personPlace')),
    placeEditor(pending ?? p, msg, rerender),
    el('h4', {}, t('personRoles')),
    rolesEditor(id, info, rerender),
    el('h4', {}, t('access')),
    info.resources.map((r) => el('details', { class: 'access', 'data-resource': r.resource },
      el('summary', {}, resourceWord(r.resource), ': ', r.actions.filter((a) => a.allow).map((a) => a.label || a.action).join(t('listSep')) || '—'),
      el('div', { class: 'scroll' }, el('table', { 'aria-label': `${t('fieldsByMode')} ${r.resource}` },
        el('thead', {}, el('tr', {}, el('th', {}, ''), Object.keys(r.fields).map((m) => el('th', { scope: 'col' }, t(`mode.${m}`))))),
        el('tbody', {}, Object.keys(Object.values(r.fields)[0] || {}).map((f) => el('tr', {},
          el('th', { scope: 'row', title: f }, fieldName(r.resource, f)),
          Object.keys(r.fields).map((m) => el('td', { 'data-field': f, 'data-mode': m }, t(`state.${r.fields[m][f]}`)))))))),
      el('h5', {}, t('allowedActions')),
      el('ul', {}, r.actions.map((a) => el('li', { 'data-action': a.action, title: a.action }, `${a.label || a.action}: ${a.allow ? '✓' : '✗'} — ${reasonWords(a)}`,
        a.flow && el('small', { class: 'muted', style: 'display:block' }, a.flow)))))),
    // Personal grants, denies, limits and transfers are an unrestricted admin's.
    !state.me?.restricted && [
      el('h4', {}, t('personalGrants')),
      grantList({ get: () => userEntry(state.draft, id).grants ??= [], path: `assignments.users.${id}.grants` }),
      el('h4', {}, t('personalDenies')), deniesEditor(id),
      el('h4', {}, t('personalLimits')), limitsEditor(id),
      el('h4', {}, t('transfer')), transferEditor(id, msg)]);
}

/**
 * Access that ends by the end of this month (and what has ended and is still written), from
 * the draft's dated entries as the server lists them: to renew, hand over or clean up.
 */
function endingThisMonth() {
  const box = el('div', { class: 'ending', 'data-testid': 'ending' });
  (async () => {
    let r;
    try {
      r = await admin('/v1/drafts/dated', { method: 'POST', body: { document: strip(state.draft) } });
    } catch {
      return;
    }
    const now = new Date(r.now);
    const monthEnd = new Date(now.getFullYear(), now.getMonth() + 1, 1);
    const soon = r.entries.filter((e) => e.until && (e.ended || new Date(e.until) < monthEnd));
    if (!soon.length) return;
    const who = (e) => {
      if (e.holder_kind === 'user') {
        const p = state.people.find((x) => x.id === e.holder);
        return p ? personLabel(p) : e.holder;
      }
      const label = e.holder_kind === 'department' ? labelText(state.draft.departments?.[e.holder]?.label) : '';
      return t(`dates.holder.${e.holder_kind}`, { name: label || e.holder });
    };
    const what = (e) => (e.role ? roleName(e.role) : t(`dates.kind.${e.kind}`));
    fill(box, el('h3', {}, t('dates.endingThisMonth')),
      el('ul', {}, soon.map((e) => el('li', { 'data-path': e.path, class: e.ended ? 'muted' : '' },
        `${who(e)} · ${what(e)} · ${t(e.ended ? 'dates.endedDay' : 'dates.untilDay', { d: localDay(e.until) })} `,
        e.holder_kind === 'user' ? el('button', { type: 'button', class: 'link', onclick: () => { openPerson = e.holder; peopleOpen(e.holder); } }, t('dates.open')) : null))));
  })();
  return box;
}

/** The day a time falls on here (`2027-01-31`). */
function localDay(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Opens a person's page from elsewhere in the tab (set by the tab when drawn). */
let peopleOpen = () => {};

export function peopleTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'people-h' });
  const msg = messageBox();
  const page = el('div', { class: 'person' });
  const search = picker({ items: () => state.people.filter(mayAssign), label: personLabel, onPick: (p) => { openPerson = p.id; personPage(p.id, page); }, placeholder: t('search'), name: t('search') });
  const file = el('input', { type: 'file', accept: '.xlsx,.csv,text/csv', 'aria-label': t('directoryImport') });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    try {
      const headers = { authorization: `Bearer ${state.token}`, 'accept-language': lang === 'zh' ? 'zh-CN' : 'en' };
      const res = await fetch(`/v1/apps/${APP}/directory`, { method: 'PUT', headers, body: await f.arrayBuffer() });
      const r = await res.json();
      if (!res.ok) throw Object.assign(new Error(r.message), { code: r.code, data: r });
      note('people', t(r.applied ? 'directoryStored' : 'directoryDrafted', { n: r.people }));
      lastUpload = r.applied ? null : r;
      await load();
    } catch (e) {
      say(msg, describe(e), 'error');
    }
    file.value = '';
  });
  const left = takeNote('people');
  if (left) say(msg, left.text, left.kind);
  fill(box, 
    el('h2', { id: 'people-h' }, t('tab.people')),
    el('div', { class: 'bar' },
      el('label', {}, t('search'), search.box),
      el('label', { class: 'file' }, t('directoryImport'), file),
      el('button', { type: 'button', class: 'secondary', onclick: async () => {
        const res = await fetch(`/v1/apps/${APP}/directory`, { headers: { authorization: `Bearer ${state.token}`, accept: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } });
        download(`${APP}-people.xlsx`, await res.blob());
      } }, t('directoryExport'))),
    msg,
    lastUpload ? uploadReport(lastUpload) : null,
    endingThisMonth(),
    el('ul', { class: 'people' }, state.people.filter(mayAssign).slice(0, 50).map((p) => el('li', {}, el('button', { type: 'button', class: 'link', 'data-person': p.id, onclick: () => { openPerson = p.id; personPage(p.id, page); } }, personLabel(p))))),
    page);
  peopleOpen = (id) => personPage(id, page);
  if (openPerson) personPage(openPerson, page);
  return box;
}
