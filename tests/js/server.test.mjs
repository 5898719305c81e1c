// fieldgate/server in real Express and Koa apps, with bundles from a running `fieldgate serve`:
// refusals with the stable JSON errors, responses redacted, writes checked, refreshes by ETag,
// a bad bundle refused with the previous one kept, and the same answers as the server's
// decision API (POST /v1/apps/{app}/check).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Koa from 'koa';
import { createGate, PolicySource } from 'fieldgate/server';
import { startServer } from './chromium.mjs';

const here = new URL('.', import.meta.url).pathname;
const data = JSON.parse(readFileSync(join(here, 'acme-erp.data.json'), 'utf8'));
const customers = Object.fromEntries(data.records.customer.map((c) => [c.id, c]));
const people = Object.fromEntries(data.users.map((u) => [u.id, { id: u.id, department: u.department, groups: u.groups ?? [] }]));

let server, origin, dataDir, publishDir, service, trustedKeys;

before(async () => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'fieldgate-mw-')), 'data');
  publishDir = join(dataDir, 'bundles');
  server = startServer(here, process.env.FIELDGATE_BIN, ['serve', '--addr', '127.0.0.1:0', '--data', dataDir, '--www', tmpdir(), '--pkg', tmpdir(), '--publish-dir', publishDir]);
  origin = (await server.url).replace(/\/$/, '');
  service = execFileSync(process.env.FIELDGATE_BIN, ['service', 'add', 'orders-api', '--data', dataDir], { encoding: 'utf8' }).trim();
  trustedKeys = (await (await fetch(`${origin}/v1/config`)).json()).trusted_keys;
});
after(() => server?.stop());

const admin = () => readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();

/** A gate on the running server, counting the bundle fetches and their statuses. */
async function gate(statuses = []) {
  const counting = async (url, init) => {
    const res = await fetch(url, init);
    statuses.push(res.status);
    return res;
  };
  return createGate({
    url: `${origin}/v1/apps/acme-erp/bundle`,
    headers: { authorization: `Bearer ${service}` },
    trustedKeys,
    app: 'acme-erp',
    refreshMs: 0,
    fetch: counting,
    subject: (req) => people[(req.get ? req.get('x-user') : req.headers['x-user'])] ?? null,
  });
}

/** An Express app guarded by `g`, listening on a free port. */
async function expressApp(g) {
  const app = express();
  app.use(express.json());
  const byId = (req) => customers[req.params.id] ?? null;
  app.get('/customers', (req, res) => res.json(g.redact(req, 'customer', Object.values(customers))));
  app.get('/customers/:id', g.authorize('customer', 'view', byId), (req, res) => res.json(g.redact(req, 'customer', req.fieldgate.record)));
  app.put('/customers/:id', g.authorize('customer', 'edit', byId), g.guardWrite('customer', 'edit'), (req, res) => res.json({ saved: req.body, version: req.fieldgate.version }));
  app.put('/lenient/:id', g.authorize('customer', 'edit', byId), g.guardWrite('customer', 'edit', { strip: true }), (req, res) => res.json({ saved: req.body }));
  const listener = await new Promise((r) => { const l = app.listen(0, '127.0.0.1', () => r(l)); });
  return { url: `http://127.0.0.1:${listener.address().port}`, close: () => listener.close() };
}

const call = async (base, path, user, init = {}) => {
  const headers = { ...(user ? { 'x-user': user } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(base + path, { ...init, headers, body: init.body && JSON.stringify(init.body) });
  return { status: res.status, body: await res.json() };
};

test('Express: authorize refuses with the stable JSON errors and lets the allowed through', async () => {
  const g = await gate();
  const app = await expressApp(g);
  try {
    const own = await call(app.url, '/customers/c-1001', 'u-alice');
    assert.equal(own.status, 200);
    assert.equal(own.body.id, 'c-1001');
    assert.match(own.body.bank_account ?? '', /\*/, 'bank account masked for a salesperson');
    // A purchaser sees no customers; a salesperson sees others' masked.
    assert.deepEqual(await call(app.url, '/customers/c-1003', 'u-dave'), { status: 403, body: { code: 'forbidden', message: 'you may not view this customer' } });
    assert.equal((await call(app.url, '/customers/c-1003', 'u-alice')).body.phone, '137****4444');
    assert.equal((await call(app.url, '/customers/c-1001', null)).body.code, 'unauthorized');
    assert.equal((await call(app.url, '/customers/c-9999', 'u-alice')).status, 404);
    assert.deepEqual((await call(app.url, '/customers', 'u-alice')).body.map((c) => c.id), ['c-1001', 'c-1002', 'c-1003', 'c-1004']);
    assert.deepEqual((await call(app.url, '/customers', 'u-dave')).body, []);
  } finally {
    app.close();
    g.stop();
  }
});

test('Express: writes beyond the caller\'s rights are refused, or narrowed when asked', async () => {
  const g = await gate();
  const app = await expressApp(g);
  try {
    const body = { name: 'New name', credit_limit: 1e6 };
    const refused = await call(app.url, '/customers/c-1001', 'u-alice', { method: 'PUT', body });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'forbidden_fields');
    assert.deepEqual(refused.body.fields, ['credit_limit']);
    const ok = await call(app.url, '/customers/c-1001', 'u-alice', { method: 'PUT', body: { name: 'New name' } });
    assert.deepEqual(ok.body.saved, { name: 'New name' });
    assert.equal(ok.body.version, 1);
    const narrowed = await call(app.url, '/lenient/c-1001', 'u-alice', { method: 'PUT', body });
    assert.deepEqual(narrowed.body.saved, { name: 'New name' });
    assert.equal((await call(app.url, '/customers/c-1003', 'u-alice', { method: 'PUT', body: { name: 'x' } })).status, 403);
  } finally {
    app.close();
    g.stop();
  }
});

test('Koa: the same middleware, the same refusals', async () => {
  const g = await gate();
  const app = new Koa();
  app.use(async (ctx, next) => { await next(); });
  const guarded = g.authorize('customer', 'view', (ctx) => customers[ctx.path.split('/').pop()] ?? null);
  app.use(async (ctx, next) => guarded(ctx, next));
  app.use((ctx) => { ctx.body = g.redact(ctx, 'customer', ctx.state.fieldgate.record); });
  const listener = await new Promise((r) => { const l = app.listen(0, '127.0.0.1', () => r(l)); });
  const url = `http://127.0.0.1:${listener.address().port}`;
  try {
    assert.equal((await call(url, '/customers/c-1001', 'u-alice')).body.id, 'c-1001');
    assert.deepEqual(await call(url, '/customers/c-1003', 'u-dave'), { status: 403, body: { code: 'forbidden', message: 'you may not view this customer' } });
  } finally {
    listener.close();
    g.stop();
  }
});

test('the middleware answers as the decision API does, for every person and record', async () => {
  const g = await gate();
  try {
    for (const person of Object.values(people)) {
      const requests = Object.values(customers).flatMap((record) => ['view', 'edit', 'export'].map((action) => ({ action, resource: 'customer', record, want: ['allow', 'redact'], mode: 'view' })));
      const res = await fetch(`${origin}/v1/apps/acme-erp/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: person, requests }),
      });
      const { results } = await res.json();
      const req = { headers: { 'x-user': person.id } };
      requests.forEach((r, i) => {
        const local = g.source.engine.session(person).can(r.action, 'customer', r.record);
        assert.equal(local, results[i].allow, `${person.id} ${r.action} ${r.record.id}`);
        assert.deepEqual(g.redact(req, 'customer', r.record), results[i].redacted, `${person.id} redact ${r.record.id}`);
      });
    }
  } finally {
    g.stop();
  }
});

test('the bundle is refreshed by ETag, and a bad one leaves the previous in force', async () => {
  const statuses = [];
  const g = await gate(statuses);
  try {
    assert.equal(g.source.version, 1);
    assert.equal(await g.source.refresh(), false);
    assert.deepEqual(statuses, [200, 304]);
    const doc = JSON.parse(readFileSync(join(here, 'acme-erp.policy.json'), 'utf8'));
    doc.roles.sales.templates = ['customer_reader'];
    const pub = await fetch(`${origin}/v1/apps/acme-erp/policy`, { method: 'POST', headers: { authorization: `Bearer ${admin()}`, 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    assert.equal(pub.status, 201, await pub.text());
    assert.equal(await g.source.refresh(), true);
    assert.equal(g.source.version, 2);
    const app = await expressApp(g);
    try {
      const r = await call(app.url, '/customers/c-1001', 'u-alice', { method: 'PUT', body: { name: 'x' } });
      assert.equal(r.status, 403, 'v2 took edit away');
    } finally {
      app.close();
    }
    // Back to the sample policy (as v3) for the tests after this one.
    const back = await fetch(`${origin}/v1/apps/acme-erp/policy`, { method: 'POST', headers: { authorization: `Bearer ${admin()}`, 'content-type': 'application/json' }, body: readFileSync(join(here, 'acme-erp.policy.json')) });
    assert.equal(back.status, 201);
  } finally {
    g.stop();
  }
  // A file source: a tampered bundle is refused and the good one stays.
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-file-'));
  const file = join(dir, 'bundle.json');
  const good = await (await fetch(`${origin}/v1/apps/acme-erp/bundle`, { headers: { authorization: `Bearer ${service}` } })).text();
  writeFileSync(file, good);
  const source = await new PolicySource({ file, trustedKeys, app: 'acme-erp', refreshMs: 0 }).start();
  assert.equal(source.version, 3);
  const env = JSON.parse(good);
  env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"hidden"', '"editable"')).toString('base64');
  writeFileSync(file, JSON.stringify(env) + '\n');
  await assert.rejects(source.refresh(), (e) => e.code === 'bad_signature');
  assert.equal(source.version, 3);
  assert.ok(source.engine.session(people['u-alice']).can('view', 'customer', customers['c-1001']));
  await assert.rejects(new PolicySource({ file: join(dir, 'missing.json'), trustedKeys, refreshMs: 0 }).start(), (e) => e.code === 'ENOENT');
  // The server's --publish-dir: `latest.json` points at the newest version's file.
  const latest = await new PolicySource({ file: join(publishDir, 'acme-erp', 'latest.json'), trustedKeys, app: 'acme-erp', refreshMs: 0 }).start();
  assert.equal(latest.version, 3);
  assert.ok(latest.engine.session(people['u-alice']).can('view', 'customer', customers['c-1001']));
  // A pointer may only name a version file beside it.
  const bad = join(dir, 'latest.json');
  writeFileSync(bad, JSON.stringify({ app: 'acme-erp', version: 3, bundle: '../bundle.json' }));
  await assert.rejects(new PolicySource({ file: bad, trustedKeys, refreshMs: 0 }).start(), (e) => e.code === 'bad_bundle');
  // The rollback floor across restarts: with `floorFile`, a restarted backend refuses an older
  // bundle (a stale mirror serving v1) as a running one does; without it, a restart forgets.
  const floorFile = join(dir, 'floor');
  const version = (n) => join(publishDir, 'acme-erp', `v${n}.json`);
  const newest = await new PolicySource({ file: version(3), trustedKeys, app: 'acme-erp', refreshMs: 0, floorFile }).start();
  assert.equal(newest.version, 3);
  assert.equal(readFileSync(floorFile, 'utf8').trim(), '3');
  await assert.rejects(new PolicySource({ file: version(1), trustedKeys, app: 'acme-erp', refreshMs: 0, floorFile }).start(), (e) => e.code === 'rollback');
  assert.equal(readFileSync(floorFile, 'utf8').trim(), '3', 'the floor never goes down');
  const forgetful = await new PolicySource({ file: version(1), trustedKeys, app: 'acme-erp', refreshMs: 0 }).start();
  assert.equal(forgetful.version, 1);
  writeFileSync(floorFile, 'three');
  await assert.rejects(new PolicySource({ file: version(3), trustedKeys, app: 'acme-erp', refreshMs: 0, floorFile }).start(), (e) => e.code === 'bad_request');
});

test('past its expiry without a fresh bundle the engine goes stale: view only', async () => {
  let now = Date.now();
  const g = await createGate({
    url: `${origin}/v1/apps/acme-erp/bundle`, headers: { authorization: `Bearer ${service}` }, trustedKeys, refreshMs: 0,
    now: () => now, subject: () => people['u-alice'],
    fetch: async (url, init) => (now > Date.now() + 1000 ? new Response(null, { status: 503 }) : fetch(url, init)),
  });
  try {
    const s = () => g.source.engine.session(people['u-alice']);
    assert.equal(s().can('edit', 'customer', customers['c-1001']), true);
    now = Date.parse(g.source.engine.expiresAt) + 1;
    await assert.rejects(g.source.refresh(), (e) => e.code === 'unavailable');
    assert.equal(g.source.engine.stale, true);
    assert.equal(s().can('edit', 'customer', customers['c-1001']), false);
    assert.equal(s().can('view', 'customer', customers['c-1001']), true);
  } finally {
    g.stop();
  }
});
