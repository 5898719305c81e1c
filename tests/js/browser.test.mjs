// The package in headless Chromium: a plain <script type="module"> page, and BundleStore on
// real IndexedDB across a reload with the network gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('.', import.meta.url).pathname;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

test('plain module page and IndexedDB store in Chromium', async () => {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = path === '/' ? 'browser-page.html' : path.slice(1);
    try {
      const body = await readFile(join(root, file));
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const userDataDir = await mkdtemp(join(tmpdir(), 'fieldgate-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
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
