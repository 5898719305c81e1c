import type { SourceOptions, StateSource } from './states.js';
/** Options of the amis adapter. */
export interface AmisOptions extends SourceOptions {
  /** Read-only as `static` (default) or `disabled`. */
  readonlyAs?: 'static' | 'disabled';
}
/** A copy of an amis schema with `hidden` + `clearValueOnHidden`, `static`/`disabled` and masked values; a form's `data` becomes the session's `redact` of it (a schema with form data needs a session). */
export declare function applyAmis<T>(schema: T, source: StateSource, options?: AmisOptions): T;
