// What the end-to-end tests share: a `fieldgate serve` per test on a free loopback port with
// a temporary data dir, headless Chromium (Debian's, through playwright-core), pages that
// carry what they printed into a failure, and screenshots at desktop size and at 390x844.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const root = new URL('../../', import.meta.url).pathname;
export const artifacts = join(root, 'target/e2e-artifacts');
await mkdir(artifacts, { recursive: true });
export const policy = JSON.parse(await readFile(join(root, 'examples/acme-erp.policy.json'), 'utf8'));

/** Starts `fieldgate serve` on `addr` with `data`; resolves to the process and its URL. */
async function spawnServer(addr, data, extra) {
  const child = spawn(join(root, 'target/release/fieldgate'), ['serve', '--addr', addr, '--data', data, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    lines.on('line', (l) => { const m = l.match(/listening on (http:\/\/\S+)/); if (m) resolve(m[1]); });
    child.on('exit', () => reject(new Error('server exited')));
  });
  return { child, url };
}

/** A server on a fresh data dir: its URL, admin token, a way to publish a document, and a
 * restart (SIGTERM, then the same port and data, as a deployment does). */
export async function server(extra = []) {
  const data = await mkdtemp(join(tmpdir(), 'fieldgate-e2e-'));
  let { child, url } = await spawnServer('127.0.0.1:0', data, extra);
  const token = (await readFile(join(data, 'admin.token'), 'utf8')).trim();
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null, text };
  };
  const publish = async (doc) => {
    const r = await call('POST', '/v1/apps/acme-erp/policy', doc);
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const restart = async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    ({ child } = await spawnServer(new URL(url).host, data, extra));
  };
  return { url, token, data, call, publish, restart, stop: () => child.kill() };
}

/** A fresh Chromium profile; `options` go to the context (`{ serviceWorkers: 'block' }`). */
export async function browser(options = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-chromium-'));
  return chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
}

/** Runs `fn` with a fresh server and browser; a failure carries what the pages printed. */
export async function withBrowser(fn, { options, serverArgs } = {}) {
  const s = await server(serverArgs);
  const ctx = await browser(options);
  const printed = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') printed.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => printed.push(`pageerror: ${e.message}`));
    return page;
  };
  try {
    await fn({ ctx, s, open: async (path) => { const p = watch(await ctx.newPage()); await p.goto(`${s.url}${path}`); return p; } });
  } catch (e) {
    if (printed.length) e.message += `\nthe pages printed:\n${printed.join('\n')}`;
    throw e;
  } finally {
    await ctx.close();
    s.stop();
  }
}

/** Keeps a screenshot at desktop size and at 390x844 (restoring the size after), and checks
 * that the phone-sized page does not scroll sideways. */
export async function shots(page, name) {
  const size = page.viewportSize();
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(artifacts, `${name}-phone.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  await page.setViewportSize(size);
  assert.equal(overflow, false, `${name}: no sideways scrolling at 390x844`);
}

export const pick = async (page, label, value) => page.getByLabel(label, { exact: true }).selectOption(value);
