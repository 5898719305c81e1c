// The demo form page: a CRM customer form and an inbound-order form rendered by
// react-jsonschema-form through fieldgate/rjsf, decisions from a signed, per-user bundle kept by
// BundleStore, live updates over server-sent events, the approval flow's buttons (shown only
// when allowed, logged as attempts), an export that respects permissions, the person's access
// review lines, and a queue of decision events that reaches the server on its own.
import { createElement as h, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import Form from '@rjsf/core';
import validator from '@rjsf/validator-ajv8';
import { BundleStore, DecisionLog, preload } from 'fieldgate';
import { rjsfProps, submitData } from 'fieldgate/rjsf';
import { FieldgateProvider, useSession, Can } from 'fieldgate/react';
import { api, APP, SCHEMAS } from './api.js';

// The engine's module downloads while the page logs in and fetches its bundle.
preload('/dist/fieldgate_wasm_bg.wasm');

/** Developer details (the key id, timings) only with `?debug` in the address. */
const DEBUG = new URLSearchParams(location.search).has('debug');

/** A schema with its titles in the page's language (a form builder keeps them per language). */
function localized(schema) {
  // A title by language is `{en, zh}`; a property named `title` (a contact's job title) is a
  // schema like any other.
  const texts = (x) => x && typeof x === 'object' && typeof x.en === 'string';
  const walk = (s) => {
    if (Array.isArray(s)) return s.map(walk);
    return s && typeof s === 'object'
      ? Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'title' && texts(v) ? v[lang] ?? v.en : walk(v)]))
      : s;
  };
  return walk(schema);
}

/** Where a grant or rule is written (its JSON path or id), in words. */
function whereWords(path) {
  let m = /^roles\.([^.]+)\.grants\[(\d+)\]$/.exec(path);
  if (m) return t('whereRole', { r: m[1] });
  m = /^templates\.([^[]+)\[(\d+)\]$/.exec(path);
  if (m) return t('whereTemplate', { r: m[1] });
  if (/^assignments\.users\.[^.]+\.grants/.test(path)) return t('wherePersonal');
  if (/^assignments\.users\.[^.]+\.limits/.test(path)) return t('wherePersonalLimit');
  return t('whereRule', { r: path });
}

/** A record's status in words. */
const statusWord = (s) => {
  const w = t(`status.${s}`);
  return w === `status.${s}` ? s : w;
};
import { lang, languageSwitch, locale, t } from './i18n.js';

const MODES = ['view', 'create', 'edit'];
/** The resources the demo shows. */
const RESOURCES = ['customer', 'contact', 'inbound_order', 'outbound_order'];
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(locale()) : '—');

async function fetchBundle(etagRef) {
  const headers = etagRef.current ? { 'if-none-match': etagRef.current } : {};
  const res = await fetch(`/v1/apps/${APP}/bundle?for=me`, { credentials: 'same-origin', headers: { ...headers, accept: 'application/octet-stream' } });
  if (res.status === 304) return null;
  if (!res.ok) throw new Error(`bundle: HTTP ${res.status}`);
  etagRef.current = res.headers.get('etag');
  return new Uint8Array(await res.arrayBuffer());
}

function FieldTemplate(props) {
  const { id, label, children, hidden, rawErrors, formContext, required } = props;
  const [open, setOpen] = useState(false);
  if (hidden) return h('div', { hidden: true }, children);
  const name = id.replace(/^root_/, '');
  const why = formContext.explainField(name);
  return h('div', { className: 'form-group', 'data-field': name },
    h('div', { className: 'field-head' },
      h('label', { htmlFor: id }, label, required ? ' *' : '', why && h('span', { className: 'state', 'data-state': why.state }, t(`state.${why.state}`))),
      why && h('button', { type: 'button', className: 'why', 'aria-expanded': open, 'aria-label': t('whyLabel', { label, state: t(`state.${why.state}`) }), onClick: () => setOpen(!open) }, t('why'))),
    children,
    open && why && h('div', { className: 'explain', role: 'note' }, why.text),
    rawErrors && rawErrors.length ? h('div', { className: 'error' }, rawErrors.join(', ')) : null);
}

/** A transition of the record's flow that this person may do now, as the engine answers
 * (`session.transitions`): for one with steps, signing the step it waits for. The app is about
 * to act, so the decision is logged as an attempt with the record's id. */
function StepButton({ flow, resource, record, onDone, setError }) {
  const session = useSession();
  const [comment, setComment] = useState('');
  const step = flow.transition;
  const label = t(`action.${step}`) + (flow.step ? ` · ${t(`step.${flow.step}`)}` : '');
  const run = async () => {
    setError(null);
    if (!session.attempt(step, resource, record)) return;
    try {
      const body = comment.trim() ? { comment: comment.trim() } : undefined;
      const r = await api(`/v1/data/${resource}/${encodeURIComponent(record.id)}/${step}`, { method: 'POST', body });
      onDone(r);
    } catch (e) {
      setError(`${e.code || 'error'}: ${e.message}`);
    }
  };
  const needs = flow.comment_required && !comment.trim();
  return h('span', { className: 'step' },
    h('input', { type: 'text', 'aria-label': `${t('comment')} (${label})`, value: comment, onChange: (e) => setComment(e.target.value),
      placeholder: flow.comment_required ? t('commentRequired') : t('comment') }),
    h('button', { type: 'button', 'data-action': step, disabled: needs, onClick: run }, label));
}

/** Where the record stands in its flow: each step of the transitions it may take now, signed
 * or waiting, as the engine answers. */
function FlowProgress({ flows }) {
  const steps = flows.flatMap((f) => f.steps.filter((s) => s.applies && f.reason !== 'wrong_status')
    .map((s) => ({ key: `${f.transition}:${s.step}`, s })));
  if (!steps.length) return null;
  return h('ol', { className: 'flow', 'data-testid': 'flow' },
    steps.map(({ key, s }) => h('li', { key, className: s.signed ? 'signed' : 'waiting' },
      `${t(`step.${s.step}`)}: ${s.signed ? t('stepSigned') : t('stepWaiting')}`)));
}

function RecordForm({ resource, mode, record, onSaved, setError }) {
  const session = useSession();
  const action = mode === 'create' ? 'create' : mode === 'edit' ? 'edit' : 'view';
  const input = mode === 'create' ? null : record;
  // Timed once per form (not on every keystroke's re-render): the mean of 200 evaluations.
  const perEval = useMemo(() => {
    const t0 = performance.now();
    const N = 200;
    for (let i = 0; i < N; i++) session.fields(resource, mode, input);
    return ((performance.now() - t0) / N) * 1000;
  }, [session, resource, mode, input]);
  const allowed = session.can(action, resource, input);
  // The record's flow: which transitions (and steps) this person may do now.
  const flows = useMemo(() => (mode !== 'create' && record ? session.transitions(resource, record) : []), [session, resource, mode, record]);
  const props = useMemo(
    () => rjsfProps(session, { resource, mode, record: input, schema: localized(SCHEMAS[resource]) }),
    [session, resource, mode, input],
  );
  const explanation = useMemo(() => session.explain(action, resource, input), [session, action, resource, input]);
  const [data, setData] = useState(props.formData);
  useEffect(() => setData(props.formData), [props]);
  const explainField = (name) => {
    const f = explanation.fields.find((x) => x.name === name);
    if (!f) return null;
    const state = t(`state.${f.state}`);
    const text = f.capped_by
      ? t('capped', { state, granted: t(`state.${f.granted}`), by: whereWords(f.capped_by) })
      : f.set_by ? t('setBy', { state, by: whereWords(f.set_by) }) : t('noGrant', { state, reason: t(`reasonShort.${explanation.reason}`) });
    return { state: f.state, text };
  };
  const submit = async ({ formData }) => {
    setError(null);
    if (!session.attempt(action, resource, input)) return;
    const body = submitData(formData, session, { resource, mode, record: input });
    try {
      const saved = mode === 'create'
        ? await api(`/v1/data/${resource}`, { method: 'POST', body })
        : await api(`/v1/data/${resource}/${encodeURIComponent(record.id)}`, { method: 'PUT', body });
      onSaved(t('saved', { id: saved.id }));
    } catch (e) {
      setError(`${e.code || 'error'}: ${e.message}`);
    }
  };
  return h('div', { className: 'card', 'data-testid': 'form' },
    h('h2', null, `${t(`res.${resource}`)} · ${t(`mode.${mode}`)}`, record && mode !== 'create' ? ` · ${record.id}` : ''),
    !allowed && h('p', { className: 'error', role: 'alert', 'data-testid': 'not-allowed' }, t('notAllowed', { action: t(`mode.${action}`), resource: t(`res.${resource}`) })),
    h(Form, {
      schema: { ...localized(SCHEMAS[resource]), title: undefined },
      validator, uiSchema: { ...props.uiSchema, 'ui:submitButtonOptions': { norender: mode === 'view' || !allowed, submitText: t('save') } },
      formData: data, onChange: (e) => setData(e.formData), onSubmit: submit,
      templates: { FieldTemplate }, formContext: { explainField }, noHtml5Validate: true,
      readonly: mode === 'view' || !allowed,
    }),
    mode !== 'create' && record && flows.length > 0 && h('div', { className: 'actions', 'data-testid': 'steps' },
      h(FlowProgress, { flows }),
      flows.filter((f) => f.allowed).map((flow) => h(StepButton, { key: flow.transition, flow, resource, record, setError,
        onDone: (r) => onSaved(t('moved', { id: r.id, status: statusWord(r.status) })) }))),
    mode !== 'create' && record && resource === 'customer' && h(Sharing, { resource, record, setError, onSaved }),
    DEBUG && h('p', { className: 'muted', 'data-testid': 'eval-time' }, t('evalTime', { us: perEval.toFixed(1) })));
}

/**
 * Who a record is shared with (协作人), and for whoever may `share` it (the engine decides, the
 * server checks again) a person picker searching colleagues by name, id or department.
 */
function Sharing({ resource, record, setError, onSaved }) {
  const session = useSession();
  const [members, setMembers] = useState(null);
  const [q, setQ] = useState('');
  const [found, setFound] = useState([]);
  const url = `/v1/data/${resource}/${encodeURIComponent(record.id)}/members`;
  useEffect(() => { api(url).then((r) => setMembers(r.members)).catch(() => setMembers([])); }, [url]);
  useEffect(() => {
    if (!q.trim()) { setFound([]); return undefined; }
    const timer = setTimeout(() => {
      api(`/v1/people?q=${encodeURIComponent(q.trim())}`).then((r) => setFound(r.people)).catch(() => setFound([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [q]);
  if (!members) return null;
  const may = session.can('share', resource, record);
  const save = async (ids) => {
    setError(null);
    if (!session.attempt('share', resource, record)) return;
    try {
      const r = await api(url, { method: 'PUT', body: { members: ids } });
      setMembers(r.members);
      setQ('');
      onSaved(t('shareSaved', { id: record.id, n: r.members.length }));
    } catch (e) {
      setError(`${e.code || 'error'}: ${e.message}`);
    }
  };
  const ids = members.map((m) => m.id);
  const who = (p) => `${p.name} (${p.id}${p.department ? ` · ${p.department}` : ''})`;
  return h('section', { className: 'sharing', 'data-testid': 'sharing', 'aria-label': t('sharedWith') },
    h('h3', null, t('sharedWith')),
    members.length === 0 && h('p', { className: 'muted' }, t('notShared')),
    h('ul', { className: 'members', 'data-testid': 'members' }, members.map((m) => h('li', { key: m.id, 'data-id': m.id }, who(m),
      may && h('button', { type: 'button', className: 'secondary', 'aria-label': t('unshareWho', { who: m.name }), onClick: () => save(ids.filter((x) => x !== m.id)) }, t('unshare'))))),
    may && h('div', { className: 'picker' },
      h('input', { type: 'search', value: q, onChange: (e) => setQ(e.target.value), placeholder: t('shareSearch'), 'aria-label': t('shareWith') }),
      found.length > 0 && h('ul', { className: 'picks', 'data-testid': 'people-found' },
        found.filter((p) => !ids.includes(p.id) && p.id !== session.subject.id).map((p) => h('li', { key: p.id },
          h('button', { type: 'button', 'data-id': p.id, onClick: () => save([...ids, p.id]) }, who(p)))))));
}

/** The logged-in person's lines in open access reviews: keep or revoke, with a note. */
function MyReviews({ user }) {
  const [campaigns, setCampaigns] = useState([]);
  const [msg, setMsg] = useState('');
  const [choice, setChoice] = useState({});
  useEffect(() => { api('/v1/reviews/mine').then((r) => setCampaigns(r.campaigns)).catch(() => {}); }, [user.id]);
  if (!campaigns.length) return null;
  const send = async (c) => {
    const decisions = c.lines.filter((l) => choice[`${c.review.id}:${l.n}`]?.decision)
      .map((l) => ({ n: l.n, ...choice[`${c.review.id}:${l.n}`] }));
    try {
      const r = await api(`/v1/apps/${c.review.app}/reviews/${c.review.id}/decisions`, { method: 'POST', body: { decisions } });
      setMsg(t('decided', { n: r.decided }));
    } catch (e) { setMsg(`${e.code || 'error'}: ${e.message}`); }
  };
  const set = (key, patch) => setChoice((c) => ({ ...c, [key]: { decision: '', note: '', ...c[key], ...patch } }));
  return h('section', { className: 'card', 'data-testid': 'my-reviews' },
    h('h2', null, t('myReviews')),
    campaigns.map((c) => h('div', { key: c.review.id },
      h('div', { className: 'scroll' }, h('table', { 'aria-label': `${t('myReviews')} #${c.review.id}` },
        h('tbody', null, c.lines.map((l) => {
          const key = `${c.review.id}:${l.n}`;
          const cur = choice[key]?.decision || l.decision;
          return h('tr', { key, 'data-line': l.n },
            h('td', null, `${l.line.name || l.line.person} (${l.line.person})`),
            h('td', null, `${l.line.words?.resource?.[locale()] ?? l.line.resource} · ${l.line.words?.item?.[locale()] ?? l.line.item}`,
              l.line.words?.flow && h('small', { className: 'muted', style: { display: 'block' } }, l.line.words.flow[locale()])),
            h('td', null, l.line.access),
            h('td', null, l.line.source),
            h('td', null, ['keep', 'revoke'].map((d) => h('label', { key: d },
              h('input', { type: 'radio', name: key, checked: cur === d, 'aria-label': `${t(d)} ${l.line.person} ${l.line.resource} ${l.line.item}`, onChange: () => set(key, { decision: d }) }), t(d)))),
            h('td', null, h('input', { type: 'text', 'aria-label': `${t('note')} ${l.line.person} ${l.line.resource} ${l.line.item}`, defaultValue: l.note, onChange: (e) => set(key, { note: e.target.value }) })));
        })))),
      h('button', { type: 'button', onClick: () => send(c) }, t('save')))),
    msg && h('p', { className: 'notice', role: 'status' }, msg));
}

function Workspace({ store, user, users, onUser }) {
  const engine = store.engine;
  const [resource, setResource] = useState('customer');
  const [mode, setMode] = useState('view');
  const [records, setRecords] = useState([]);
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [, setTick] = useState(0);
  useEffect(() => engine.onUpdate(() => setTick((x) => x + 1)), [engine]);
  // Only the newest load's answer is shown: a slow answer for the form picked before must not
  // overwrite the list of the one picked since.
  const loads = useRef(0);
  const load = async () => {
    const n = ++loads.current;
    try {
      const r = await api(`/v1/data/${resource}`);
      if (n !== loads.current) return;
      setRecords(r.records);
      setSelected((s) => r.records.find((x) => x.id === s?.id) ?? r.records[0] ?? null);
    } catch (e) { if (n === loads.current) setError(`${e.code || 'error'}: ${e.message}`); }
  };
  useEffect(() => { load(); }, [resource, user.id, engine.version]);
  useEffect(() => {
    const onRefused = (e) => setError(t('refused', { code: e.detail.code, message: e.detail.message, v: engine.version }));
    window.addEventListener('fieldgate:refused', onRefused);
    return () => window.removeEventListener('fieldgate:refused', onRefused);
  }, [engine]);
  return h('div', { 'data-testid': 'workspace', 'data-user': user.id },
    h('div', { className: 'bar' },
      h('label', null, t('user'), h('select', { value: user.id, onChange: (e) => onUser(e.target.value), 'aria-label': 'User' },
        users.map((u) => h('option', { key: u.id, value: u.id }, `${u.name} — ${u.title}`)))),
      h('label', null, t('form'), h('select', { value: resource, onChange: (e) => setResource(e.target.value), 'aria-label': 'Form' },
        RESOURCES.map((r) => h('option', { key: r, value: r }, t(`res.${r}`))))),
      h('label', null, t('mode'), h('select', { value: mode, onChange: (e) => setMode(e.target.value), 'aria-label': 'Mode' },
        MODES.map((m) => h('option', { key: m, value: m }, t(`mode.${m}`)))))),
    error && h('div', { className: 'error', role: 'alert', 'data-testid': 'error' }, error),
    notice && h('div', { className: 'notice', role: 'status' }, notice),
    h('div', { className: 'grid' },
      h('div', { className: 'card' },
        h('h2', null, t('records')),
        h(Can, { action: 'export', resource },
          h('div', { className: 'actions' },
            h('a', { className: 'button secondary', href: `/v1/data/${resource}/export?format=csv`, download: `${resource}.csv`, 'data-testid': 'export', title: t('exportHint') }, `${t('export')} CSV`),
            h('a', { className: 'button secondary', href: `/v1/data/${resource}/export?format=xlsx&labels=true`, download: `${resource}.xlsx`, title: t('exportHint') }, `${t('export')} XLSX`))),
        h('ul', { className: 'records', 'data-testid': 'records', 'aria-label': t('records') },
          records.map((r) => h('li', { key: r.id },
            h('button', { 'aria-pressed': selected?.id === r.id, 'data-id': r.id, onClick: () => setSelected(r) },
              h('strong', null, r.name || r.order_no || r.id), ' ',
              h('span', { className: 'muted' }, [r.customer?.name, r.owner_id || r.created_by, r.status && statusWord(r.status)].filter(Boolean).join(' · ')))))),
        records.length === 0 && h('p', { className: 'muted' }, t('nothing'))),
      selected || mode === 'create'
        ? h(RecordForm, { key: `${resource}:${mode}:${selected?.id}:${engine.version}:${selected?.status}`, resource, mode, record: selected, setError,
          // The list is read again before the notice shows: "approved" with the approve button
          // still there invites a second click.
          onSaved: async (text) => { await load(); setNotice(text); } })
        : h('div', { className: 'card muted' }, t('pick'))),
    h(MyReviews, { user }),
    h('div', { className: 'status', 'data-testid': 'bundle-status' },
      h('span', { 'data-testid': 'version' }, t('policyVersion', { v: engine.version })),
      DEBUG && h('span', null, t('key', { k: engine.keyId })),
      h('span', null, t('expires', { t: fmtTime(engine.expiresAt) })),
      DEBUG && h('span', null, t('bundleFor', { who: engine.subject ?? t('everyone') })),
      h('span', { 'data-testid': 'store-status' }, t('status', { s: t(`storeStatus.${store.status}`) }))));
}

function App() {
  const [users, setUsers] = useState([]);
  const [user, setUser] = useState(null);
  const [store, setStore] = useState(null);
  const [fatal, setFatal] = useState(null);
  const [, setTick] = useState(0);
  // What the logged-in user's session hooked up, undone when another user logs in.
  const unhook = useRef(() => {});
  const login = async (id, config) => {
    unhook.current();
    unhook.current = () => {};
    try {
      // Offline, the login cannot happen: the service worker answers /v1/me from its cache.
      const me = await api('/v1/login', { method: 'POST', body: { user: id } }).catch((e) => {
        if (e.status) throw e;
        return api('/v1/me');
      });
      localStorage.setItem('fieldgate-demo-user', me.id);
      api('/v1/me').catch(() => {}); // so the service worker has it for offline starts
      const etag = { current: null };
      const s = new BundleStore({ app: APP, user: me.id, trustedKeys: config.trusted_keys, wasm: '/dist/fieldgate_wasm_bg.wasm' });
      const fetcher = async () => {
        try { return await fetchBundle(etag); } catch (e) { if (!navigator.onLine) return null; throw e; }
      };
      const engine = await s.start(fetcher);
      if (!engine) throw new Error('no verified bundle (offline on first visit?)');
      window.__fieldgateRefresh = async () => {
        try { await s.refresh(fetcher); } catch (e) {
          window.dispatchEvent(new CustomEvent('fieldgate:refused', { detail: { code: e.code || 'error', message: e.message } }));
        }
      };
      s.onChange(() => setTick((x) => x + 1));
      // Attempts always reach the server; checks made to draw buttons only when refused.
      const log = new DecisionLog({ app: APP, user: me.id, checks: 'refused' });
      engine.onDecision((ev) => { log.append(ev); });
      const stop = log.start({ url: '/v1/decisions', intervalMs: 5000 });
      unhook.current = () => { s.close(); stop(); };
      window.__fieldgateFlush = () => log.flush((entries) => api('/v1/decisions', { method: 'POST', body: { events: entries } }));
      window.__fieldgateLog = log;
      setStore(s);
      setUser(me);
    } catch (e) {
      setFatal(`${e.code || 'error'}: ${e.message}`);
    }
  };
  useEffect(() => {
    (async () => {
      try {
        const [config, list] = await Promise.all([api('/v1/config'), api('/v1/demo/people')]);
        setUsers(list);
        window.__fieldgateConfig = config;
        await login(localStorage.getItem('fieldgate-demo-user') || list[0].id, config);
      } catch (e) { setFatal(`${e.code || 'error'}: ${e.message}`); }
    })();
    const events = new EventSource('/v1/events');
    const refresh = () => window.__fieldgateRefresh && window.__fieldgateRefresh();
    events.addEventListener('published', refresh);
    // A reconnect may have missed a publish; the ETag makes asking again cheap.
    events.addEventListener('open', refresh);
    return () => events.close();
  }, []);
  if (fatal) return h('div', { className: 'error', role: 'alert', 'data-testid': 'error' }, fatal);
  if (!store || !user) return h('p', { className: 'muted' }, t('loading'));
  // The bundle is made for this person and carries them as the server knows them (reporting
  // line included): the session is theirs, with no subject to restate.
  return h(FieldgateProvider, { engine: store.engine },
    h(Workspace, { key: user.id, store, user, users, onUser: (id) => { setStore(null); login(id, window.__fieldgateConfig); } }));
}

function network() {
  const el = document.getElementById('net');
  el.textContent = navigator.onLine ? '' : t('offline');
  el.className = navigator.onLine ? 'badge' : 'badge offline';
}
window.addEventListener('online', network);
window.addEventListener('offline', network);
network();
document.querySelector('header.top').append(languageSwitch());
document.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
createRoot(document.getElementById('app')).render(h(App));
