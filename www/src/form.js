// The demo form page: a CRM customer form and an inbound-order form rendered by
// react-jsonschema-form through fieldgate/rjsf, decisions from a signed, per-user bundle kept by
// BundleStore, live updates over server-sent events, and a queue of decision events for offline.
import { createElement as h, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import Form from '@rjsf/core';
import validator from '@rjsf/validator-ajv8';
import { BundleStore, DecisionLog } from 'fieldgate';
import { rjsfProps, submitData } from 'fieldgate/rjsf';
import { FieldgateProvider, useSession, Can } from 'fieldgate/react';
import { api, APP, SCHEMAS } from './api.js';

const MODES = ['view', 'create', 'edit'];
const ACTIONS = { customer: ['export', 'transfer', 'delete'], inbound_order: ['submit', 'approve', 'reject', 'delete'] };
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

async function fetchBundle(etagRef) {
  const headers = etagRef.current ? { 'if-none-match': etagRef.current } : {};
  const res = await fetch(`/v1/apps/${APP}/bundle?for=me`, { credentials: 'same-origin', headers });
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
      h('label', { htmlFor: id }, label, required ? ' *' : '', h('span', { className: 'state', 'data-state': why?.state }, why?.state)),
      why && h('button', { type: 'button', className: 'why', 'aria-expanded': open, 'aria-label': `Why is ${label} ${why.state}?`, onClick: () => setOpen(!open) }, 'why?')),
    children,
    open && why && h('div', { className: 'explain', role: 'note' }, why.text),
    rawErrors && rawErrors.length ? h('div', { className: 'error' }, rawErrors.join(', ')) : null);
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
  const props = useMemo(
    () => rjsfProps(session, { resource, mode, record: input, schema: SCHEMAS[resource] }),
    [session, resource, mode, input],
  );
  const explanation = useMemo(() => session.explain(action, resource, input), [session, action, resource, input]);
  const [data, setData] = useState(props.formData);
  useEffect(() => setData(props.formData), [props]);
  const explainField = (name) => {
    const f = explanation.fields.find((x) => x.name === name);
    if (!f) return null;
    const text = f.capped_by
      ? `${f.state}: granted ${f.granted}, capped by ${f.capped_by}`
      : f.set_by ? `${f.state}: set by ${f.set_by}` : `${f.state}: no grant gives this field (${explanation.reason})`;
    return { state: f.state, text };
  };
  const submit = async ({ formData }) => {
    setError(null);
    const body = submitData(formData, session, { resource, mode, record: input });
    try {
      const saved = mode === 'create'
        ? await api(`/v1/data/${resource}`, { method: 'POST', body })
        : await api(`/v1/data/${resource}/${encodeURIComponent(record.id)}`, { method: 'PUT', body });
      onSaved(saved);
    } catch (e) {
      setError(`${e.code || 'error'}: ${e.message}`);
    }
  };
  return h('div', { className: 'card', 'data-testid': 'form' },
    h('h2', null, `${SCHEMAS[resource].title} · ${mode}`, record && mode !== 'create' ? ` · ${record.id}` : ''),
    !allowed && h('p', { className: 'error', role: 'alert', 'data-testid': 'not-allowed' }, `You may not ${action} this ${resource}.`),
    h(Form, {
      schema: { ...SCHEMAS[resource], title: undefined },
      validator, uiSchema: { ...props.uiSchema, 'ui:submitButtonOptions': { norender: mode === 'view' || !allowed, submitText: 'Save' } },
      formData: data, onChange: (e) => setData(e.formData), onSubmit: submit,
      templates: { FieldTemplate }, formContext: { explainField }, noHtml5Validate: true,
      readonly: mode === 'view' || !allowed,
    }),
    mode !== 'create' && record && h('div', { className: 'actions' },
      ACTIONS[resource].map((a) => h(Can, { key: a, action: a, resource, record, fallback: h('button', { disabled: true, title: `not allowed: ${a}`, 'data-action': a }, a) },
        h('button', { className: 'secondary', 'data-action': a, onClick: () => session.can(a, resource, record) }, a)))),
    h('p', { className: 'muted', 'data-testid': 'eval-time' }, `fields(): ${perEval.toFixed(1)} µs per evaluation`));
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
  useEffect(() => engine.onUpdate(() => setTick((t) => t + 1)), [engine]);
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
    const onRefused = (e) => setError(`Bundle refused (${e.detail.code}): ${e.detail.message}. Still using version ${engine.version}.`);
    window.addEventListener('fieldgate:refused', onRefused);
    return () => window.removeEventListener('fieldgate:refused', onRefused);
  }, [engine]);
  return h('div', { 'data-testid': 'workspace', 'data-user': user.id },
    h('div', { className: 'bar' },
      h('label', null, 'User', h('select', { value: user.id, onChange: (e) => onUser(e.target.value), 'aria-label': 'User' },
        users.map((u) => h('option', { key: u.id, value: u.id }, `${u.name} — ${u.title}`)))),
      h('label', null, 'Form', h('select', { value: resource, onChange: (e) => setResource(e.target.value), 'aria-label': 'Form' },
        h('option', { value: 'customer' }, 'CRM customer'), h('option', { value: 'inbound_order' }, 'Inbound order'))),
      h('label', null, 'Mode', h('select', { value: mode, onChange: (e) => setMode(e.target.value), 'aria-label': 'Mode' },
        MODES.map((m) => h('option', { key: m, value: m }, m))))),
    error && h('div', { className: 'error', role: 'alert', 'data-testid': 'error' }, error),
    notice && h('div', { className: 'notice', role: 'status' }, notice),
    h('div', { className: 'grid' },
      h('div', { className: 'card' },
        h('h2', null, 'Records in your scope'),
        h('ul', { className: 'records', 'data-testid': 'records', 'aria-label': 'Records' },
          records.map((r) => h('li', { key: r.id },
            h('button', { 'aria-pressed': selected?.id === r.id, 'data-id': r.id, onClick: () => setSelected(r) },
              h('strong', null, r.name || r.order_no || r.id), ' ',
              h('span', { className: 'muted' }, [r.owner_id || r.created_by, r.status].filter(Boolean).join(' · ')))))),
        records.length === 0 && h('p', { className: 'muted' }, 'Nothing in your scope.')),
      selected || mode === 'create'
        ? h(RecordForm, { key: `${resource}:${mode}:${selected?.id}:${engine.version}`, resource, mode, record: selected, setError,
          onSaved: (saved) => { setNotice(`Saved ${saved.id}.`); load(); } })
        : h('div', { className: 'card muted' }, 'Pick a record.')),
    h('div', { className: 'status', 'data-testid': 'bundle-status' },
      h('span', { 'data-testid': 'version' }, `policy v${engine.version}`),
      h('span', null, `key ${engine.keyId}`),
      h('span', null, `expires ${fmtTime(engine.expiresAt)}`),
      h('span', null, `bundle for ${engine.subject ?? 'everyone'}`),
      h('span', { 'data-testid': 'store-status' }, `status ${store.status}`)));
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
      s.onChange(() => setTick((t) => t + 1));
      const log = new DecisionLog({ app: APP, user: me.id });
      engine.onDecision((ev) => { log.append(ev); });
      const flush = () => navigator.onLine && log.flush((entries) => api('/v1/decisions', { method: 'POST', body: { events: entries } })).catch(() => {});
      window.addEventListener('online', flush);
      unhook.current = () => { s.close(); window.removeEventListener('online', flush); };
      window.__fieldgateFlush = flush;
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
        const [config, list] = await Promise.all([api('/v1/config'), api('/v1/users')]);
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
  if (!store || !user) return h('p', { className: 'muted' }, 'Loading…');
  return h(FieldgateProvider, { engine: store.engine, subject: user.department ? { id: user.id, department: user.department, groups: user.groups } : { id: user.id } },
    h(Workspace, { key: user.id, store, user, users, onUser: (id) => { setStore(null); login(id, window.__fieldgateConfig); } }));
}

function network() {
  const el = document.getElementById('net');
  el.textContent = navigator.onLine ? '' : 'offline';
  el.className = navigator.onLine ? 'badge' : 'badge offline';
}
window.addEventListener('online', network);
window.addEventListener('offline', network);
network();
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
createRoot(document.getElementById('app')).render(h(App));
