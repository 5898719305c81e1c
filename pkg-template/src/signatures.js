// @ts-check
// A bundle's signatures, checked by the platform: WebCrypto's Ed25519 (every current browser
// and Node) or, in Node, node:crypto synchronously. The module then carries no verifier of its
// own (about 9 KB gzipped less for every user). Which signatures to check and what their
// verdicts mean stay in the module: it lists them (`toCheck`), this checks each, and the
// module's `load` decides (threshold, untrusted keys, and every other check). The `_full`
// module checks them itself, for browsers without Ed25519 in WebCrypto and synchronous loads in
// a browser.

import { WasmEngine } from './fieldgate_wasm.js';
import { call, FieldgateError } from './errors.js';

/** A synchronous Ed25519 check `(publicKey, message, signature) => boolean` (the Node entry's). */
let syncCheck = null;

/** Registers the synchronous check (the Node entry registers node:crypto's). */
export function setSyncCheck(f) {
  syncCheck = f;
}

const fromBase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** The signatures to check and the signed message, from `toCheck`'s packed answer. */
function unpack(packed) {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const n = view.getUint16(0, true);
  const sigs = [];
  let at = 2;
  for (let i = 0; i < n; i++, at += 68) {
    sigs.push({ pos: view.getUint16(at, true), key: view.getUint16(at + 2, true), sig: packed.subarray(at + 4, at + 68) });
  }
  return { sigs, message: packed.subarray(at) };
}

const imported = new Map();

/** The WebCrypto key for a trusted key's base64 (null when WebCrypto refuses it). */
function cryptoKey(b64) {
  let k = imported.get(b64);
  if (!k) {
    k = crypto.subtle.importKey('raw', fromBase64(b64), { name: 'Ed25519' }, false, ['verify']).catch(() => null);
    imported.set(b64, k);
  }
  return k;
}

/**
 * The positions of the signatures that verify, for the module's `load` (`undefined` when the
 * module checks them itself).
 */
export async function checkSignatures(bytes, optionsJson, trustedKeys) {
  if (WasmEngine.checksSignatures()) return undefined;
  if (syncCheck) return checkSignaturesNow(bytes, optionsJson, trustedKeys);
  const { sigs, message } = unpack(call(() => WasmEngine.toCheck(bytes, optionsJson)));
  const ok = [];
  for (const s of sigs) {
    const key = await cryptoKey(trustedKeys[s.key]);
    if (key && await crypto.subtle.verify({ name: 'Ed25519' }, key, s.sig, message).catch(() => false)) ok.push(s.pos);
  }
  return ok;
}

/** `checkSignatures` for a synchronous load: the module's own check, or node:crypto's. */
export function checkSignaturesNow(bytes, optionsJson, trustedKeys) {
  if (WasmEngine.checksSignatures()) return undefined;
  if (!syncCheck) {
    throw new FieldgateError('bad_request', 'a synchronous load in a browser checks signatures in the module: '
      + 'hand over fieldgate_wasm_full_bg.wasm (or use Engine.load)');
  }
  const { sigs, message } = unpack(call(() => WasmEngine.toCheck(bytes, optionsJson)));
  return sigs.filter((s) => syncCheck(fromBase64(trustedKeys[s.key]), message, s.sig)).map((s) => s.pos);
}

// A valid Ed25519 public key (RFC 8032's first test vector), to ask the platform.
const PROBE = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
let probe = null;

/** Whether WebCrypto has Ed25519 here (asked once). */
export function webCryptoHasEd25519() {
  probe ??= (globalThis.crypto?.subtle
    ? crypto.subtle.importKey('raw', fromBase64(PROBE), { name: 'Ed25519' }, false, ['verify']).then(() => true, () => false)
    : Promise.resolve(false));
  return probe;
}
