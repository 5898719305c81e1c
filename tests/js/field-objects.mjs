// The policy and answers of field-objects.test.mjs, in a module of their own so that a child
// Node process (started with code generation forbidden) can compute them too.
import assert from 'node:assert/strict';
import { Engine } from 'fieldgate';

// Names that would break code built by pasting them in, and `__proto__`, which an object
// literal would take for the prototype.
export const NAMES = ['plain', 'with "quotes"', 'back\\slash', 'line\nbreak', '\u2028', '__proto__', '}; throw 1; {', '10', '2'];
const policy = {
  format: 'fieldgate/1', app: 'f', version: 1,
  resources: { doc: { actions: ['view', 'edit'], owner: 'owner', fields: Object.fromEntries(NAMES.map((n) => [n, {}])) } },
  roles: {
    r: { grants: [
      { resource: 'doc', actions: ['view'], fields: { '*': 'readonly', plain: 'masked', ['__proto__']: 'hidden' } },
      { resource: 'doc', actions: ['view', 'edit'], scope: 'own', fields: { '*': 'editable', '10': 'readonly' } },
    ] },
  },
};

/** `[name, state]` pairs of `fields()` for an owned and a foreign record, in key order. */
export function answers() {
  const s = Engine.fromPolicyUnverified(policy).session({ id: 'u', roles: ['r'] });
  return ['u', 'v'].map((owner) => {
    const f = s.fields('doc', 'edit', { owner });
    assert.equal(Object.getPrototypeOf(f), Object.prototype);
    return Object.entries(f);
  });
}
