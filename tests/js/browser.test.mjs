// The package in headless Chromium: a plain <script type="module"> page, and BundleStore on
// real IndexedDB across a reload with the network gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
    assert.deepEqual(first, { version: 3, canEditOwn: true, phone: 'masked', refused: 'unknown_key', storeVersion: 4, highest: 4 });
    await page.goto(url + '?offline');
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const again = await page.evaluate(() => window.result);
    assert.equal(again.storeVersion, 4, 'started offline from IndexedDB');
    assert.equal(again.highest, 4);
  } finally {
    await browser.close();
    server.close();
  }
});
