// The form-builder adapters against the real libraries: @formily/core, react-jsonschema-form
// rendered by react-dom/server, React (react-test-renderer), Vue (its server renderer and
// reactivity), and the amis JSON transform. Each checks: hidden is not in the output, read-only
// cannot be edited, masked shows the masked value, and a new bundle changes the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import TestRenderer from 'react-test-renderer';
import { createForm } from '@formily/core';
import RjsfCore from '@rjsf/core';
import ValidatorAjv8 from '@rjsf/validator-ajv8';
import { createSSRApp, effectScope, h, withDirectives, resolveDirective } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { Engine } from 'fieldgate';
import { applyToSchema, applyToForm, formValues, submitValues } from 'fieldgate/formily';
import { uiSchema, formData, submitData, rjsfProps } from 'fieldgate/rjsf';
import { applyAmis } from 'fieldgate/amis';
import { FieldgateProvider, useFields, Can } from 'fieldgate/react';
import { createFieldgate, useFields as vueFields, useCan as vueCan } from 'fieldgate/vue';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
// rjsf 5 ships CommonJS: Node hands over `module.exports`, whose `default` is the component.
const RjsfForm = RjsfCore.default ?? RjsfCore;
const validator = ValidatorAjv8.default ?? ValidatorAjv8;
const dir = new URL('./bundles/', import.meta.url);
const trustedKeys = [(await readFile(new URL('trusted/signing.pub', dir), 'utf8')).trim()];
const v3 = await readFile(new URL('v3.json', dir));
const v5 = await readFile(new URL('v5-phone-hidden.json', dir));
const engine = () => Engine.load(v3, { trustedKeys });
const alice = { id: 'u-alice', department: 'sales-east' };
const own = { id: 'c-1', owner_id: 'u-alice', department: 'sales-east', name: 'Zhang Wei', phone: '13812345678', credit_limit: 500000, bank_account: '6222020200112233445', notes: 'n' };
const other = { ...own, id: 'c-2', owner_id: 'u-bob', department: 'sales-west', phone: '13755554444', credit_limit: 150000 };
const fieldsOf = { resource: 'customer' };

test('formily: live form hides, masks, locks, submits only editable, follows updates', async () => {
  const e = await engine();
  const s = e.session(alice);
  const opts = { ...fieldsOf, mode: 'view', record: other };
  const form = createForm({ initialValues: formValues(other, s, opts) });
  for (const name of ['name', 'phone', 'credit_limit', 'bank_account', 'notes']) form.createField({ name });
  applyToForm(form, s, opts);
  assert.equal(form.query('credit_limit').take().display, 'none');
  assert.equal('credit_limit' in form.values, false, 'hidden value is not in the form');
  const phone = form.query('phone').take();
  assert.equal(phone.pattern, 'readOnly');
  assert.equal(phone.editable, false);
  assert.notEqual(phone.value, other.phone);
  assert.match(phone.value, /\*/);
  assert.equal(form.query('notes').take().editable, false, 'view mode: read-only');

  const edit = { ...fieldsOf, mode: 'edit', record: own };
  const f2 = createForm({ initialValues: formValues(own, s, edit) });
  for (const name of ['notes', 'credit_limit', 'bank_account']) f2.createField({ name });
  applyToForm(f2, s, edit);
  assert.equal(f2.query('notes').take().editable, true);
  assert.equal(f2.query('credit_limit').take().editable, false);
  assert.deepEqual(Object.keys(submitValues(f2.values, s, edit)), ['name', 'phone', 'notes'], 'not credit_limit (readonly) nor bank_account (masked)');

  await e.update(v5, { trustedKeys });
  applyToForm(form, e.session(alice), opts);
  assert.equal(form.query('phone').take().display, 'none');
  assert.equal('phone' in form.values, false);
});

test('formily: schema states reach nested objects and array items', () => {
  const schema = {
    type: 'object',
    properties: {
      contact: { type: 'object', properties: { phone: { type: 'string', default: '13812345678' }, email: { type: 'string' } } },
      lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, price: { type: 'number', default: 9 } } } },
    },
  };
  const out = applyToSchema(schema, { 'contact.phone': 'masked', 'contact.email': 'readonly', 'lines.sku': 'editable', 'lines.price': 'hidden' },
    { record: { contact: { phone: '138****5678' } } });
  assert.equal(out.properties.contact.properties.phone['x-pattern'], 'readOnly');
  assert.equal(out.properties.contact.properties.phone.default, '138****5678');
  assert.equal(out.properties.contact.properties.email['x-pattern'], 'readOnly');
  assert.equal(out.properties.lines.items.properties.sku['x-pattern'], 'editable');
  assert.equal(out.properties.lines.items.properties.price['x-display'], 'hidden');
  assert.equal(out.properties.lines.items.properties.price.default, undefined);
  assert.equal(schema.properties.lines.items.properties.price.default, 9, 'input untouched');
  const disabled = applyToSchema(schema, { 'contact.email': 'readonly' }, { readonlyPattern: 'disabled' });
  assert.equal(disabled.properties.contact.properties.email['x-pattern'], 'disabled');
});

test('adapters shape data with the engine: nested objects and list items as redact and writable give them', () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/core/paths-and-rulings.json', import.meta.url), 'utf8'));
  const e = Engine.fromPolicyUnverified(fixture.policy);
  const s = e.session({ id: 'u-4', roles: ['clerk'] });
  const cases = fixture.cases.filter((c) => c.request.resource === 'order');
  assert.equal(cases.length, 2);
  const [shownCase, writeCase] = cases;
  const opts = { resource: 'order', mode: 'edit', record: shownCase.request.record };
  for (const got of [formValues(opts.record, s, opts), formData(opts.record, s, opts)]) {
    assert.deepEqual(got, shownCase.expect.record);
  }
  const w = writeCase.request;
  for (const got of [submitValues(w.formData, s, { ...opts, record: w.record }), submitData(w.formData, s, { ...opts, record: w.record })]) {
    assert.deepEqual(got, writeCase.expect.writable, 'address.city is readonly, lines.price masked, lines.cost hidden: none submitted');
  }
  assert.throws(() => formValues(opts.record, { customer: 'editable' }, opts), TypeError, 'field states alone cannot shape data');
  const form = createForm({ initialValues: formValues(opts.record, s, opts) });
  form.createField({ name: 'lines.0.price' });
  applyToForm(form, s, opts);
  assert.equal(form.query('lines.0.price').take().value, '****', 'a masked list item shows its own masked value');
});

const rjsfSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Name' }, phone: { type: 'string', title: 'Phone' },
    credit_limit: { type: 'number', title: 'Credit limit' }, notes: { type: 'string', title: 'Notes' },
  },
};
const renderRjsf = (props) => renderToStaticMarkup(createElement(RjsfForm, { schema: rjsfSchema, validator, ...props }));

test('rjsf: rendered form has no hidden value, masked phone, read-only inputs; updates re-render', async () => {
  const e = await engine();
  const opts = { ...fieldsOf, mode: 'view', record: other, schema: rjsfSchema };
  const html = renderRjsf(rjsfProps(e.session(alice), opts));
  assert.doesNotMatch(html, /150000/, 'hidden credit limit is not in the page');
  assert.doesNotMatch(html, /13755554444/, 'raw phone is not in the page');
  assert.match(html, /id="root_phone"[^>]*readonly|readonly[^>]*id="root_phone"/);
  assert.match(html, /value="137\*+4444"|value="137\*\*\*\*4444"/);
  assert.match(html, /id="root_notes"[^>]*readonly|readonly[^>]*id="root_notes"/);
  const ui = uiSchema(e.session(alice), opts);
  assert.equal(ui.credit_limit['ui:widget'], 'hidden');
  assert.deepEqual(Object.keys(submitData(other, e.session(alice), { ...fieldsOf, mode: 'edit', record: other })), [], 'nothing of someone else\'s customer');
  const ownEdit = { ...fieldsOf, mode: 'edit', record: own };
  assert.deepEqual(Object.keys(submitData(own, e.session(alice), ownEdit)).sort(), ['name', 'notes', 'phone']);
  assert.equal('credit_limit' in formData(other, e.session(alice), opts), false);
  await e.update(v5, { trustedKeys });
  const after = renderRjsf(rjsfProps(e.session(alice), opts));
  assert.doesNotMatch(after, /137\*+4444/, 'phone hidden after the update');
  assert.notEqual(after, html);
});

test('react: provider, hooks and <Can> re-render on a new bundle', async () => {
  const e = await engine();
  const Probe = () => {
    const f = useFields('customer', 'view', other);
    return createElement('p', null, `phone:${f.phone}`, createElement(Can, { action: 'export', resource: 'customer', record: other, fallback: ' no-export' }, ' export'));
  };
  let r;
  await TestRenderer.act(async () => {
    r = TestRenderer.create(createElement(FieldgateProvider, { engine: e, subject: alice }, createElement(Probe)));
  });
  assert.equal(r.toJSON().children.join(''), 'phone:masked no-export');
  await TestRenderer.act(async () => { await e.update(v5, { trustedKeys }); });
  assert.equal(r.toJSON().children.join(''), 'phone:hidden no-export');
  r.unmount();
  const ssr = renderToStaticMarkup(createElement(FieldgateProvider, { engine: e, subject: { id: 'u-grace' } }, createElement(Probe)));
  assert.equal(ssr, '<p>phone:readonly export</p>', 'view mode caps the admin at readonly');
});

test('vue: plugin, v-can and useFields, reactive to a new bundle', async () => {
  const e = await engine();
  const fg = createFieldgate({ engine: e, subject: alice });
  const App = {
    setup() {
      const f = vueFields('customer', 'view', other);
      return () => {
        const can = resolveDirective('can');
        return h('div', [
          h('span', `phone:${f.value.phone}`),
          withDirectives(h('button', 'Export'), [[can, { action: 'export', resource: 'customer', record: other }]]),
          withDirectives(h('button', 'Edit'), [[can, { action: 'edit', resource: 'customer', record: own }]]),
        ]);
      };
    },
  };
  const html = await renderToString(createSSRApp(App).use(fg));
  assert.match(html, /phone:masked/);
  assert.match(html, /<button hidden[^>]*>Export<\/button>/);
  assert.match(html, /<button>Edit<\/button>/);
  const scope = effectScope();
  const [states, canEdit] = scope.run(() => [vueFields('customer', 'view', other, null, fg), vueCan('edit', 'customer', own, null, fg)]);
  assert.equal(states.value.phone, 'masked');
  assert.equal(canEdit.value, true);
  await e.update(v5, { trustedKeys });
  assert.equal(states.value.phone, 'hidden');
  scope.stop();
});

test('amis: hidden with clearValueOnHidden, static read-only and masked, api submits editable only', async () => {
  const e = await engine();
  const schema = {
    type: 'page',
    body: {
      type: 'form', api: 'put:/v1/data/customer/${id}', data: { ...other },
      body: [
        { type: 'input-text', name: 'name', label: 'Name' },
        { type: 'input-text', name: 'phone', label: 'Phone' },
        { type: 'input-number', name: 'credit_limit', label: 'Credit limit' },
        { type: 'textarea', name: 'notes', label: 'Notes' },
      ],
    },
  };
  const out = applyAmis(schema, e.session(alice), { ...fieldsOf, mode: 'view', record: other });
  const [name, phone, credit, notes] = out.body.body;
  assert.deepEqual([credit.hidden, credit.clearValueOnHidden], [true, true]);
  assert.equal('credit_limit' in out.body.data, false);
  assert.equal(phone.static, true);
  assert.match(phone.value, /\*/);
  assert.equal(out.body.data.phone, phone.value);
  assert.equal(notes.static, true);
  assert.equal(name.static, true);
  assert.deepEqual(out.body.api, { method: 'put', url: '/v1/data/customer/${id}', data: {} });
  const editOwn = applyAmis({ ...schema, body: { ...schema.body, data: { ...own } } }, e.session(alice), { ...fieldsOf, mode: 'edit', record: own });
  assert.deepEqual(editOwn.body.api.data, { name: '${name}', phone: '${phone}', notes: '${notes}' });
  const noData = { ...schema, body: { ...schema.body, data: undefined } };
  const disabled = applyAmis(noData, { notes: 'readonly' }, { readonlyAs: 'disabled' });
  assert.equal(disabled.body.body[3].disabled, true);
  assert.throws(() => applyAmis(schema, { notes: 'readonly' }), /needs a session/, 'form data is shaped by the engine only');
  await e.update(v5, { trustedKeys });
  const after = applyAmis(schema, e.session(alice), { ...fieldsOf, mode: 'view', record: other });
  assert.equal(after.body.body[1].hidden, true);
});
