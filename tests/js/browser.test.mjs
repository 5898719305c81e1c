// The package in headless Chromium: a plain <script type="module"> page, BundleStore on real
// IndexedDB across a reload with the network gone, and a page whose CSP forbids eval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Engine } from 'fieldgate';
import { serve, launch } from './chromium.mjs';

const root = new URL('.', import.meta.url).pathname;

test('plain module page and IndexedDB store in Chromium', async () => {
  const server = await serve((path) => join(root, path === '/' ? 'browser-page.html' : path.slice(1)));
  const url = server.url;
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const first = await page.evaluate(() => window.result);
    assert.equal(first.error, undefined, first.error);
    assert.deepEqual(first, { version: 3, canEditOwn: true, phone: 'masked', refused: 'untrusted_key', alias: 'unknown_key', storeVersion: 4, highest: 4, wasm: ['fieldgate_wasm_full_bg.wasm'] });
    await page.goto(url + '?offline');
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const again = await page.evaluate(() => window.result);
    assert.equal(again.storeVersion, 4, 'started offline from IndexedDB');
    assert.equal(again.highest, 4);
    // Binary first: only the browser's smaller module is downloaded, and it decides the same.
    const fresh = await browser.newPage();
    await fresh.goto(url + '?binary');
    await fresh.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const binary = await fresh.evaluate(() => window.result);
    assert.equal(binary.error, undefined, binary.error);
    assert.deepEqual(binary, { version: 4, canEditOwn: true, phone: 'masked', refused: 'needs_full_module', alias: undefined, storeVersion: 4, highest: 4, wasm: ['fieldgate_wasm_bg.wasm'] });
  } finally {
    await browser.close();
    server.close();
  }
});

test('under a CSP without eval the package works, and tries code generation once', async () => {
  const server = await serve((path) => join(root, path === '/' ? 'csp-page.html' : path.slice(1)));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const got = await page.evaluate(() => window.result);
    assert.equal(got.error, undefined, got.error);
    assert.equal(got.evalRefused, true, 'the page must forbid eval');
    // The same answers as in Node, where code generation is allowed.
    const read = (p) => readFileSync(join(root, p), 'utf8');
    const engine = await Engine.load(read('bundles/v3.json'), { trustedKeys: [read('bundles/trusted/signing.pub').trim()], app: 'acme-erp' });
    const s = engine.session({ id: 'u-alice' });
    assert.deepEqual(got.customer, s.fields('customer', 'view', { owner_id: 'u-bob' }));
    assert.deepEqual(got.order, s.fields('inbound_order', 'edit', { created_by: 'u-alice', status: 'draft' }));
    assert.deepEqual(got.again, got.customer);
    assert.equal(got.customer.phone, 'masked');
    // One refused attempt by fieldgate (two resources built), one by the page's own probe.
    assert.ok(got.violations.length <= 2, JSON.stringify(got.violations));
  } finally {
    await browser.close();
    server.close();
  }
});
