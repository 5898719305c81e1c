// fieldgate: field- and action-level permissions from a signed policy bundle, decided by the
// WebAssembly evaluator. This file only re-exports: engine.js (Engine, Session), errors.js,
// store.js (BundleStore, DecisionLog), wasm.js (loading the module).

export { Engine, Session, STATES, init } from './engine.js';
export { FieldgateError } from './errors.js';
export { BundleStore, DecisionLog, memoryStorage } from './store.js';
