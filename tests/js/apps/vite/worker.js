// The engine in a module worker of the Vite app (no top-level await: Vite builds workers as
// classic scripts by default).
import { Engine } from 'fieldgate';

const text = async (p) => (await fetch(p)).text();
(async () => {
  const key = (await text('/bundles/trusted/signing.pub')).trim();
  const engine = await Engine.load(await text('/bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
  postMessage({ version: engine.version, phone: engine.session({ id: 'u-alice' }).fields('customer', 'view', { owner_id: 'u-bob' }).phone });
})().catch((e) => postMessage({ error: String((e && e.stack) || e) }));
