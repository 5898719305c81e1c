// @ts-check
// Loading the wasm module: once, from wherever the app's setup serves it. Browsers and bundlers
// fetch `fieldgate_wasm_bg.wasm` next to this file: it reads binary bundles, which come compiled
// (`fieldgate_wasm_full_bg.wasm` also compiles JSON ones, and checks signatures itself); the Node entry (`node.js`) hands over the
// module's bytes from inside the package instead, so no file path or URL has to survive a
// server bundle (Next.js) and no Node version needs `fetch` of `file:` URLs.

import wasmInit, { initSync } from './fieldgate_wasm.js';
import { FieldgateError } from './errors.js';
import { webCryptoHasEd25519 } from './signatures.js';

let source = null;
let exports = null;
let loading = null;

/** The instance's exports once loaded (its memory is where slot values and states cross). */
export const instance = () => exports;

/** Registers where the module's bytes come from when nobody says (the Node entry does). */
export function setWasmSource(bytes) {
  source = bytes;
}

/**
 * Loads the wasm module once. `Engine.load` calls it for you; call it yourself only to host the
 * .wasm elsewhere (a URL, a Response, bytes or a WebAssembly.Module). `{ json: true }`: the
 * bundles are JSON, so the module fetched next to this file is the one that compiles JSON
 * (`fieldgate_wasm_full_bg.wasm`); binary bundles need only the smaller one.
 */
export async function init(input, { json = false } = {}) {
  if (exports) return;
  loading ??= (async () => {
    const module = input ?? (source ? source() : await fetchModule(json));
    const bytesOrModule = module instanceof WebAssembly.Module || module instanceof ArrayBuffer || ArrayBuffer.isView(module);
    if (source && bytesOrModule) {
      // Node: compiled off the main thread, then instantiated here. The glue's own path asks
      // for the global `Request` and `Response`, whose first use loads Node's fetch (undici):
      // 20 ms of a first `Engine.load` that never fetches.
      const compiled = module instanceof WebAssembly.Module ? module : await WebAssembly.compile(/** @type {BufferSource} */ (module));
      exports = initSync({ module: compiled });
    } else {
      exports = await wasmInit({ module_or_path: module });
    }
  })().catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

/**
 * Starts fetching and compiling the module now, without waiting, so that its download overlaps
 * the app's own requests (its login, its bundle) instead of following them: call it as early as
 * the page runs, or put `<link rel="preload" href="…/fieldgate_wasm_bg.wasm" as="fetch"
 * crossorigin>` in the page's head. `Engine.load` then finds the module ready (or in flight).
 * A failure is not thrown here: the next `init` or `Engine.load` tries again and reports it.
 */
export function preload(input, options) {
  init(input, options).catch(() => {});
}

/** Loads the module now from `bytes` (or the registered source); for synchronous starts. */
export function initNow(bytes) {
  if (exports) return;
  const b = bytes ?? (source ? source() : null);
  if (!b) {
    throw new FieldgateError('not_initialized', 'call `await init()` (or use Engine.load) before synchronous use in a browser');
  }
  exports = initSync({ module: b });
}

/**
 * The module from next to this file. Vite's dev server moves this file into
 * `node_modules/.vite/deps/` but not the .wasm: from there the package's own copy is asked
 * first (one request, not a failed one and then another). Should a setup answer for a missing
 * file with its index.html, that is noticed (no wasm magic) and the next place is tried.
 */
async function fetchModule(json) {
  // Literals, so bundlers see the assets (a computed name makes Vite import the whole folder).
  // A browser without Ed25519 in WebCrypto, or starting from a JSON bundle, takes the module
  // that checks signatures itself and compiles JSON.
  const here = !json && await webCryptoHasEd25519()
    ? new URL('./fieldgate_wasm_bg.wasm', import.meta.url)
    : new URL('./fieldgate_wasm_full_bg.wasm', import.meta.url);
  const tried = [];
  const file = here.pathname.slice(here.pathname.lastIndexOf('/') + 1);
  const candidates = here.pathname.includes('/.vite/deps/')
    ? [new URL('../../fieldgate/' + file, here), here]
    : [here];
  for (const url of candidates) {
    const found = await compileFrom(url, tried);
    if (found) return found;
  }
  throw new FieldgateError('wasm_not_found', `fieldgate could not load ${file} (${tried.join('; ')}). `
    + 'Vite: add `optimizeDeps: { exclude: [\'fieldgate\'] }` to vite.config.js. '
    + 'webpack and Next.js serve it as an asset with no setting. '
    + 'A page with an import map: map "fieldgate" to the package folder, or call '
    + '`await init(\'/path/to/fieldgate_wasm_bg.wasm\')` first.');
}

/** A compiled module from `url`, or null (with why in `tried`) when it is not a wasm file. */
async function compileFrom(url, tried) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    tried.push(`${url}: ${e.message}`);
    return null;
  }
  const type = res.headers.get('content-type') || '';
  if (res.ok && type.startsWith('application/wasm') && WebAssembly.compileStreaming) {
    return WebAssembly.compileStreaming(res);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const magic = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!res.ok || !magic) {
    tried.push(`${url} answered ${res.status} ${type || 'without a type'}, not a wasm module`);
    return null;
  }
  return WebAssembly.compile(bytes);
}
