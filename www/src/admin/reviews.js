// Access review campaigns: open one (resources, and a reviewer for everything or one per
// department), follow its progress, close it (revocations become the draft), and the reports.

import { APP } from '../api.js';
import { describe, el, fill, messageBox, picker, say } from '../dom.js';
import { locale, t } from '../i18n.js';
import { admin, load, note, personLabel, save, state } from './state.js';

export function reviewsTab(go) {
  const box = el('section', { class: 'card', 'aria-labelledby': 'reviews-h' });
  const msg = messageBox();
  const list = el('ul', { class: 'campaigns' });
  const resources = Object.keys(state.currentDoc.resources || {});
  const chosen = new Set(resources);
  const reviewers = { person: null, departments: {} };
  const mode = el('select', { 'aria-label': t('reviewer') },
    el('option', { value: 'person' }, t('onePerson')), el('option', { value: 'departments' }, t('perDepartment')));
  const who = el('div', {});
  const pickPerson = (key) => picker({ items: () => state.people, label: personLabel, name: `${t('reviewer')} ${key}`, placeholder: t('search'),
    onPick: (p) => { if (key === '*all*') reviewers.person = p.id; else reviewers.departments[key] = p.id; } }).box;
  const renderWho = () => {
    const depts = [...new Set(state.people.map((p) => p.department).filter(Boolean))];
    fill(who, mode.value === 'person'
      ? el('label', {}, t('reviewer'), pickPerson('*all*'))
      : el('div', {}, [...depts, '*'].map((d) => el('label', {}, d === '*' ? t('rest') : d, pickPerson(d)))));
  };
  mode.addEventListener('change', renderWho);
  renderWho();
  const refresh = async () => {
    const r = await admin(`/v1/apps/${APP}/reviews`);
    fill(list, ...r.reviews.map((c) => el('li', { 'data-review': c.id },
      el('strong', {}, `#${c.id}`), ` v${c.version} · ${new Date(c.opened_at).toLocaleString(locale())} · `,
      t('progress', { decided: c.decided, lines: c.lines, revoked: c.revoked }),
      ' · ', el('a', { href: '#', onclick: (e) => { e.preventDefault(); openReport(c.id, 'html'); } }, `${t('report')} (HTML)`),
      ' · ', el('a', { href: '#', onclick: (e) => { e.preventDefault(); openReport(c.id, 'xlsx'); } }, 'XLSX'),
      c.closed_at ? el('span', { class: 'muted' }, ` · ${new Date(c.closed_at).toLocaleString(locale())}`) : el('button', { type: 'button', onclick: async () => {
        try {
          // The close writes the draft: save pending edits first, then replace only the
          // revision this page holds (412 stale_draft when another tab saved since).
          await save();
          const headers = { 'if-match': `"d${state.revision}"` };
          const out = await admin(`/v1/apps/${APP}/reviews/${c.id}/close`, { method: 'POST', headers });
          // Load the draft the close wrote before showing it: the publish tab reads it.
          await load();
          note('publish', t('closed', { n: out.outcome.revoked }));
          go('publish');
        } catch (e) { say(msg, describe(e), 'error'); }
      } }, t('close')))));
  };
  const openReport = async (id, kind) => {
    const res = await fetch(`/v1/apps/${APP}/reviews/${id}/report.${kind}`, { headers: { authorization: `Bearer ${state.token}` } });
    const blob = await res.blob();
    window.open(URL.createObjectURL(kind === 'html' ? new Blob([blob], { type: 'text/html' }) : blob), '_blank');
  };
  fill(box, 
    el('h2', { id: 'reviews-h' }, t('tab.reviews')),
    el('fieldset', {}, el('legend', {}, t('openReview')),
      el('div', { class: 'checks', role: 'group', 'aria-label': t('resource') }, resources.map((r) => el('label', {},
        el('input', { type: 'checkbox', checked: true, 'aria-label': `${t('resource')} ${r}`, onchange: (e) => (e.target.checked ? chosen.add(r) : chosen.delete(r)) }), r))),
      el('label', {}, t('reviewer'), mode), who,
      el('button', { type: 'button', onclick: async () => {
        const body = { resources: [...chosen], reviewers: mode.value === 'person' ? { person: reviewers.person } : { departments: reviewers.departments } };
        try {
          const r = await admin(`/v1/apps/${APP}/reviews`, { method: 'POST', body });
          say(msg, t('opened', { id: r.id, n: r.lines }));
          refresh();
        } catch (e) { say(msg, describe(e), 'error'); }
      } }, t('openReview'))),
    msg, el('h3', {}, t('reviews')), list);
  refresh().catch((e) => say(msg, describe(e), 'error'));
  return box;
}
