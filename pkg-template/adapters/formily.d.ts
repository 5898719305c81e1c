import type { FieldState, Session } from '../index.js';
import type { SourceOptions, StateSource } from './states.js';
type Obj = Record<string, unknown>;
/** Options of the Formily adapter. */
export interface FormilyOptions extends SourceOptions {
  /** `x-pattern` for read-only fields (default `readOnly`; e.g. `disabled`). */
  readonlyPattern?: 'readOnly' | 'disabled' | 'readPretty';
}
/** A copy of a Formily JSON schema with `x-display` and `x-pattern` from the states. */
export declare function applyToSchema<T extends Obj>(schema: T, source: StateSource, options?: FormilyOptions): T;
/** Applies the states to a live @formily/core form through `form.setFieldState`. */
export declare function applyToForm(form: { values: unknown; setFieldState(pattern: string, setter: (field: any) => void): void }, source: StateSource, options?: FormilyOptions): Record<string, FieldState>;
/** Initial values: the session's `redact` of the record (hidden fields out, masked values masked). */
export declare function formValues<T extends Obj>(record: T, source: Session, options: FormilyOptions & { resource: string }): Partial<T>;
/** What to submit: the session's `writable` of `values` (only the editable declared fields). */
export declare function submitValues<T extends Obj>(values: T, source: Session, options: FormilyOptions & { resource: string }): Partial<T>;
