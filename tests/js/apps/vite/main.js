// What `npm create vite` + `npm i fieldgate` + the README example gives: the page and a worker
// each load a bundle with the engine (no Vite config at all).
import { Engine } from 'fieldgate';

const text = async (p) => (await fetch(p)).text();
const fromWorker = new Promise((resolve) => {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (m) => resolve(m.data);
  worker.onerror = (e) => resolve({ error: e.message || 'worker failed' });
});
try {
  const key = (await text('/bundles/trusted/signing.pub')).trim();
  const engine = await Engine.load(await text('/bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
  const s = engine.session({ id: 'u-alice' });
  window.result = { version: engine.version, canEditOwn: s.can('edit', 'customer', { owner_id: 'u-alice' }), worker: await fromWorker };
} catch (e) {
  window.result = { error: String((e && e.stack) || e) };
}
document.getElementById('out').textContent = JSON.stringify(window.result);
