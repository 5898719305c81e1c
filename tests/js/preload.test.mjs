// preload(): the module starts loading without anyone waiting, and a failed start leaves
// Engine.load free to try again (its own process: no engine is loaded before it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Engine, init, preload } from 'fieldgate';

const read = (p) => readFileSync(new URL(p, import.meta.url));
const key = read('./bundles/trusted/signing.pub').toString().trim();

test('a preload of bytes that are no module throws nothing; init then takes a Response, and Engine.load works', async () => {
  let unhandled = null;
  process.once('unhandledRejection', (e) => { unhandled = e; });
  assert.equal(preload(new Uint8Array([1, 2, 3, 4])), undefined);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(unhandled, null);
  // In Node too, init takes a Response (the Node entry instantiates bytes itself, not these).
  const wasm = read('./node_modules/fieldgate/fieldgate_wasm_bg.wasm');
  await init(new Response(wasm, { headers: { 'content-type': 'application/wasm' } }));
  // The browser's module reads binary bundles; a JSON one is refused with the way out.
  await assert.rejects(Engine.load(read('./bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' }),
    (err) => err.code === 'needs_full_module' && /fieldgate_wasm_full_bg\.wasm/.test(err.message));
  const e = await Engine.load(read('./bundles/v4.bin'), { trustedKeys: [key], app: 'acme-erp' });
  assert.equal(e.version, 4);
  preload(); // once loaded, a no-op
  assert.equal(e.session({ id: 'u-alice' }).can('edit', 'customer', { owner_id: 'u-alice' }), true);
});
