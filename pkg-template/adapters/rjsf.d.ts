import type { SourceOptions, StateSource } from './states.js';
type Obj = Record<string, unknown>;
/** Options of the rjsf adapter. */
export interface RjsfOptions extends SourceOptions {
  /** A uiSchema to merge into. */
  uiSchema?: Obj;
  /** The JSON schema, so fields inside arrays land under `items`. */
  schema?: Obj;
  /** Read-only as `ui:readonly` (default) or `ui:disabled`. */
  readonlyAs?: 'readonly' | 'disabled';
}
/** A uiSchema from the states. */
export declare function uiSchema(source: StateSource, options?: RjsfOptions): Obj;
/** formData to render: hidden properties stripped, masked values masked. */
export declare function formData<T extends Obj>(record: T | null | undefined, source: StateSource, options?: RjsfOptions): Partial<T>;
/** Only the editable fields. */
export declare function submitData<T extends Obj>(data: T, source: StateSource, options?: RjsfOptions): Partial<T>;
/** `{ uiSchema, formData }` for `<Form>`. */
export declare function rjsfProps(source: StateSource, options?: RjsfOptions): { uiSchema: Obj; formData: Obj };
