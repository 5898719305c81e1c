// @ts-check
// fieldgate: field- and action-level permissions from a signed policy bundle, decided by the
// WebAssembly evaluator. This file only re-exports: engine.js (Engine), session.js (Session),
// marshal.js (what they hand the module), errors.js, store.js (BundleStore), decision-log.js
// (DecisionLog), storage.js (where they keep things), wasm.js (loading the module).

export { Engine, STATES, init, preload } from './engine.js';
export { Session } from './session.js';
export { FieldgateError } from './errors.js';
export { BundleStore } from './store.js';
export { DecisionLog } from './decision-log.js';
export { memoryStorage } from './storage.js';
