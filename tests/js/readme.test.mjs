// Every example in the package README and the repository README runs as written: each fenced
// js/jsx block carries a marker (`<!-- example: node -->` or `<!-- example: browser … -->`),
// node examples run in this project (JSX bundled by esbuild, as an app build would), browser
// examples run in Chromium on a page of a real `fieldgate serve` with the installed package.
// A line `expr; // → value` is checked: the comment is what the code gives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launch, startServer } from './chromium.mjs';

const here = new URL('.', import.meta.url).pathname;
const fg = process.env.FIELDGATE_BIN;
const docs = {
  'pkg-template/README.md': readFileSync(join(here, 'node_modules/fieldgate/README.md'), 'utf8'),
  'README.md': readFileSync(join(here, 'README.repo.md'), 'utf8'),
};

/** The examples of a document: `{ kind, file, lang, code, line }`. */
function examples(text) {
  const out = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  let m;
  while ((m = fence.exec(text))) {
    const lang = m[1];
    if (!['js', 'jsx', 'mjs', 'ts'].includes(lang)) continue;
    const before = text.slice(0, m.index).trimEnd().split('\n').pop();
    const marker = /^<!-- example: (node|browser)(?: file=(\S+))?(?: \((.*)\))? -->$/.exec(before);
    const line = text.slice(0, m.index).split('\n').length + 1;
    out.push({ kind: marker?.[1], file: marker?.[2], note: marker?.[3] ?? '', lang, code: m[2], line });
  }
  return out;
}

/** `expr; // → value` lines become checks (a trailing `(…)` after the value is a remark). */
function withChecks(code, where) {
  return code.split('\n').map((l, i) => {
    const m = /^(\s*)(.+?);\s*\/\/ → (.+)$/.exec(l);
    if (!m) return l;
    let expected = m[3].trim();
    const parses = (t) => { try { new Function(`return (${t});`); return true; } catch { return false; } };
    if (!parses(expected)) expected = expected.replace(/\s+\([^()]*\)$/, '');
    assert.ok(parses(expected), `${where}+${i}: the value after → is not a JS value: ${m[3]}`);
    return `${m[1]}__expect(${JSON.stringify(`${where}+${i}`)}, (${m[2]}), (${expected}));`;
  }).join('\n');
}

/** Structural equality of JSON-like values, the same in Node and in the page. */
const EXPECT = `
function __same(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && __same(a[k], b[k]));
}
function __expect(where, got, want) {
  if (!__same(got, want)) throw new Error(where + ': got ' + JSON.stringify(got) + ', the comment says ' + JSON.stringify(want));
}
`;

let server;
let origin;
let token;
const work = mkdtempSync(join(here, 'readme-'));

before(async () => {
  assert.ok(fg, 'FIELDGATE_BIN names the fieldgate binary');
  const data = join(mkdtempSync(join(tmpdir(), 'fieldgate-readme-')), 'data');
  const www = mkdtempSync(join(tmpdir(), 'fieldgate-www-'));
  server = startServer(here, fg, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--www', www, '--pkg', join(here, 'node_modules/fieldgate')]);
  origin = await server.url;
  token = execFileSync(fg, ['service', 'add', 'readme', '--data', data], { encoding: 'utf8' }).trim();
  // The repository README's commands, as a reader runs them before its JS example.
  execFileSync(fg, ['keygen', '--out-dir', join(work, 'keys')]);
  execFileSync(fg, ['sign', '--key', join(work, 'keys/signing.key'), '--policy', join(here, 'acme-erp.policy.json'), '--out', join(work, 'bundle.json'), '--expires-in', '30d']);
  await new Promise((r) => setTimeout(r, 600)); // the server reads new credentials within 0.5 s
});

after(() => server?.stop());

for (const [doc, text] of Object.entries(docs)) {
  const all = examples(text);
  test(`${doc}: every js example is marked to run`, () => {
    assert.ok(all.length > 0);
    for (const e of all) assert.ok(e.kind, `${doc}:${e.line}: a js example without <!-- example: node|browser -->`);
  });
  for (const e of all.filter((x) => x.kind)) {
    const where = `${doc}:${e.line}`;
    test(`${where} runs (${e.kind}${e.note ? `, ${e.note}` : ''})`, { timeout: 120000 }, async () => {
      const code = withChecks(e.code, where);
      if (e.kind === 'node') await runNode(e, code, where);
      else await runBrowser(e, code);
    });
  }
}

async function runNode(e, code, where) {
  const name = e.file ?? `example-${e.line}.mjs`;
  const source = join(work, e.lang === 'jsx' ? `example-${e.line}.jsx` : name);
  writeFileSync(source, `${EXPECT}\n${code}`);
  if (e.lang === 'jsx') {
    // As an app build would: JSX compiled, packages bundled from their ESM builds.
    await build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', jsx: 'automatic', mainFields: ['module', 'main'],
      outfile: join(work, name), logLevel: 'error', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  }
  const env = { ...process.env, FIELDGATE_URL: origin.replace(/\/$/, ''), FIELDGATE_TOKEN: token };
  const r = spawnSync(process.execPath, [join(work, name)], { cwd: work, env, encoding: 'utf8', timeout: 90000 });
  assert.equal(r.status, 0, `${where}:\n${r.stdout}\n${r.stderr}`);
}

async function runBrowser(e, code) {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.route(`${origin}__example.html`, (r) => r.fulfill({ contentType: 'text/html', body:
      '<!doctype html><meta charset="utf-8"><script type="importmap">{ "imports": { "fieldgate": "/pkg/index.js" } }</script>'
      + '<script type="module" src="/__example.js"></script>' }));
    // Imports stay at the top; the rest runs in a try block (top-level await works there).
    const lines = code.split('\n');
    const imports = lines.filter((l) => /^import .* from '[^']+';$/.test(l));
    const rest = lines.filter((l) => !imports.includes(l));
    const body = `${imports.join('\n')}\n${EXPECT}\ntry {\n${rest.join('\n')}\nwindow.__done = true;\n} catch (err) { window.__failed = String(err && err.stack || err); }`;
    await page.route(`${origin}__example.js`, (r) => r.fulfill({ contentType: 'text/javascript', body }));
    await page.goto(`${origin}v1/config`);
    if (/logged in as (u-\w+)/.test(e.note)) {
      const user = /logged in as (u-\w+)/.exec(e.note)[1];
      const status = await page.evaluate((u) => fetch('/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: u }) }).then((r) => r.status), user);
      assert.equal(status, 200);
    }
    await page.goto(`${origin}__example.html`);
    await page.waitForFunction(() => window.__done || window.__failed, null, { timeout: 60000 }).catch(() => {});
    const failed = await page.evaluate(() => window.__failed);
    const done = await page.evaluate(() => window.__done);
    assert.equal(failed, undefined, failed);
    assert.equal(done, true, `the example did not finish: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
}
