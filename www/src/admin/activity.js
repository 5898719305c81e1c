// The activity view: the admin audit log, alerts (live, over the admin event stream), the data
// access log with search and export, and when each resource was last reviewed.

import { APP } from '../api.js';
import { download, el, fill } from '../dom.js';
import { locale, t } from '../i18n.js';
import { admin, state } from './state.js';

const when = (ms) => (ms ? new Date(ms).toLocaleString(locale()) : t('never'));

/** A word of the logs in the page's language (`outcome.forbidden`), else the word itself. */
const words = (group, w) => {
  const text = t(`${group}.${w}`);
  return text === `${group}.${w}` ? w : text;
};

/** A person's name from the directory, with their id; the id alone for anyone else. */
const nameOf = (id) => {
  const p = state.people.find((x) => x.id === id);
  return p?.name ? `${p.name} (${id})` : id;
};

/** The id a search box means: a person's id, or the one person whose name holds the text. */
const personId = (text) => {
  const q = text.trim();
  if (!q || state.people.some((p) => p.id === q)) return q;
  const named = state.people.filter((p) => (p.name || '').toLowerCase().includes(q.toLowerCase()));
  return named.length === 1 ? named[0].id : q;
};

function alertLine(a) {
  const last = a.detail?.last || {};
  return el('li', { class: 'alert', 'data-user': a.user }, `${when(a.at)} · `,
    t('alertText', { user: a.user, n: a.detail?.refusals, min: Math.round((a.detail?.window_ms || 0) / 60000), action: last.action, resource: last.resource }));
}

/** Shows the stored alerts and those the stream brought (an alert raised while the stream was
 * connecting is stored, so the list is read again on each (re)connection), newest first. */
async function showAlerts(list, live) {
  const { alerts } = await admin('/v1/audit/alerts');
  const seen = new Set(alerts.map((a) => `${a.at}:${a.user}`));
  const all = [...alerts, ...live.filter((a) => !seen.has(`${a.at}:${a.user}`))].sort((a, b) => b.at - a.at);
  fill(list, ...(all.length ? all.map(alertLine) : [el('li', { class: 'empty muted' }, t('noAlerts'))]));
}

/** Listens for alerts on the admin event stream while `list` is on the page; returns a function
 * that stops. A ticket works once (an EventSource cannot send the token), so when the stream
 * drops, the browser's own retry would be refused: it reconnects with a new ticket instead,
 * waiting longer after each failure. */
function listen(list) {
  const live = [];
  const show = () => showAlerts(list, live).catch(() => {});
  let es = null;
  let timer = 0;
  let wait = 1000;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    es?.close();
  };
  const retry = () => {
    es?.close();
    if (stopped || !list.isConnected) return stop();
    timer = setTimeout(connect, wait);
    wait = Math.min(wait * 2, 30000);
  };
  const connect = async () => {
    try {
      const { ticket } = await admin('/v1/admin/events-ticket', { method: 'POST' });
      if (stopped) return;
      es = new EventSource(`/v1/events?ticket=${ticket}`);
      es.addEventListener('open', () => { wait = 1000; show(); });
      es.addEventListener('alert', (e) => {
        live.push(JSON.parse(e.data).alert);
        show();
      });
      es.addEventListener('error', retry);
    } catch {
      retry();
    }
  };
  connect();
  return stop;
}

let stopListening = () => {};

export function activityTab() {
  const audit = el('ul', { class: 'log', 'data-testid': 'audit' });
  const alerts = el('ul', { class: 'log', 'data-testid': 'alerts', 'aria-live': 'polite' });
  const access = el('tbody', {});
  const coverage = el('ul', { 'data-testid': 'coverage' });
  const user = el('input', { type: 'search', 'aria-label': `${t('accessLog')}: ${t('user')}`, placeholder: t('nameOrId') });
  const resource = el('input', { type: 'search', 'aria-label': `${t('accessLog')}: ${t('resource')}`, placeholder: 'customer' });
  const actor = el('input', { type: 'search', 'aria-label': `${t('activity')}: ${t('user')}`, placeholder: t('nameOrId') });
  const query = () => new URLSearchParams(Object.entries({ user: personId(user.value), resource: resource.value.trim() }).filter(([, v]) => v)).toString();
  const search = async () => {
    const r = await admin(`/v1/audit/access?limit=200&${query()}`);
    fill(access, ...r.entries.map((e) => el('tr', { class: e.refused ? 'refused' : '' },
      el('td', {}, when(e.at)), el('td', {}, nameOf(e.user)), el('td', {}, e.action), el('td', {}, e.resource),
      el('td', {}, e.count > e.records.length ? `${e.records.slice(0, 3).join(' ')} … (${e.count})` : e.records.join(' ')),
      el('td', {}, e.unmasked.join(' ')), el('td', {}, words('outcome', e.outcome)), el('td', {}, words('source', e.source)))));
  };
  const showAudit = async () => {
    const who = personId(actor.value);
    const a = await admin(`/v1/audit?limit=100${who ? `&actor=${encodeURIComponent(who)}` : ''}`);
    fill(audit, ...a.entries.map((e) => el('li', { 'data-kind': e.kind },
      `${when(e.at)} · ${nameOf(e.actor)} · ${words('kind', e.kind)}`, e.detail?.version ? ` · v${e.detail.version}` : '',
      el('span', { class: 'muted' }, ` · ${e.endpoint}`))));
  };
  (async () => {
    await showAudit();
    await showAlerts(alerts, []);
    const rv = await admin(`/v1/apps/${APP}/reviews`);
    fill(coverage, ...rv.coverage.map((c) => el('li', { class: c.overdue ? 'overdue' : '', 'data-resource': c.resource },
      `${c.resource}: ${when(c.last_reviewed_at)}`, c.overdue ? ` · ${t('overdue')}` : '')));
    await search();
    stopListening();
    stopListening = listen(alerts);
  })().catch(() => {});
  return el('div', {},
    el('section', { class: 'card', 'aria-labelledby': 'alerts-h' }, el('h2', { id: 'alerts-h' }, t('alerts')), alerts),
    el('section', { class: 'card', 'aria-labelledby': 'coverage-h' }, el('h2', { id: 'coverage-h' }, t('coverage')), coverage),
    el('section', { class: 'card', 'aria-labelledby': 'access-h' }, el('h2', { id: 'access-h' }, t('accessLog')),
      el('div', { class: 'bar' }, user, resource,
        el('button', { type: 'button', onclick: search }, t('searchLog')),
        el('button', { type: 'button', class: 'secondary', onclick: async () => {
          const res = await fetch(`/v1/audit/access?format=xlsx&limit=100000&${query()}`, { headers: { authorization: `Bearer ${state.token}`, 'accept-language': locale() } });
          download('access-log.xlsx', await res.blob());
        } }, t('exportLog'))),
      el('div', { class: 'scroll' }, el('table', { 'aria-label': t('accessLog') },
        el('thead', {}, el('tr', {}, ['at', 'user', 'action', 'resource', 'records', 'unmasked', 'outcome', 'source'].map((h) => el('th', { scope: 'col' }, t(`col.${h}`))))),
        access))),
    el('section', { class: 'card', 'aria-labelledby': 'activity-h' }, el('h2', { id: 'activity-h' }, t('activity')),
      el('div', { class: 'bar' }, actor, el('button', { type: 'button', onclick: showAudit }, t('filterLog'))),
      audit));
}
