// Record and context values of every JSON kind cross into wasm intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from 'fieldgate';

const policy = {
  format: 'fieldgate/1', app: 'v', version: 1,
  resources: { doc: { actions: ['view', 'edit'], fields: { a: {} } } },
  roles: {
    r: { grants: [
      { resource: 'doc', actions: ['view'], when: "record.tags contains 'x' || record.meta.level > 2" },
      { resource: 'doc', actions: ['edit'], when: "record.flag == true && record.n == 1.0 && context.channel == 'web' && record.obj == context.obj" },
    ] },
  },
};

test('lists, nested paths, booleans, numbers, objects and context', () => {
  const e = Engine.fromPolicyUnverified(policy);
  const s = e.session({ id: 'u', roles: ['r'] });
  assert.equal(s.can('view', 'doc', { tags: ['y', 'x'] }), true);
  assert.equal(s.can('view', 'doc', { tags: ['y'] }), false);
  assert.equal(s.can('view', 'doc', { meta: { level: 3 } }), true);
  assert.equal(s.can('view', 'doc', { meta: { level: '3' } }), false, 'a string never orders against a number');
  assert.equal(s.can('view', 'doc', { meta: { level: Infinity } }), false, 'non-finite numbers are null');
  const rec = { flag: true, n: 1, obj: { k: [1, 2] } };
  assert.equal(s.can('edit', 'doc', rec, { channel: 'web', obj: { k: [1, 2] } }), true);
  assert.equal(s.can('edit', 'doc', rec, { channel: 'app', obj: { k: [1, 2] } }), false);
  assert.equal(s.can('edit', 'doc', { ...rec, flag: 'true' }, { channel: 'web', obj: { k: [1, 2] } }), false);
  const many = s.canMany('edit', 'doc', [rec, { ...rec, n: 2 }, null, rec], { channel: 'web', obj: { k: [1, 2] } });
  assert.deepEqual([...many], [1, 0, 0, 1]);
  // Many distinct strings: interning keeps answering right.
  for (let i = 0; i < 2000; i++) {
    assert.equal(s.can('view', 'doc', { tags: [`t${i}`, i % 2 ? 'x' : 'z'] }), i % 2 === 1);
  }
});

test('values written while interning grows the wasm memory are not lost', () => {
  // `record.big` comes first among the record slots: interning a new large string grows the
  // wasm memory (detaching the JS views of it) before `record.n` is written.
  const e = Engine.fromPolicyUnverified({
    format: 'fieldgate/1', app: 'g', version: 1,
    resources: { doc: { actions: ['view'], fields: { a: {} } } },
    roles: { r: { grants: [{ resource: 'doc', actions: ['view'], when: "record.big != 'nope' && record.n == 1" }] } },
  });
  const s = e.session({ id: 'u', roles: ['r'] });
  for (let i = 0; i < 100; i++) {
    const big = `${i}:`.padEnd(128 * 1024, 'x');
    assert.equal(s.can('view', 'doc', { big, n: i % 2 }), i % 2 === 1, `record ${i}`);
    assert.deepEqual([...s.canMany('view', 'doc', [{ big: big + 'm', n: i % 2 }])], [i % 2]);
  }
});
