// Shared by the browser tests: a static file server and headless Chromium with the flags this
// machine needs (never a downloaded browser) and a fresh profile.
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { chromium } from 'playwright-core';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Serves the file `fileFor(pathname)` names; returns `{ url, close }`. */
export async function serve(fileFor) {
  const server = createServer(async (req, res) => {
    const file = fileFor(new URL(req.url, 'http://x').pathname);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** Headless Chromium with a fresh user-data dir (a persistent context, so IndexedDB persists). */
export async function launch() {
  const userDataDir = await mkdtemp(join(tmpdir(), 'fieldgate-chromium-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Opens `url` in Chromium and returns what the page computed; the URLs it (and its workers)
 * requested go into `requested` when given. */
export async function resultAt(url, requested = []) {
  const browser = await launch();
  try {
    browser.on('request', (r) => requested.push(r.url()));
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60000 });
    const result = await page.evaluate(() => window.result);
    return errors.length ? { ...result, pageErrors: errors } : result;
  } finally {
    await browser.close();
  }
}

/** Starts `command` in `cwd`, resolves with the first URL it prints (and the process). */
export function startServer(cwd, command, args, env = {}) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = new Promise((resolve, reject) => {
    const look = (chunk) => {
      log += chunk;
      // eslint-disable-next-line no-control-regex
      const m = /(http:\/\/(?:localhost|127\.0\.0\.1):\d+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) resolve(m[1] + '/');
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${log}`)));
  });
  return { url, child, log: () => log, stop: () => child.kill('SIGTERM') };
}

