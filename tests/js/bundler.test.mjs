// The package through bundlers: Vite and webpack production builds of an app that imports
// 'fieldgate' (the .wasm becomes a hashed asset), each run in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import webpack from 'webpack';
import { serve, launch } from './chromium.mjs';

const here = new URL('.', import.meta.url).pathname;

/** Serves `outDir` (and the test bundles) and returns what the page computed. */
async function runInChromium(outDir) {
  const server = await serve((path) => (path === '/' ? join(outDir, 'index.html')
    : path.startsWith('/bundles/') ? join(here, path) : join(outDir, path)));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    return await page.evaluate(() => window.result);
  } finally {
    await browser.close();
    server.close();
  }
}

test('a Vite build of an app importing fieldgate runs in Chromium', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'fieldgate-vite-'));
  await build({ root: join(here, 'vite-app'), logLevel: 'error', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  assert.deepEqual(await runInChromium(outDir), { version: 3, canEditOwn: true });
});

test('a webpack build of the same app runs in Chromium', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'fieldgate-webpack-'));
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production',
    context: here,
    entry: './vite-app/main.js',
    output: { path: outDir, filename: 'main.js', publicPath: '/' },
    experiments: { topLevelAwait: true },
  }, (err, s) => (err ? reject(err) : resolve(s))));
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  await writeFile(join(outDir, 'index.html'), '<!doctype html><meta charset="utf-8"><script src="/main.js"></script>');
  assert.deepEqual(await runInChromium(outDir), { version: 3, canEditOwn: true });
});
