import type { Session } from '../index.js';
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
/** formData to render: the session's `redact` of the record. */
export declare function formData<T extends Obj>(record: T | null | undefined, source: Session, options: RjsfOptions & { resource: string }): Partial<T>;
/** What to submit: the session's `writable` of the data. */
export declare function submitData<T extends Obj>(data: T, source: Session, options: RjsfOptions & { resource: string }): Partial<T>;
/** `{ uiSchema, formData }` for `<Form>`. */
export declare function rjsfProps(source: Session, options: RjsfOptions & { resource: string }): { uiSchema: Obj; formData: Obj };
