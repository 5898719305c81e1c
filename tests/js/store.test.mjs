// BundleStore and DecisionLog: offline start, anti-rollback across reloads, grace and stale
// mode, tabs in step, wipe on logout, hash-chained decision queues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BundleStore, DecisionLog, Engine, FieldgateError, memoryStorage } from 'fieldgate';

const read = (p) => readFileSync(new URL(p, import.meta.url));
const key = read('./bundles/trusted/signing.pub').toString().trim();
const v2 = read('./bundles/v2.json');
const v3 = read('./bundles/v3.json');
const v4 = read('./bundles/v4.bin');
const other = read('./bundles/other.json');
const DAY = 86_400_000;
const base = { trustedKeys: [key], app: 'acme-erp', user: 'u-alice' };

test('starts from the network, then offline from the cache; never goes back', async () => {
  const storage = memoryStorage();
  const a = new BundleStore({ ...base, storage });
  assert.equal((await a.start(async () => v3)).version, 3);
  assert.equal(a.status, 'fresh');
  await a.refresh(async () => v4);
  assert.equal(a.version, 4);
  await assert.rejects(a.refresh(async () => v2), (e) => e instanceof FieldgateError && e.code === 'rollback');
  await assert.rejects(a.refresh(async () => other), (e) => e.code === 'untrusted_key');
  assert.equal(a.version, 4, 'refused bundles leave the current one in force');
  assert.equal(await a.refresh(async () => null), a.engine, '304: nothing changes');
  a.close();

  // A reload with the network off: the cache answers, and the floor survived.
  const b = new BundleStore({ ...base, storage });
  const engine = await b.start(async () => { throw new Error('offline'); });
  assert.equal(engine.version, 4);
  assert.equal(b.highestVersion, 4);
  await assert.rejects(b.refresh(async () => v3), (e) => e.code === 'rollback');
  b.close();
});

test('refreshes on start, on the online event and on focus; close stops listening', async () => {
  // A page's global event target, as in a browser (Node has none).
  const page = new EventTarget();
  globalThis.addEventListener = page.addEventListener.bind(page);
  globalThis.removeEventListener = page.removeEventListener.bind(page);
  const store = new BundleStore({ ...base, storage: memoryStorage() });
  try {
    const bundles = [v2, v3, v4];
    let calls = 0;
    const fetcher = async () => bundles[Math.min(calls++, bundles.length - 1)];
    // Resolves when `version` is loaded; fails the test (instead of hanging it) after 3 s.
    const changed = (version) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`version ${version} never loaded`)), 3000);
      const off = store.onChange((e) => { if (e.version === version) { off(); clearTimeout(timer); resolve(); } });
    });
    assert.equal((await store.start(fetcher)).version, 2);
    const third = changed(3);
    page.dispatchEvent(new Event('online'));
    await third;
    const fourth = changed(4);
    page.dispatchEvent(new Event('focus'));
    await fourth;
    assert.equal(calls, 3);
    store.close();
    page.dispatchEvent(new Event('online'));
    page.dispatchEvent(new Event('focus'));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls, 3, 'no fetch after close()');
  } finally {
    store.close();
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  }
});

test('keys are per user; wipe forgets everything', async () => {
  const storage = memoryStorage();
  const a = new BundleStore({ ...base, storage });
  await a.start(async () => v3);
  const bob = new BundleStore({ ...base, user: 'u-bob', storage });
  assert.equal(await bob.start(), null, 'nothing cached for another user');
  await a.wipe();
  assert.equal(a.engine, null);
  const again = new BundleStore({ ...base, storage });
  assert.equal(await again.start(), null);
  [a, bob, again].forEach((s) => s.close());
});

test('expiry is enforced unless a grace period is opted into; past it, stale mode', async () => {
  const later = (days) => () => Date.now() + days * DAY;
  const strict = new BundleStore({ ...base, storage: memoryStorage(), now: later(31) });
  await assert.rejects(strict.refresh(async () => v3), (e) => e.code === 'expired');
  strict.close();

  const statuses = [];
  const graced = new BundleStore({ ...base, storage: memoryStorage(), now: later(31), graceMs: 7 * DAY });
  graced.onChange((e) => statuses.push(e.status));
  const e = await graced.refresh(async () => v3);
  assert.equal(graced.status, 'grace');
  assert.equal(e.stale, false);
  // The verifier judged it, and answers for any time by the same rule.
  assert.equal(e.freshness, 'grace');
  const expires = Date.parse(e.expiresAt);
  assert.equal(e.freshnessAt(expires), 'fresh');
  assert.equal(e.freshnessAt(expires + 1), 'expired');
  assert.equal(e.freshnessAt(expires + 1, { graceMs: DAY }), 'grace');
  assert.equal(e.freshnessAt(expires + DAY + 1, { graceMs: DAY }), 'stale');
  assert.equal(e.freshnessAt(expires + 60_000, { skewMs: 300_000 }), 'fresh');
  const s = e.session({ id: 'u-alice' });
  assert.equal(s.can('edit', 'customer', { owner_id: 'u-alice' }), true);
  graced.close();

  const old = new BundleStore({ ...base, storage: memoryStorage(), now: later(45), graceMs: 7 * DAY });
  const stale = await old.refresh(async () => v3);
  assert.equal(old.status, 'stale');
  assert.equal(stale.stale, true);
  const t = stale.session({ id: 'u-alice' });
  const own = { owner_id: 'u-alice' };
  assert.equal(t.can('view', 'customer', own), true, 'view still works');
  assert.equal(t.can('edit', 'customer', own), false, 'everything else is denied');
  assert.ok(Object.values(t.fields('customer', 'edit', own)).every((st) => st !== 'editable'));
  assert.deepEqual(t.writable('customer', 'edit', own, { name: 'x' }), {});
  // Every answer agrees: the evaluator applies stale mode, not the wrapper.
  const why = t.explain('edit', 'customer', own);
  assert.deepEqual([why.allow, why.reason], [false, 'stale']);
  assert.ok(why.fields.every((f) => f.state !== 'editable'));
  assert.equal(t.scopeFilter('customer', 'edit'), false);
  assert.deepEqual([...t.canMany('edit', 'customer', [own, own])], [0, 0]);
  assert.deepEqual(t.filter('customer', 'edit', [own]), []);
  assert.equal(t.form('customer', 'edit', own).actions.edit, false);
  assert.deepEqual(statuses, ['grace']);
  old.close();
});

test('tabs stay in step through BroadcastChannel', async () => {
  const storage = memoryStorage();
  const tab1 = new BundleStore({ ...base, storage });
  const tab2 = new BundleStore({ ...base, storage });
  await tab1.start(async () => v3);
  await tab2.start();
  assert.equal(tab2.version, 3);
  const changed = new Promise((resolve) => tab2.onChange(resolve));
  await tab1.refresh(async () => v4);
  assert.deepEqual(await changed, { status: 'fresh', version: 4 });
  tab1.close();
  tab2.close();
});

test('decision events are hash-chained; a gap or an edit is detected', async () => {
  const storage = memoryStorage();
  const log = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage });
  for (let i = 0; i < 3; i++) {
    await log.append({ subject: 'u-alice', action: 'view', resource: 'customer', allow: true, version: 3, at: i });
  }
  const entries = await log.pending();
  assert.equal(entries.length, 3);
  assert.equal(entries[0].prev, null);
  assert.equal(entries[1].prev, entries[0].hash);
  assert.match(entries[0].chain, /^[0-9a-f-]{36}$/);
  assert.ok(entries.every((e) => e.chain === entries[0].chain), 'one log, one chain id');
  assert.equal(await DecisionLog.verify(entries), -1);
  assert.equal(await DecisionLog.verify([entries[0], entries[2]]), 1, 'a gap');
  const edited = entries.map((e) => ({ ...e }));
  edited[1].allow = false;
  assert.equal(await DecisionLog.verify(edited), 1, 'an edit');
  const sent = [];
  assert.equal(await log.flush(async (batch) => sent.push(...batch)), 3);
  assert.deepEqual(await log.pending(), []);

  // A reload: a new DecisionLog over the same storage continues the same chain.
  const again = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage });
  const next = await again.append({ subject: 'u-alice', action: 'edit', resource: 'customer', allow: false, version: 3, at: 9 });
  assert.equal(next.prev, entries[2].hash, 'the chain continues across flushes and reloads');
  assert.equal(next.chain, entries[0].chain);
  assert.equal(await DecisionLog.verify([next], entries[2].hash), -1);
  const other = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage() });
  assert.notEqual((await other.append(sent[0])).chain, entries[0].chain, 'another device, another chain');
});

test('decision events appended without waiting are all kept, in one chain; a flush keeps what came meanwhile', async () => {
  const log = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage() });
  const ev = (at) => ({ subject: 'u-alice', action: 'view', resource: 'customer', allow: true, version: 3, at });
  // What engine.onDecision(e => log.append(e)) does while a form renders: no awaits between.
  const appended = await Promise.all([1, 2, 3, 4, 5].map((at) => log.append(ev(at))));
  const queued = await log.pending();
  assert.deepEqual(queued.map((e) => e.at), [1, 2, 3, 4, 5]);
  assert.deepEqual(queued, appended);
  assert.equal(await DecisionLog.verify(queued), -1);

  let release;
  const held = new Promise((r) => { release = r; });
  const batches = [];
  const flushing = log.flush(async (batch) => { batches.push(batch.length); await held; });
  const joined = log.flush(async () => { throw new Error('a second send while one is running'); });
  await new Promise((r) => setTimeout(r, 0));
  log.append(ev(6));
  release();
  assert.equal(await flushing, 5);
  assert.equal(await joined, 5, 'a flush during a flush joins it');
  const left = await log.pending();
  assert.deepEqual(left.map((e) => e.at), [6], 'the event appended during the send stays');
  assert.equal(left[0].prev, queued[4].hash);
  await assert.rejects(log.flush(async () => { throw new Error('offline'); }), /offline/);
  assert.equal((await log.pending()).length, 1, 'a failed send keeps the queue');
  assert.deepEqual(batches, [5]);
});

test('only attempts (and refused checks when asked) are logged; checks are off by default', async () => {
  const ev = (kind, allow) => ({ subject: 'u-alice', action: 'delete', resource: 'customer', allow, version: 3, at: 1, kind });
  const quiet = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage() });
  assert.equal(await quiet.append(ev('check', false)), null, 'drawing a button is not an attempt');
  assert.equal(await quiet.append(ev('check', true)), null);
  assert.ok(await quiet.append(ev('attempt', true)));
  assert.ok(await quiet.append(ev('attempt', false)));
  assert.deepEqual((await quiet.pending()).map((e) => [e.kind, e.allow]), [['attempt', true], ['attempt', false]]);
  const refused = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage(), checks: 'refused' });
  assert.ok(await refused.append(ev('check', false)));
  assert.equal(await refused.append(ev('check', true)), null);
  const all = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage(), checks: 1 });
  assert.ok(await all.append(ev('check', true)), 'a sampling rate of 1 keeps every check');

  // From the engine: a check and an attempt, the attempt with the record's id.
  const e = await Engine.load(v3, base);
  const log = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage() });
  e.onDecision((x) => log.append(x));
  const s = e.session({ id: 'u-alice' });
  s.can('delete', 'customer', { id: 'c-1', owner_id: 'u-alice' });
  s.attempt('delete', 'customer', { id: 'c-1', owner_id: 'u-alice' });
  await new Promise((r) => setTimeout(r, 20));
  const kept = await log.pending();
  assert.deepEqual(kept.map((x) => [x.kind, x.action, x.record, x.allow]), [['attempt', 'delete', 'c-1', false]]);
});

test('the log sends on a timer, when the page is hidden (sendBeacon) and when back online', async () => {
  const sent = [];
  const fetchStub = async (url, init) => {
    sent.push({ url, via: 'fetch', events: JSON.parse(init.body).events });
    return { ok: true, status: 200, headers: { get: () => null } };
  };
  const ev = (at) => ({ subject: 'u-alice', action: 'edit', resource: 'customer', allow: true, version: 3, at, kind: 'attempt' });
  const log = new DecisionLog({ app: 'acme-erp', user: 'u-alice', storage: memoryStorage() });
  // A page: a document that can be hidden, navigator.sendBeacon, online events.
  const doc = new EventTarget();
  doc.visibilityState = 'visible';
  const beacons = [];
  globalThis.document = doc;
  // Node's global is no EventTarget; a page's window is.
  const win = new EventTarget();
  for (const k of ['addEventListener', 'removeEventListener', 'dispatchEvent']) globalThis[k] = win[k].bind(win);
  const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { sendBeacon: (url, blob) => { beacons.push({ url, blob }); return true; } } });
  try {
    const stop = log.start({ url: '/v1/decisions', intervalMs: 30, fetch: fetchStub });
    await log.append(ev(1));
    await new Promise((r) => setTimeout(r, 80));
    assert.ok(sent.some((b) => b.events.some((x) => x.at === 1)), 'the timer sent it');

    await log.append(ev(2));
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(beacons.length, 1, 'hidden: a beacon');
    assert.equal(beacons[0].url, '/v1/decisions');
    assert.deepEqual(JSON.parse(await beacons[0].blob.text()).events.map((x) => x.at), [2]);
    doc.visibilityState = 'visible';
    stop();

    // Stopped: nothing more on a timer; back online sends at once when started again.
    const before = sent.length;
    await log.append(ev(3));
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(sent.length, before, 'stopped');
    const stop2 = log.start({ url: '/v1/decisions', intervalMs: 60_000, fetch: fetchStub });
    await new Promise((r) => setTimeout(r, 5));
    const n = sent.length;
    await log.append(ev(4));
    globalThis.dispatchEvent(new Event('online'));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(sent.length > n && sent.at(-1).events.some((x) => x.at === 4), 'online sent it');
    stop2();
    assert.deepEqual(await log.pending(), [], 'everything sent is dropped from the queue');
  } finally {
    delete globalThis.document;
    for (const k of ['addEventListener', 'removeEventListener', 'dispatchEvent']) delete globalThis[k];
    if (nav) Object.defineProperty(globalThis, 'navigator', nav);
  }
});
