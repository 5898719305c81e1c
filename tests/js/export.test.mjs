// The package's exportRows and the server's export, on the sample data: the same records,
// columns and cells for each user (both assemble the same engine answers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from 'fieldgate';
import { startServer } from './chromium.mjs';

const here = new URL('.', import.meta.url).pathname;
const data = JSON.parse(readFileSync(join(here, 'acme-erp.data.json'), 'utf8'));
let server;
let origin;

before(async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fieldgate-export-')), 'data');
  server = startServer(here, process.env.FIELDGATE_BIN, ['serve', '--addr', '127.0.0.1:0', '--data', dir, '--www', tmpdir(), '--pkg', tmpdir()]);
  origin = (await server.url).replace(/\/$/, '');
});
after(() => server?.stop());

/** CSV text into rows (the server's CSV: a BOM, quoted cells). */
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else if (c !== '\r') cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

const text = (v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

for (const user of ['u-bob', 'u-carol', 'u-heidi', 'u-grace']) {
  test(`exportRows agrees with GET /v1/data/customer/export for ${user}`, async () => {
    const login = await fetch(`${origin}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ user }) });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie').split(';')[0];
    const me = await login.json();
    const res = await fetch(`${origin}/v1/data/customer/export`, { headers: { cookie } });
    assert.equal(res.status, 200, await res.clone().text());
    const fromServer = parseCsv(await res.text());

    const bundle = await fetch(`${origin}/v1/apps/acme-erp/bundle?for=me`, { headers: { cookie } });
    const config = await (await fetch(`${origin}/v1/config`)).json();
    const engine = await Engine.load(new Uint8Array(await bundle.arrayBuffer()), { trustedKeys: config.trusted_keys, user: me.id });
    // The session of the person the bundle was signed for (`me` as the login answers it says
    // less of them: no reporting line).
    const local = engine.session().exportRows('customer', data.records.customer);
    assert.deepEqual(fromServer[0], local.columns);
    assert.deepEqual(fromServer.slice(1), local.rows.map((r) => r.map(text)));
    assert.ok(local.rows.length > 0);
  });
}
