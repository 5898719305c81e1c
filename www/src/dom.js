// A small DOM helper shared by the pages, and messages shown next to what caused them.

/** An element: attributes (`on*` become listeners, `true` an empty attribute) and children. */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return e;
}

/** Replaces `node`'s children (nested lists flattened; null, undefined and false skipped). */
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return node;
}

/** A message area placed next to a control, announced to screen readers. */
export function messageBox() {
  return el('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
}

/** Shows `text` in a message area (`kind`: `notice` or `error`). */
export function say(box, text, kind = 'notice') {
  box.className = `msg ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.textContent = text;
}

/** An error from the API as one line: its code, message, and any paths or cells. */
export function describe(e) {
  const parts = [`${e.code || 'error'}: ${e.message}`];
  if (e.data?.errors) parts.push(e.data.errors.map((x) => `${x.path}: ${x.message}`).join('; '));
  if (e.data?.cells) parts.push(e.data.cells.map((c) => [c.sheet, c.row && `row ${c.row}`, c.column, c.message].filter(Boolean).join(' ')).join('; '));
  return parts.join(' — ');
}

/** A search box over `items`: `label(item)` is what it matches and shows; `onPick(item)`. */
export function picker({ items, label, onPick, placeholder, name }) {
  const input = el('input', { type: 'search', placeholder, 'aria-label': name, autocomplete: 'off', list: '' });
  const list = el('ul', { class: 'picks', role: 'listbox', 'aria-label': name });
  const show = () => {
    const q = input.value.trim().toLowerCase();
    const found = items().filter((x) => !q || label(x).toLowerCase().includes(q)).slice(0, 30);
    list.replaceChildren(...found.map((x) => el('li', { role: 'option' },
      el('button', { type: 'button', onclick: () => { onPick(x); input.value = label(x); list.replaceChildren(); } }, label(x)))));
  };
  input.addEventListener('input', show);
  input.addEventListener('focus', show);
  // The list takes its own room in the page (it never covers what a person aims at) and
  // closes after a click elsewhere has landed, on Escape and on Tab.
  const box = el('div', { class: 'picker' }, input, list);
  const outside = (e) => {
    if (!box.isConnected) document.removeEventListener('click', outside);
    else if (!box.contains(e.target)) list.replaceChildren();
  };
  document.addEventListener('click', outside);
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape' || e.key === 'Tab') list.replaceChildren(); });
  return { box, input };
}

/** A download of `bytes` (Blob, string or bytes) under `name`. */
export function download(name, bytes, type = 'application/octet-stream') {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes], { type });
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

/** A modal confirmation with `body` (nodes); resolves true when confirmed. */
export function confirmDialog(title, body, { ok = 'OK', cancel = 'Cancel' } = {}) {
  return new Promise((resolve) => {
    const d = el('dialog', { 'aria-label': title, class: 'confirm' },
      el('h2', {}, title), body,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', onclick: () => { d.close(); resolve(false); } }, cancel),
        el('button', { type: 'button', 'data-confirm': '', onclick: () => { d.close(); resolve(true); } }, ok)));
    d.addEventListener('close', () => { d.remove(); resolve(false); });
    document.body.append(d);
    d.showModal();
  });
}
