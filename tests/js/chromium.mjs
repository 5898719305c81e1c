// Shared by the browser tests: a static file server and headless Chromium with the flags this
// machine needs (never a downloaded browser) and a fresh profile.
import { createServer } from 'node:http';
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
