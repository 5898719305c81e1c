// The package in a Next.js app with no config (scripts/test-js.sh installs it under apps/next):
// a server component loads a signed bundle and redacts with the engine, a client component uses
// it in the browser. Production (`next build` + `next start`) and `next dev`, with Turbopack
// (Next's default) and with webpack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch, startServer } from './chromium.mjs';

const dir = join(new URL('.', import.meta.url).pathname, 'apps', 'next');
const next = join(dir, 'node_modules/.bin/next');
const env = { NEXT_TELEMETRY_DISABLED: '1' };

/** What the server and the client component rendered at `url`. */
async function rendered(url) {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('#client')?.textContent !== 'loading', null, { timeout: 120000 });
    return {
      server: JSON.parse(await page.textContent('#server')),
      client: await page.textContent('#client'),
      html: await page.content(),
    };
  } finally {
    await browser.close();
  }
}

function check({ server, client, html }, how) {
  assert.equal(server.phone, '137****4444', `${how}: masked on the server`);
  assert.equal('credit_limit' in server, false, `${how}: hidden on the server`);
  assert.doesNotMatch(html, /150000|13755554444/, `${how}: hidden and raw values never reach the page`);
  assert.ok(!client.startsWith('error'), `${how}: ${client}`);
  assert.equal(JSON.parse(client).phone, 'masked', `${how}: the client component decides too`);
}

for (const bundler of ['turbopack', 'webpack']) {
  const flag = bundler === 'webpack' ? ['--webpack'] : [];
  test(`next build + next start (${bundler})`, { timeout: 600000 }, async () => {
    execFileSync(next, ['build', ...flag], { cwd: dir, env: { ...process.env, ...env }, stdio: 'pipe' });
    const server = startServer(dir, next, ['start', '-H', '127.0.0.1', '-p', '0'], env);
    try {
      check(await rendered(await server.url), `${bundler} production`);
    } finally {
      server.stop();
    }
  });

  test(`next dev (${bundler})`, { timeout: 600000 }, async () => {
    const server = startServer(dir, next, ['dev', ...flag, '-H', '127.0.0.1', '-p', '0'], env);
    try {
      check(await rendered(await server.url), `${bundler} dev`);
    } finally {
      server.stop();
    }
  });
}
