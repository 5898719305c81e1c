// The page shape both peers share: fetch the policy, then decide one form's fields and one
// action for the signed-in person. Here: the package's browser entry, its module preloaded;
// with `?late` not, so the module is fetched when Engine.load first runs, after the bundle
// (how the package loaded before `preload`).
import { Engine, preload } from '/pkg/index.js';

if (!new URL(import.meta.url).searchParams.has('late')) preload();
const key = await (await fetch('/trusted.pub')).text();
// The binary form the server signs for browsers: it comes compiled.
const res = await fetch('/bundle.bin');
const bytes = new Uint8Array(await res.arrayBuffer());
const inHand = performance.now();
const engine = await Engine.load(bytes, { trustedKeys: [key.trim()], app: 'acme-erp' });
const s = engine.session({ id: 'u-alice' });
const record = { owner_id: 'u-alice', phone: '13812345678', credit_limit: 5 };
const fields = s.fields('customer', 'edit', record);
const can = s.can('edit', 'customer', record);
const done = performance.now();
window.result = { first: done, inHand: done - inHand, check: [can, fields.phone] };
