import type { FieldState, Mode, Session } from '../index.js';
/** What every adapter accepts: a session (with `resource`, `mode`, `record`) or `s.fields()`'s output. */
export type StateSource = Session | Record<string, FieldState>;
/** Which form, when the source is a session. */
export interface SourceOptions {
  resource?: string;
  mode?: Mode;
  record?: Record<string, unknown> | null;
  context?: Record<string, unknown> | null;
}
