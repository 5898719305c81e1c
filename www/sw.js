// The demo's service worker: the app shell from cache when the network is gone, data and
// user lists network-first with the last answer as fallback. The last *verified* bundle is kept
// by the page's BundleStore (IndexedDB), never trusted from here.
const SHELL = 'fieldgate-shell-v1';
const DATA = 'fieldgate-data-v1';
const SHELL_FILES = ['/', '/index.html', '/style.css', '/manifest.json', '/dist/form.js', '/dist/fieldgate_wasm_bg.wasm'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

async function networkFirst(req, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const res = await fetch(req);
    if (res.ok) await cache.put(req, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(req, { ignoreVary: true });
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname === '/v1/events' || url.pathname.includes('/bundle')) return;
  if (url.pathname.startsWith('/v1/')) { e.respondWith(networkFirst(e.request, DATA)); return; }
  e.respondWith(networkFirst(e.request, SHELL).catch(() => caches.match('/index.html')));
});
