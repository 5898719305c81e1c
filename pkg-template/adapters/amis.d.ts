import type { SourceOptions, StateSource } from './states.js';
/** Options of the amis adapter. */
export interface AmisOptions extends SourceOptions {
  /** Read-only as `static` (default) or `disabled`. */
  readonlyAs?: 'static' | 'disabled';
}
/** A copy of an amis schema with `hidden` + `clearValueOnHidden`, `static`/`disabled` and masked values. */
export declare function applyAmis<T>(schema: T, source: StateSource, options?: AmisOptions): T;
