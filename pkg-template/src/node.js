// fieldgate for Node (and Node-targeted server bundles such as Next.js server components): the
// same API, with the wasm module's bytes taken from inside the package (`wasm-node.js`), so no
// file path, URL or `fetch` of a `file:` URL is needed on any Node version.

import { setWasmSource } from './wasm.js';
import { wasmBytes } from './wasm-node.js';

setWasmSource(wasmBytes);

export * from './index.js';
