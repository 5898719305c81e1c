// Runs in csp-page.html: the package under `script-src 'self' 'wasm-unsafe-eval'` (no eval).
import { Engine } from '/node_modules/fieldgate/index.js';

const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.blockedURI));
const text = async (p) => (await fetch(p)).text();
const result = {};
try {
  const key = (await text('/bundles/trusted/signing.pub')).trim();
  const engine = await Engine.load(await text('/bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
  const s = engine.session({ id: 'u-alice' });
  result.customer = s.fields('customer', 'view', { owner_id: 'u-bob' });
  result.order = s.fields('inbound_order', 'edit', { created_by: 'u-alice', status: 'draft' });
  result.again = s.fields('customer', 'view', { owner_id: 'u-bob' });
  try {
    new Function('');
    result.evalRefused = false;
  } catch {
    result.evalRefused = true;
  }
  await new Promise((r) => setTimeout(r, 100));
  result.violations = violations;
} catch (e) {
  result.error = String((e && e.stack) || e);
}
window.result = result;
document.getElementById('out').textContent = JSON.stringify(result);
