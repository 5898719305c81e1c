// The package in real client projects, each a fresh app with the packed tarball installed
// (scripts/test-js.sh sets them up under apps/): a stock Vite app in `vite` dev mode and as a
// `vite build`, the same code through webpack 5, each with a module worker, in headless
// Chromium; and plain Node 20.0 (ESM and CommonJS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpack from 'webpack';
import { serve, resultAt, startServer } from './chromium.mjs';

const here = new URL('.', import.meta.url).pathname;
const app = (name) => join(here, 'apps', name);
const expected = { version: 3, canEditOwn: true, worker: { version: 3, phone: 'masked' } };

/** Serves a built app's `outDir` (bundles under /bundles/) and returns what the page computed. */
async function runBuilt(outDir) {
  const server = await serve((path) => (path === '/' ? join(outDir, 'index.html')
    : path.startsWith('/bundles/') ? join(here, path) : join(outDir, path)));
  try {
    return await resultAt(server.url);
  } finally {
    server.close();
  }
}

test('a stock Vite app in dev mode: the page and a module worker load the engine', async () => {
  const dev = startServer(app('vite'), join(app('vite'), 'node_modules/.bin/vite'), ['--host', '127.0.0.1', '--port', '0']);
  try {
    const requested = [];
    const result = await resultAt(await dev.url, requested);
    assert.deepEqual(result, expected, dev.log());
    // The module is fetched from the package, not first from Vite's pre-bundled copy of the
    // JavaScript (where it never is): one request per realm (the page and its worker).
    const wasm = requested.filter((u) => u.endsWith('.wasm'));
    assert.ok(wasm.length >= 1 && wasm.length <= 2, wasm.join('\n'));
    assert.ok(wasm.every((u) => !u.includes('/.vite/deps/')), wasm.join('\n'));
  } finally {
    dev.stop();
  }
});

test('the same app as a vite build runs in Chromium', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'fieldgate-vite-'));
  execFileSync(join(app('vite'), 'node_modules/.bin/vite'), ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: app('vite'), stdio: 'inherit' });
  assert.deepEqual(await runBuilt(outDir), expected);
});

test('a webpack 5 build of the same app runs in Chromium', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'fieldgate-webpack-'));
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production',
    context: app('vite'),
    entry: './main.js',
    output: { path: outDir, filename: 'main.js', publicPath: '/' },
    resolve: { modules: [join(app('vite'), 'node_modules'), 'node_modules'] },
    experiments: { topLevelAwait: true },
  }, (err, s) => (err ? reject(err) : resolve(s))));
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  await writeFile(join(outDir, 'index.html'), '<!doctype html><meta charset="utf-8"><pre id="out"></pre><script src="/main.js"></script>');
  assert.deepEqual(await runBuilt(outDir), expected);
});

test('Node 20.0 (the oldest the package supports): ESM and CommonJS, the adapters through require()', () => {
  const node = join(app('node20'), 'node_modules/node/bin/node');
  const run = (script) => JSON.parse(execFileSync(node, [script, join(here, 'bundles')], { cwd: app('node20'), encoding: 'utf8' }));
  assert.deepEqual(run('check.mjs'), { node: 'v20.0.0', version: 3, canEditOwn: true });
  assert.deepEqual(run('check.cjs'), {
    node: 'v20.0.0',
    version: 3,
    canEditOwn: true,
    adapters: {
      rjsf: { 'ui:readonly': true },
      formily: { name: 'x' },
      amis: 'function',
      react: ['function', 'function'],
      vue: ['function', 'function'],
    },
  });
});

