// @ts-check
// fieldgate for Node (and Node-targeted server bundles such as Next.js server components): the
// same API, with the wasm module's bytes taken from inside the package (`wasm-node.js`), so no
// file path, URL or `fetch` of a `file:` URL is needed on any Node version; signatures are
// checked by node:crypto.

import { createPublicKey, verify } from 'node:crypto';
import { setWasmSource } from './wasm.js';
import { setSyncCheck } from './signatures.js';
import { wasmBytes } from './wasm-node.js';

setWasmSource(wasmBytes);
// Signatures checked by node:crypto, synchronously (so `Engine.loadSync` works as in a browser
// with the `_full` module).
const keys = new Map();
setSyncCheck((publicKey, message, signature) => {
  const x = Buffer.from(publicKey).toString('base64url');
  let key = keys.get(x);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    } catch {
      key = null;
    }
    keys.set(x, key);
  }
  try {
    return key !== null && verify(null, message, key, signature);
  } catch {
    return false;
  }
});

export * from './index.js';
