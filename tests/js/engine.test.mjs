// The package as a new user installs it: bundles, sessions, errors, updates, audit events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BundleStore, DecisionLog, Engine, FieldgateError, STATES } from 'fieldgate';

const read = (p) => readFileSync(new URL(p, import.meta.url));
const key = read('./bundles/trusted/signing.pub').toString().trim();
const otherKey = read('./bundles/other/signing.pub').toString().trim();
const opts = { trustedKeys: [key], app: 'acme-erp' };
const v3 = read('./bundles/v3.json').toString();
const v4 = read('./bundles/v4.bin');

async function rejects(promiseOrFn, code) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    assert.ok(e instanceof FieldgateError, `expected FieldgateError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('loads a JSON bundle from a string and a binary bundle from bytes', async () => {
  const e = await Engine.load(v3, opts);
  assert.equal(e.app, 'acme-erp');
  assert.equal(e.version, 3);
  assert.match(e.keyId, /^[0-9a-f]{16}$/);
  assert.match(e.issuedAt, /^\d{4}-\d\d-\d\dT/);
  assert.ok(Date.parse(e.expiresAt) > Date.now());
  const b = await Engine.load(new Uint8Array(v4), opts);
  assert.equal(b.version, 4);
  const c = await Engine.load(v4.buffer.slice(v4.byteOffset, v4.byteOffset + v4.byteLength), opts);
  assert.equal(c.version, 4);
  assert.deepEqual(e.resources(), ['customer', 'inbound_order', 'outbound_order', 'contact']);
  assert.deepEqual(e.fields('customer').slice(0, 3), ['name', 'company', 'phone']);
});

test('refuses bad bundles with stable codes', async () => {
  const untrusted = await rejects(Engine.load(v3, { trustedKeys: [otherKey] }), 'untrusted_key');
  assert.equal(untrusted.alias, 'unknown_key', 'the former name, kept one release');
  const env = JSON.parse(v3);
  const payload = JSON.parse(Buffer.from(env.payload, 'base64'));
  payload.roles.sales.grants[0].actions = ['*'];
  env.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
  await rejects(Engine.load(JSON.stringify(env), opts), 'bad_signature');
  await rejects(Engine.load('{"nope":1}', opts), 'bad_bundle');
  await rejects(Engine.load(v3, { ...opts, app: 'crm' }), 'wrong_app');
  await rejects(Engine.load(v3, { ...opts, minVersion: 4 }), 'rollback');
  await rejects(Engine.load(v3, { ...opts, now: Date.now() + 400 * 86400e3 }), 'expired');
  await rejects(Engine.load(v3, { ...opts, now: Date.now() - 86400e3 }), 'not_yet_valid');
  await rejects(Engine.load(v3, { ...opts, maxBytes: 100 }), 'too_large');
  await rejects(Engine.load(v3, { trustedKeys: ['bm90IGEga2V5'] }), 'bad_key');
  const alice = read('./bundles/alice.json');
  await rejects(Engine.load(alice, { ...opts, user: 'u-bob' }), 'wrong_subject');
  const mine = await Engine.load(alice, { ...opts, user: 'u-alice' });
  assert.equal(mine.subject, 'u-alice');
  // The bundle carries its user as signed: `session()` decides for them, and a session that says
  // otherwise of them, or is for someone else, is refused.
  assert.equal(mine.person.id, 'u-alice');
  assert.deepEqual(mine.person.roles ?? [], []);
  assert.equal(mine.session().can('edit', 'customer', { owner_id: 'u-alice' }), true);
  assert.throws(() => mine.session({ id: 'u-alice', department: 'finance' }), (e) => e.code === 'subject_mismatch');
  assert.throws(() => mine.session({ id: 'u-bob' }), (e) => e.code === 'wrong_subject');
});

test('sessions answer can, fields, fieldStates, form, redact, writable', async () => {
  const e = await Engine.load(v3, opts);
  const s = e.session({ id: 'u-alice', roles: [], department: 'sales-east', groups: [], attrs: {} });
  const mine = { owner_id: 'u-alice', department: 'sales-east', name: '张三丰', phone: '13812345678', credit_limit: 5000 };
  const theirs = { ...mine, owner_id: 'u-bob' };
  assert.equal(s.can('edit', 'customer', mine), true);
  assert.equal(s.can('edit', 'customer', theirs), false);
  assert.equal(s.can('edit', 'customer'), true, 'no record: some record may qualify');
  const f = s.fields('customer', 'view', theirs);
  assert.deepEqual(Object.keys(f), e.fields('customer'));
  assert.equal(f.phone, 'masked');
  assert.equal(f.credit_limit, 'hidden');
  const codes = s.fieldStates('customer', 'edit', mine);
  assert.ok(codes instanceof Uint8Array);
  assert.deepEqual([...codes].map((c) => STATES[c]), Object.values(s.fields('customer', 'edit', mine)));
  const shown = s.redact('customer', 'view', theirs);
  assert.equal(shown.phone, '138****5678');
  assert.equal(shown.name, '张三丰');
  assert.equal('credit_limit' in shown, false);
  const form = s.form('customer', 'edit', mine);
  assert.equal(form.actions.edit, true);
  assert.equal(form.actions.delete, false);
  assert.equal(form.fields.credit_limit, 'readonly');
  const out = s.writable('customer', 'edit', mine, { name: 'x', credit_limit: 1, bank_account: '****', hacked: 1 });
  assert.deepEqual(out, { name: 'x' });
});

test('lists: canMany, filter, scopeFilter; explain tells rules from missing grants', async () => {
  const e = await Engine.load(v3, opts);
  const s = e.session({ id: 'u-dave' });
  const orders = [
    { created_by: 'u-dave', status: 'draft' },
    { created_by: 'u-dave', status: 'pending' },
    { created_by: 'u-erin', status: 'draft' },
  ];
  assert.deepEqual([...s.canMany('edit', 'inbound_order', orders)], [1, 0, 0]);
  assert.deepEqual(s.filter('inbound_order', 'edit', orders), [orders[0]]);
  const tree = s.scopeFilter('inbound_order', 'edit');
  assert.equal(typeof tree, 'object');
  const why = s.explain('edit', 'inbound_order', orders[1]);
  assert.equal(why.allow, false);
  assert.equal(why.reason, 'denied_by_rule');
  assert.deepEqual(why.denied_by, ['lock-under-approval']);
  assert.equal(s.explain('approve', 'inbound_order', orders[0]).reason, 'no_grant');
});

test('unknown resources, actions and modes throw; they never answer false', async () => {
  const e = await Engine.load(v3, opts);
  const s = e.session({ id: 'u-alice' });
  await rejects(() => s.can('edit', 'invoice'), 'unknown_resource');
  await rejects(() => s.can('fly', 'customer'), 'unknown_action');
  await rejects(() => s.fields('customer', 'delete'), 'bad_request');
  await rejects(() => e.session({}), 'bad_request');
});

test('a malformed subject or load option names the member at fault', async () => {
  const e = await Engine.load(v3, opts);
  const roles = await rejects(() => e.session({ id: 'u-alice', roles: 'sales' }), 'bad_request');
  assert.match(roles.message, /`roles` must be an array, not a string/);
  const attrs = await rejects(() => e.session({ id: 'u-alice', attrs: [1] }), 'bad_request');
  assert.match(attrs.message, /`attrs` must be an object, not an array/);
  const threshold = await rejects(Engine.load(v3, { ...opts, threshold: 1.5 }), 'bad_request');
  assert.match(threshold.message, /`threshold` must be a whole number >= 0, not 1.5/);
  const keys = await rejects(Engine.load(v3, { ...opts, trustedKeys: [3] }), 'bad_request');
  assert.match(keys.message, /`trustedKeys` must be an array of strings, not 3/);
  assert.equal(e.session({ id: 'u-alice', department: null, attrs: { level: 2 } }).can('view', 'customer'), true);
});

test('update is atomic, refuses rollback, and sessions follow it', async () => {
  const e = await Engine.load(v3, opts);
  const s = e.session({ id: 'u-alice' });
  const seen = [];
  e.onUpdate((eng) => seen.push(eng.version));
  await rejects(e.update(read('./bundles/other.json'), opts), 'untrusted_key');
  assert.equal(e.version, 3);
  await rejects(e.update(read('./bundles/v2.json'), opts), 'rollback');
  assert.equal(e.version, 3);
  assert.equal(s.can('edit', 'customer', { owner_id: 'u-alice' }), true);
  await e.update(v4, opts);
  assert.equal(e.version, 4);
  assert.deepEqual(seen, [4]);
  assert.equal(s.can('edit', 'customer', { owner_id: 'u-alice' }), true);
});

test('free releases an engine; using it afterwards throws instead of answering', async () => {
  const e = await Engine.load(v3, opts);
  const s = e.session({ id: 'u-alice' });
  assert.equal(s.can('view', 'customer', { owner_id: 'u-alice' }), true);
  e.free();
  await rejects(() => e.resources(), 'freed');
  await rejects(() => s.can('view', 'customer'), 'freed');
  await rejects(() => e.session({ id: 'u-bob' }).fields('customer', 'view'), 'freed');
  e.free();
});

test('onDecision reports every can, and can be removed', async () => {
  const e = await Engine.load(v3, opts);
  const events = [];
  const off = e.onDecision((ev) => events.push(ev));
  const s = e.session({ id: 'u-bob' });
  s.can('view', 'customer');
  s.attempt('edit', 'customer', { id: 'c-9', owner_id: 'u-alice' });
  assert.equal(events.length, 0, 'delivered off the hot path, in a microtask');
  await Promise.resolve();
  assert.equal(events.length, 2);
  off();
  s.can('view', 'customer');
  await Promise.resolve();
  assert.equal(events.length, 2);
  assert.deepEqual({ ...events[0], at: 0 }, { subject: 'u-bob', action: 'view', resource: 'customer', allow: true, version: 3, at: 0, kind: 'check' });
  assert.deepEqual({ ...events[1], at: 0 }, { subject: 'u-bob', action: 'edit', resource: 'customer', allow: false, version: 3, at: 0, kind: 'attempt', record: 'c-9' });
});

test('loadSync with wasm bytes; fromPolicyUnverified reports policy errors with paths', () => {
  const require = createRequire(import.meta.url);
  const wasm = readFileSync(require.resolve('fieldgate/fieldgate_wasm_bg.wasm'));
  const e = Engine.loadSync(v3, wasm, opts);
  assert.equal(e.version, 3);
  const bad = { format: 'fieldgate/1', app: 'a', version: 1, resources: { c: { actions: ['view'], fields: { phone: {} } } },
    roles: { r: { grants: [{ resource: 'c', actions: ['view'], fields: { phon: 'hidden' } }] } } };
  try {
    Engine.fromPolicyUnverified(bad);
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof FieldgateError);
    assert.equal(err.code, 'unknown_field');
    assert.equal(err.path, 'roles.r.grants[0].fields.phon');
    assert.equal(err.errors.length, 1);
  }
  assert.equal(Engine.fromPolicyUnverified(readFileSync(new URL('./acme-erp.policy.json', import.meta.url), 'utf8')).keyId, null);
});

test('the minified package keeps its public class names and ships the readable source in source maps', () => {
  const require = createRequire(import.meta.url);
  assert.deepEqual([Engine.name, FieldgateError.name, BundleStore.name, DecisionLog.name], ['Engine', 'FieldgateError', 'BundleStore', 'DecisionLog']);
  const dir = new URL('.', `file://${require.resolve('fieldgate/package.json')}`);
  for (const file of ['index.js', 'index.cjs']) {
    const code = readFileSync(new URL(file, dir), 'utf8');
    assert.ok(code.endsWith(`//# sourceMappingURL=${file}.map\n`), `${file} names its source map`);
    const map = JSON.parse(readFileSync(new URL(`${file}.map`, dir), 'utf8'));
    const sources = map.sources.map((s) => s.split('/').pop());
    for (const f of ['engine.js', 'errors.js', 'store.js']) {
      const i = sources.indexOf(f);
      assert.ok(i >= 0, `${file}.map holds ${f}`);
      assert.match(map.sourcesContent[i], /\/\*\*/, `${file}.map holds ${f} unminified, with its comments`);
    }
  }
});

test('dated access: a session decides at its `now`, and one on the clock follows an end as it passes', async () => {
  const until = new Date(Date.now() + 400).toISOString();
  const policy = {
    format: 'fieldgate/1', app: 'dated', version: 1,
    resources: { doc: { actions: ['view', 'export'], fields: { a: {} } } },
    roles: { auditor: { grants: [{ resource: 'doc', actions: ['view', 'export'] }] } },
    assignments: { users: { 'u-temp': { roles: [{ role: 'auditor', from: '2027-01-01T00:00:00+08:00', until: '2027-01-31T23:59:59+08:00' }] },
                            'u-soon': { grants: [{ resource: 'doc', actions: ['export'], until }] } } },
  };
  const engine = Engine.fromPolicyUnverified(policy);
  const at = (now) => engine.session({ id: 'u-temp' }, { now }).can('export', 'doc');
  assert.equal(at(Date.parse('2026-12-31T15:59:59.999Z')), false, 'before its from');
  assert.equal(at(new Date('2027-01-01T00:00:00+08:00')), true, 'at its from, a Date');
  assert.equal(at(Date.parse('2027-01-31T23:59:59+08:00')), true, 'at its until');
  assert.equal(at(Date.parse('2027-01-31T23:59:59+08:00') + 1), false, 'just after');
  assert.throws(() => engine.session({ id: 'u-temp' }, { now: 'tomorrow' }), (e) => e.code === 'bad_request');
  // On the device's clock: allowed now, refused once the grant's end has passed, without a new
  // session (the evaluator said when its answers stop holding).
  const s = engine.session({ id: 'u-soon' });
  assert.equal(s.can('export', 'doc'), true);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(s.can('export', 'doc'), false);
});
