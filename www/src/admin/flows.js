// Approval flows (审批流程), one form at a time: its states, the transitions between them, the
// steps each transition waits for and who signs each, and the separation rules. Everything is
// an edit of the draft's `resources.<form>.workflow`; who may sign a step is the engine's answer
// (the server's matrix of the draft), and each edit is checked by the engine and lint as it
// lands, so the admin sees "nobody can sign this step" next to the step.

import { describe, el, fill, messageBox, say } from '../dom.js';
import { t } from '../i18n.js';
import { conditionEditor, resources } from './grants.js';
import { actionWord, admin, check, edit, labelText, personLabel, replace, state, strip, warningWords } from './state.js';

let resource = null;

/** A state, transition or step id: what the engine accepts (letters, digits, `_`, `-`). */
const validId = (n) => /^[A-Za-z0-9_-]{1,64}$/.test(n);

/** Scopes a signer may take, as a signer reads them (本人及下属: a manager signs for reports). */
const SIGN_SCOPES = ['all', 'subordinates', 'department', 'department_tree', 'own'];

/** The flow a new one starts as: draft → pending → approved or rejected, one approval step. */
function starter(field) {
  const l = (zh, en) => ({ 'zh-CN': zh, en });
  return {
    label: l('审批流程', 'Approval'),
    field,
    initial: 'draft',
    states: {
      draft: { label: l('草稿', 'Draft') },
      pending: { label: l('审批中', 'Pending') },
      approved: { label: l('已审批', 'Approved'), final: true },
      rejected: { label: l('已驳回', 'Rejected') },
    },
    transitions: {
      submit: { label: l('提交', 'Submit'), from: ['draft', 'rejected'], to: 'pending' },
      approve: { label: l('审批', 'Approve'), from: ['pending'], to: 'approved', steps: [{ id: 'manager', label: l('部门主管审批', 'Manager approval') }] },
      reject: { label: l('驳回', 'Reject'), from: ['pending'], to: 'rejected', comment: 'required' },
    },
    distinct: [['submit', 'approve'], ['submit', 'reject']],
  };
}

/** Takes `action` out of every grant, deny and rule on `res` (a removed step's signing action
 * would otherwise name an action that no longer exists); a grant left with no action and no
 * field states goes. */
function dropAction(doc, res, action) {
  const clean = (list) => (Array.isArray(list)
    ? list.flatMap((g) => {
      if ((g.resource !== res && g.resource !== '*') || !Array.isArray(g.actions) || !g.actions.includes(action)) return [g];
      const actions = g.actions.filter((a) => a !== action);
      return actions.length || g.fields ? [{ ...g, actions }] : [];
    })
    : list);
  for (const r of Object.values(doc.roles || {})) r.grants = clean(r.grants);
  for (const [k, list] of Object.entries(doc.templates || {})) doc.templates[k] = clean(list);
  for (const u of Object.values(doc.assignments?.users || {})) {
    u.grants = clean(u.grants);
    u.denies = clean(u.denies);
  }
  if (Array.isArray(doc.rules)) doc.rules = clean(doc.rules);
}

/** An input for a label's text in `lang` (`zh-CN` or `en`): every word exists in both. */
function labelInput(get, path, lang, word) {
  const l = get().label;
  const value = typeof l === 'string' ? (lang === 'zh-CN' ? l : '') : l?.[lang] || '';
  return el('input', {
    type: 'text', value, 'aria-label': `${word} ${path}`,
    onchange: (e) => edit(() => {
      const x = get();
      const next = typeof x.label === 'string' ? { 'zh-CN': x.label } : { ...(x.label || {}) };
      if (e.target.value.trim()) next[lang] = e.target.value.trim(); else delete next[lang];
      if (Object.keys(next).length) x.label = next; else delete x.label;
    }),
  });
}

/** Both labelled label inputs. */
const labelInputs = (get, path) => [['zh-CN', t('labelZh')], ['en', t('labelEn')]]
  .map(([lang, word]) => el('label', {}, word, labelInput(get, path, lang, word)));

/** A state, transition or step in the page's language: its label, else its id. */
const named = (x, id) => labelText(x?.label) || id;

export function flowsTab() {
  const box = el('section', { class: 'card', 'aria-labelledby': 'flows-h' });
  const msg = messageBox();
  const checks = el('div', { 'data-testid': 'flow-checks' });
  /** The boxes where a new name is typed, kept across renders (a check landing while the
   * admin types draws the tab again and must not wipe what they typed). */
  const boxes = new Map();
  const typed = (keys, attrs) => keys.map((k, i) => {
    if (!boxes.has(k)) boxes.set(k, el('input', { type: 'text', size: 12, ...attrs[i] }));
    return boxes.get(k);
  });
  /** The id typed in `idBox` with its Chinese label (`{id, label?}`), the boxes emptied; null
   * (and the page says why) when it is not a valid id or `taken(id)`. */
  const takeNew = (idBox, zhBox, taken) => {
    const id = idBox.value.trim();
    if (!validId(id) || taken(id)) {
      say(msg, t('badFlowId', { n: id || '—' }), 'error');
      return null;
    }
    const zh = zhBox.value.trim();
    idBox.value = '';
    zhBox.value = '';
    return { id, ...(zh ? { label: { 'zh-CN': zh } } : {}) };
  };
  /** The engine's matrix of the draft for this form (who may sign what), with people. */
  let matrix = null;
  const res = () => state.draft.resources[resource];
  const flow = () => res().workflow;

  /** The signer lists on the page: each drawn again when a check brings a new matrix. */
  const lists = new Set();
  let checking = 0;
  /** Runs the draft through the engine and lint: this flow's mistakes and warnings, and who
   * may sign each step. Only the newest check's answer is shown, and only the parts it
   * concerns are drawn again (the admin may be typing elsewhere in the tab). */
  const recheck = async () => {
    const mine = ++checking;
    const at = `resources.${resource}.workflow`;
    let shown;
    try {
      const r = await check();
      const m = await admin('/v1/drafts/matrix/export?format=json', { method: 'POST', body: { document: strip(state.draft), resource, people: true } });
      if (mine !== checking) return;
      matrix = m;
      const warnings = (r.lint || []).filter((w) => w.path.startsWith(at));
      shown = warnings.length
        ? el('div', { class: 'msg error', role: 'alert' }, el('p', {}, t('flowWarnings')),
          el('ul', {}, warnings.map((w) => el('li', { 'data-code': w.code, title: w.message }, warningWords(w)))))
        : el('p', { class: 'msg notice' }, t('flowOk'));
    } catch (e) {
      if (mine !== checking) return;
      const errors = e.data?.errors || [];
      shown = el('div', { class: 'msg error', role: 'alert' }, el('p', {}, describe(e)),
        el('ul', {}, errors.map((x) => el('li', {}, el('code', {}, x.path), ` ${x.message}`))));
    }
    fill(checks, shown);
    for (const draw of lists) draw();
  };

  /** Changes the flow, draws the tab again and has the engine look at it. */
  const change = (f) => {
    edit(f);
    render();
    recheck();
  };

  /** Who signs step `action` (`approve:manager`): role and person rows the engine gives it. */
  const signers = (action) => {
    if (!matrix) return [];
    const i = matrix.actions.findIndex((a) => a.name === action);
    return i < 0 ? [] : matrix.rows.filter((r) => r.actions[i].value).map((r) => ({ row: r, cell: r.actions[i] }));
  };

  /** A role's cells changed through the matrix edit (the engine's own way to change a cell). */
  const setCells = async (role, cells) => {
    try {
      const edits = cells.map(([action, value]) => ({ role, column: `action:${action}`, value }));
      const r = await admin('/v1/drafts/matrix/edit', { method: 'POST', body: { document: strip(state.draft), resource, edits } });
      // The whole console draws again from the new draft (this tab too, checked anew).
      replace(r.document);
    } catch (e) {
      say(msg, describe(e), 'error');
    }
  };

  const signerList = (tn, step) => {
    const action = `${tn}:${step.id}`;
    const path = `${tn}.${step.id}`;
    const kind = el('select', { 'aria-label': `${t('signerKind')} ${path}` },
      el('option', { value: 'role' }, t('role')), el('option', { value: 'person' }, t('person')));
    const roleSel = el('select', { 'aria-label': `${t('role')} ${path}` },
      Object.keys(state.draft.roles || {}).map((r) => el('option', { value: r }, named(state.draft.roles[r], r))));
    const personSel = el('select', { 'aria-label': `${t('person')} ${path}`, hidden: true },
      state.people.map((p) => el('option', { value: p.id }, personLabel(p))));
    kind.addEventListener('change', () => { roleSel.hidden = kind.value !== 'role'; personSel.hidden = kind.value !== 'person'; });
    const scope = el('select', { 'aria-label': `${t('signScope')} ${path}` },
      SIGN_SCOPES.map((s) => el('option', { value: s }, t(`signScope.${s}`))));
    const add = async () => {
      if (kind.value === 'role') {
        const row = matrix?.rows.find((r) => r.kind === 'role' && r.name === roleSel.value);
        const ti = matrix?.actions.findIndex((a) => a.name === tn) ?? -1;
        // Signing needs the transition's own action too: given with the same scope when the
        // role does not hold it yet.
        const cells = [[action, scope.value]];
        if (!row || ti < 0 || !row.actions[ti].value) cells.push([tn, scope.value]);
        return setCells(roleSel.value, cells);
      }
      const id = personSel.value;
      if (!id) return;
      change((d) => {
        d.assignments ??= {};
        d.assignments.users ??= {};
        const u = (d.assignments.users[id] ??= { roles: [] });
        (u.grants ??= []).push({ resource, actions: [tn, action], ...(scope.value === 'all' ? {} : { scope: scope.value }) });
      });
    };
    const remove = ({ row }) => (row.kind === 'role'
      ? setCells(row.name, [[action, '']])
      : change((d) => dropAction({ assignments: { users: { [row.name]: d.assignments?.users?.[row.name] || {} } } }, resource, action)));
    const list = el('div', {});
    const draw = () => {
      const who = signers(action);
      fill(list, who.length
        ? el('ul', {}, who.map((w) => {
          const personal = w.row.kind === 'person' && (w.cell.notes || []).some((n) => n.kind === 'personal');
          const removable = (w.row.kind === 'role' && w.cell.editable) || personal;
          const whoText = w.row.kind === 'role' ? `${t('role')}: ${w.row.label ? `${w.row.label} (${w.row.name})` : w.row.name}` : `${t('person')}: ${w.row.label || w.row.name}`;
          return el('li', { 'data-signer': `${w.row.kind}:${w.row.name}` }, `${whoText} · ${t(`signScope.${w.cell.value}`)}`,
            removable ? el('button', { type: 'button', class: 'link', 'aria-label': `${t('remove')} ${w.row.name} ${path}`, onclick: () => remove(w) }, t('remove')) : null);
        }))
        : el('p', { class: 'muted' }, t('nobodySigns')));
    };
    draw();
    lists.add(draw);
    return el('div', { class: 'signers', 'data-step': path },
      el('h5', {}, t('signers')),
      list,
      el('div', { class: 'bar' }, kind, roleSel, personSel, scope, el('button', { type: 'button', class: 'secondary', onclick: add }, t('addSigner'))));
  };

  const stepEditor = (tn, i) => {
    const step = () => flow().transitions[tn].steps[i];
    const path = `resources.${resource}.workflow.transitions.${tn}.steps[${i}]`;
    const steps = () => flow().transitions[tn].steps;
    const move = (by) => change(() => { const s = steps(); const [x] = s.splice(i, 1); s.splice(i + by, 0, x); });
    return el('li', { class: 'step', 'data-step-id': step().id },
      el('div', { class: 'bar' },
        el('strong', {}, t('stepN', { n: i + 1 }), ' ', named(step(), step().id), ` (${tn}:${step().id})`),
        ...labelInputs(step, path),
        i > 0 ? el('button', { type: 'button', class: 'secondary', 'aria-label': `${t('moveUp')} ${path}`, onclick: () => move(-1) }, '↑') : null,
        i < steps().length - 1 ? el('button', { type: 'button', class: 'secondary', 'aria-label': `${t('moveDown')} ${path}`, onclick: () => move(1) }, '↓') : null,
        el('button', { type: 'button', class: 'danger', 'aria-label': `${t('delete')} ${path}`, onclick: () => change((d) => {
          const id = step().id;
          steps().splice(i, 1);
          if (!steps().length) delete flow().transitions[tn].steps;
          dropAction(d, resource, `${tn}:${id}`);
          dropDistinct(flow(), `${tn}:${id}`);
        }) }, t('delete'))),
      conditionEditor({ get: step, key: 'when', resource: () => resource, path, label: t('stepWhen') }),
      signerList(tn, step()));
  };

  const transitionEditor = (tn) => {
    const tr = () => flow().transitions[tn];
    const path = `resources.${resource}.workflow.transitions.${tn}`;
    const states = Object.keys(flow().states || {});
    const [stepId, stepZh] = typed([`step ${path}`, `stepZh ${path}`], [
      { 'aria-label': `${t('newStep')} ${path}`, placeholder: 'finance' }, { 'aria-label': `${t('newStep')} ${t('labelZh')} ${path}` }]);
    return el('fieldset', { class: 'transition', 'data-transition': tn },
      el('legend', {}, `${named(tr(), tn)} (${tn})`),
      el('div', { class: 'bar' },
        ...labelInputs(tr, path),
        el('label', {}, t('flowTo'), el('select', { 'aria-label': `${t('flowTo')} ${path}`, onchange: (e) => change(() => { tr().to = e.target.value; }) },
          states.map((s) => el('option', { value: s, selected: tr().to === s }, named(flow().states[s], s))))),
        el('label', {}, t('comment'), el('select', { 'aria-label': `${t('comment')} ${path}`, onchange: (e) => change(() => { if (e.target.value) tr().comment = e.target.value; else delete tr().comment; }) },
          ['', 'optional', 'required'].map((c) => el('option', { value: c, selected: (tr().comment || '') === c }, t(`comment.${c || 'none'}`))))),
        el('button', { type: 'button', class: 'danger', 'aria-label': `${t('delete')} ${path}`, onclick: () => change((d) => {
          // Its steps' signing actions go with it; its own action stays one of the form's.
          for (const s of tr().steps || []) {
            dropAction(d, resource, `${tn}:${s.id}`);
            dropDistinct(flow(), `${tn}:${s.id}`);
          }
          dropDistinct(flow(), tn);
          delete flow().transitions[tn];
        }) }, t('delete'))),
      el('div', { class: 'checks', role: 'group', 'aria-label': `${t('flowFrom')} ${path}` }, el('span', {}, t('flowFrom')),
        states.map((s) => el('label', {}, el('input', { type: 'checkbox', checked: (tr().from || []).includes(s), 'aria-label': `${t('flowFrom')} ${s} ${path}`,
          onchange: (e) => change(() => { const f = new Set(tr().from || []); if (e.target.checked) f.add(s); else f.delete(s); tr().from = states.filter((x) => f.has(x)); }) }), named(flow().states[s], s)))),
      el('h4', {}, t('steps')),
      (tr().steps || []).length ? el('ol', { class: 'steps' }, tr().steps.map((_, i) => stepEditor(tn, i))) : el('p', { class: 'muted' }, t('noSteps')),
      el('div', { class: 'bar' }, el('label', {}, t('newStep'), stepId), el('label', {}, t('labelZh'), stepZh),
        el('button', { type: 'button', class: 'secondary', onclick: () => {
          const x = takeNew(stepId, stepZh, (id) => (tr().steps || []).some((st) => st.id === id));
          if (x) change(() => (tr().steps ??= []).push(x));
        } }, t('addStep'))));
  };

  /** Separation rules: each a set of transitions and steps no one person may do two of. */
  const distinctEditor = () => {
    const groups = () => (Array.isArray(flow().distinct?.[0]) ? flow().distinct : flow().distinct?.length ? [flow().distinct] : []);
    const set = (list) => { if (list.length) flow().distinct = list; else delete flow().distinct; };
    const choices = Object.entries(flow().transitions || {}).flatMap(([tn, tr]) => [[tn, named(tr, tn)],
      ...(tr.steps || []).map((s) => [`${tn}:${s.id}`, `${named(tr, tn)}（${named(s, s.id)}）`])]);
    return el('div', { class: 'distinct' },
      el('h3', {}, t('separation')),
      el('p', { class: 'muted' }, t('separationHelp')),
      groups().map((g, gi) => el('div', { class: 'checks', role: 'group', 'aria-label': `${t('separation')} ${gi + 1}`, 'data-distinct': gi },
        choices.map(([a, w]) => el('label', {}, el('input', { type: 'checkbox', checked: g.includes(a), 'aria-label': `${t('separation')} ${gi + 1}: ${a}`,
          onchange: (e) => change(() => { const all = groups().map((x) => [...x]); const s = new Set(all[gi]); if (e.target.checked) s.add(a); else s.delete(a); all[gi] = choices.map(([c]) => c).filter((c) => s.has(c)); set(all.filter((x) => x.length)); }) }), w)),
        el('button', { type: 'button', class: 'link', onclick: () => change(() => set(groups().filter((_, i) => i !== gi))) }, t('delete')))),
      el('button', { type: 'button', class: 'secondary', onclick: () => change(() => set([...groups().map((x) => [...x]), choices.slice(0, 2).map(([c]) => c)])) }, t('addSeparation')));
  };

  const render = () => {
    lists.clear();
    resource = state.draft.resources?.[resource] ? resource : resources()[0]?.[0];
    const picker = el('label', {}, t('resource'), el('select', { 'aria-label': t('resource'), onchange: (e) => { resource = e.target.value; matrix = null; render(); recheck(); } },
      resources().map(([n, r]) => el('option', { value: n, selected: n === resource }, `${labelText(r.label) || n}${r.workflow ? ` · ${named(r.workflow, t('tab.flows'))}` : ''}`))));
    if (!resource) return fill(box, el('h2', { id: 'flows-h' }, t('tab.flows')), el('p', { class: 'muted' }, t('none')));
    const head = [el('h2', { id: 'flows-h' }, t('tab.flows')), el('p', { class: 'muted' }, t('flowsHelp')), el('div', { class: 'bar' }, picker), msg];
    if (!flow()) {
      const fields = Object.keys(res().fields || {});
      const field = el('select', { 'aria-label': t('flowField') }, fields.map((f) => el('option', { value: f, selected: f === 'status' }, labelText(res().fields[f]?.label) || f)));
      return fill(box, ...head, el('p', {}, t('noFlow')),
        el('div', { class: 'bar' }, el('label', {}, t('flowField'), field),
          el('button', { type: 'button', onclick: () => {
            if (!field.value) return say(msg, t('flowNeedsField'), 'error');
            change((d) => {
              const r = d.resources[resource];
              r.workflow = starter(field.value);
              r.actions = [...new Set([...(r.actions || []), ...Object.keys(r.workflow.transitions)])];
            });
          } }, t('createFlow'))));
    }
    const f = flow();
    const states = Object.keys(f.states || {});
    const [newState, newStateZh, newTr, newTrZh] = typed(['newState', 'newStateZh', 'newTr', 'newTrZh'], [
      { 'aria-label': t('newState'), placeholder: 'cancelled' }, { 'aria-label': `${t('newState')} ${t('labelZh')}` },
      { 'aria-label': t('newTransition'), placeholder: 'cancel' }, { 'aria-label': `${t('newTransition')} ${t('labelZh')}` }]);
    const at = `resources.${resource}.workflow`;
    fill(box, ...head, checks,
      el('div', { class: 'bar' },
        ...labelInputs(flow, at),
        el('label', {}, t('flowField'), el('select', { 'aria-label': t('flowField'), onchange: (e) => change(() => { flow().field = e.target.value; }) },
          Object.keys(res().fields || {}).map((x) => el('option', { value: x, selected: x === f.field }, labelText(res().fields[x]?.label) || x)))),
        el('label', {}, t('flowInitial'), el('select', { 'aria-label': t('flowInitial'), onchange: (e) => change(() => { flow().initial = e.target.value; }) },
          states.map((s) => el('option', { value: s, selected: s === f.initial }, named(f.states[s], s))))),
        el('button', { type: 'button', class: 'danger', onclick: () => change((d) => {
          for (const [tn, tr] of Object.entries(flow().transitions || {})) for (const s of tr.steps || []) dropAction(d, resource, `${tn}:${s.id}`);
          delete d.resources[resource].workflow;
        }) }, t('deleteFlow'))),
      el('h3', {}, t('states')),
      el('table', { class: 'states', 'aria-label': t('states') },
        el('thead', {}, el('tr', {}, [t('id'), t('labelZh'), t('labelEn'), t('finalState'), ''].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, states.map((s) => {
          const st = () => flow().states[s];
          const path = `${at}.states.${s}`;
          const used = s === f.initial || Object.values(f.transitions || {}).some((tr) => tr.to === s || (tr.from || []).includes(s));
          return el('tr', { 'data-state': s }, el('td', {}, s), el('td', {}, labelInput(st, path, 'zh-CN', t('labelZh'))), el('td', {}, labelInput(st, path, 'en', t('labelEn'))),
            el('td', {}, el('input', { type: 'checkbox', checked: Boolean(st().final), 'aria-label': `${t('finalState')} ${path}`, onchange: (e) => change(() => { if (e.target.checked) st().final = true; else delete st().final; }) })),
            el('td', {}, el('button', { type: 'button', class: 'danger', 'aria-label': `${t('delete')} ${path}`, onclick: () => (used ? say(msg, t('stateInUse', { s: named(st(), s) }), 'error') : change(() => { delete flow().states[s]; })) }, t('delete'))));
        }))),
      el('div', { class: 'bar' }, el('label', {}, t('newState'), newState), el('label', {}, t('labelZh'), newStateZh),
        el('button', { type: 'button', class: 'secondary', onclick: () => {
          const x = takeNew(newState, newStateZh, (id) => states.includes(id));
          if (x) change(() => { const { id, ...st } = x; flow().states[id] = st; });
        } }, t('addState'))),
      el('h3', {}, t('transitions')),
      Object.keys(f.transitions || {}).map(transitionEditor),
      el('div', { class: 'bar' }, el('label', {}, t('newTransition'), newTr), el('label', {}, t('labelZh'), newTrZh),
        el('button', { type: 'button', class: 'secondary', onclick: () => {
          const x = takeNew(newTr, newTrZh, (id) => ['view', 'create', 'edit'].includes(id) || Boolean(f.transitions?.[id]));
          if (x) change((d) => {
            const { id, ...tr } = x;
            const r = d.resources[resource];
            if (!(r.actions || []).includes(id)) r.actions = [...(r.actions || []), id];
            (r.workflow.transitions ??= {})[id] = { ...tr, from: [f.initial], to: f.initial };
          });
        } }, t('addTransition'))),
      distinctEditor(),
      el('p', { class: 'muted' }, t('flowActionsNote', { actions: Object.keys(f.transitions || {}).map(actionWord).join(t('listSep')) })));
  };
  render();
  recheck();
  return box;
}

/** Takes `action` out of the flow's separation rules (a rule left with one action goes). */
function dropDistinct(flow, action) {
  if (!flow?.distinct) return;
  const groups = Array.isArray(flow.distinct[0]) ? flow.distinct : [flow.distinct];
  const kept = groups.map((g) => g.filter((a) => a !== action)).filter((g) => g.length > 1);
  if (kept.length) flow.distinct = kept; else delete flow.distinct;
}
