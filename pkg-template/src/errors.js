// @ts-check
// Errors: every error the package throws is a FieldgateError with a stable `code` (the same
// codes as the Rust crate and the server), and this is the one place wasm errors become one.

/** An error with a stable `code` (and `path` for policy mistakes). */
export class FieldgateError extends Error {
  // Its name survives minification (stack traces and the console show it).
  static name = 'FieldgateError';
  constructor(code, message, path, errors, alias) {
    super(message);
    this.name = 'FieldgateError';
    this.code = code;
    if (path !== undefined && path !== null) this.path = path;
    if (errors !== undefined && errors !== null) this.errors = errors;
    // A code's former name, kept one release (`unknown_key` for `untrusted_key`).
    if (alias !== undefined && alias !== null) this.alias = alias;
  }
}

/** Rethrows what a wasm call threw as a FieldgateError. */
export function rethrow(e) {
  if (e instanceof FieldgateError) throw e;
  if (typeof e === 'string' && e.startsWith('{')) {
    try {
      e = JSON.parse(e);
    } catch {
      // not one of ours: reported as internal below
    }
  }
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    throw new FieldgateError(e.code, e.message, e.path, e.errors, e.alias);
  }
  throw new FieldgateError('internal', String(e && e.message ? e.message : e));
}

/** Runs a wasm call, turning what it throws into a FieldgateError. */
export function call(f) {
  try {
    return f();
  } catch (e) {
    return rethrow(e);
  }
}
