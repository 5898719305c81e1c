// The whole draft as JSON, for what the forms do not cover: checked by the engine before it is
// applied, every mistake with its JSON path.

import { el, fill, messageBox, say } from '../dom.js';
import { t } from '../i18n.js';
import { compile, note, replace, state, takeNote } from './state.js';

export function advancedTab() {
  const msg = messageBox();
  const left = takeNote('advanced');
  if (left) say(msg, left.text, left.kind);
  const errors = el('ul', { class: 'errors' });
  const area = el('textarea', { rows: 24, class: 'json', 'aria-label': t('tab.advanced'), spellcheck: 'false' }, JSON.stringify(state.draft, null, 2));
  return el('section', { class: 'card', 'aria-labelledby': 'advanced-h' },
    el('h2', { id: 'advanced-h' }, t('tab.advanced')),
    el('p', { class: 'muted' }, t('advancedHelp')),
    area,
    el('div', { class: 'actions' }, el('button', { type: 'button', onclick: async () => {
      let doc;
      try {
        doc = JSON.parse(area.value);
      } catch (e) {
        return say(msg, e.message, 'error');
      }
      const { error } = await compile(doc);
      if (error) {
        const list = error.errors || [{ path: error.path || '$', message: error.message }];
        say(msg, t('invalid', { n: list.length }), 'error');
        fill(errors, ...list.map((x) => el('li', {}, el('code', {}, x.path || '$'), ` ${x.code || ''}: ${x.message}`)));
        return;
      }
      note('advanced', t('applied'));
      replace(doc);
    } }, t('validate'))),
    msg, errors);
}
