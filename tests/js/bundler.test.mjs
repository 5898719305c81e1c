// The package through a bundler: a Vite production build of an app that imports 'fieldgate'
// (the .wasm becomes a hashed asset), run in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { build } from 'vite';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

test('a Vite build of an app importing fieldgate runs in Chromium', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'fieldgate-vite-'));
  await build({ root: join(here, 'vite-app'), logLevel: 'error', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = path === '/' ? join(outDir, 'index.html')
      : path.startsWith('/bundles/') ? join(here, path) : join(outDir, path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    assert.deepEqual(await page.evaluate(() => window.result), { version: 3, canEditOwn: true });
  } finally {
    await browser.close();
    server.close();
  }
});
