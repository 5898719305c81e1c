import { Engine } from 'fieldgate';

const text = async (p) => (await fetch(p)).text();
const key = (await text('/bundles/trusted/signing.pub')).trim();
try {
  const engine = await Engine.load(await text('/bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
  const s = engine.session({ id: 'u-alice' });
  window.result = { version: engine.version, canEditOwn: s.can('edit', 'customer', { owner_id: 'u-alice' }) };
} catch (e) {
  window.result = { error: String(e && e.stack || e) };
}
