// Type-checked (tsc --noEmit --strict --jsx react-jsx) against the real libraries' own types:
// every adapter sub-path as a consumer would use it.
import { createForm } from '@formily/core';
import Form from '@rjsf/core';
import validator from '@rjsf/validator-ajv8';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import { createApp, defineComponent, h, ref, type ComputedRef } from 'vue';
import type { Engine, FieldState, Session, Subject } from 'fieldgate';
import { applyToForm, applyToSchema, formValues, submitValues } from 'fieldgate/formily';
import { formData, rjsfProps, submitData, uiSchema } from 'fieldgate/rjsf';
import { applyAmis } from 'fieldgate/amis';
import { Can, FieldgateProvider, useCan, useFields, useSession } from 'fieldgate/react';
import { createFieldgate, useFieldgate, useFields as useVueFields, useCan as useVueCan } from 'fieldgate/vue';

type Customer = { name: string; phone: string; credit_limit: number };

export function formily(s: Session, record: Customer): Partial<Customer> {
  const schema = { type: 'object', properties: { name: { type: 'string' }, phone: { type: 'string' } } };
  const applied: typeof schema = applyToSchema(schema, s, { resource: 'customer', mode: 'edit', record });
  const form = createForm({ initialValues: formValues(record, s, { resource: 'customer', mode: 'edit', record }) });
  const states: Record<string, FieldState> = applyToForm(form, s, { resource: 'customer', mode: 'edit', record, readonlyPattern: 'disabled' });
  void applied; void states;
  return submitValues(form.values as Customer, s, { resource: 'customer', mode: 'edit', record });
}

export function rjsf(s: Session, record: Customer, schema: RJSFSchema) {
  const ui: UiSchema = uiSchema(s, { resource: 'customer', mode: 'edit', record, schema, readonlyAs: 'disabled' });
  const data: Partial<Customer> = formData(record, s, { resource: 'customer', mode: 'edit' });
  const props = rjsfProps(s, { resource: 'customer', mode: 'edit', record, uiSchema: ui });
  const element = (
    <Form
      schema={schema}
      validator={validator}
      uiSchema={props.uiSchema}
      formData={data}
      onSubmit={(e) => submitData(e.formData as Customer, s, { resource: 'customer', mode: 'edit', record })}
    />
  );
  return element;
}

export function amis(s: Session) {
  const schema = { type: 'form', body: [{ type: 'input-text', name: 'phone' }] };
  const out: typeof schema = applyAmis(schema, s, { resource: 'customer', mode: 'view', readonlyAs: 'static' });
  return applyAmis(out, { phone: 'hidden' });
}

function CustomerForm({ record }: { record: Customer }) {
  const fields: Record<string, FieldState> = useFields('customer', 'edit', record);
  const canExport: boolean = useCan('export', 'customer');
  const session: Session = useSession();
  return (
    <Can action="approve" resource="order" fallback={<span>no</span>}>
      <p>{Object.keys(fields).join()} {String(canExport)} {String(session.can('view', 'customer'))}</p>
    </Can>
  );
}

export function react(engine: Engine, subject: Subject, record: Customer) {
  return (
    <FieldgateProvider engine={engine} subject={subject}>
      <CustomerForm record={record} />
    </FieldgateProvider>
  );
}

export function vue(engine: Engine, subject: Subject) {
  const Component = defineComponent({
    setup() {
      const api = useFieldgate();
      const record = ref<Record<string, unknown> | null>(null);
      const fields: ComputedRef<Record<string, FieldState>> = useVueFields('customer', 'edit', record);
      const can: ComputedRef<boolean> = useVueCan('edit', 'customer', record);
      api.setSubject({ ...subject, roles: ['auditor'] });
      return () => h('p', `${Object.keys(fields.value).join()} ${can.value}`);
    },
  });
  const plugin = createFieldgate({ engine, subject: ref(subject) });
  return createApp(Component).use(plugin);
}
