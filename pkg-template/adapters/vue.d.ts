import type { App, ComputedRef, MaybeRef, ShallowRef } from 'vue';
import type { Engine, FieldState, Mode, Session, Subject } from '../index.js';
type Obj = Record<string, unknown>;
/** What the plugin provides. */
export interface FieldgateApi {
  engine: Engine;
  session: ShallowRef<Session>;
  setSubject(subject: Subject): void;
}
/** The plugin: `app.use(createFieldgate({ engine, subject }))`; registers `v-can`. */
export declare function createFieldgate(options: { engine: Engine; subject?: MaybeRef<Subject> }): FieldgateApi & { install(app: App): void };
/** The plugin's API inside a component. */
export declare function useFieldgate(): FieldgateApi;
/** Field states, reactive to arguments and bundle updates. */
export declare function useFields(resource: MaybeRef<string>, mode: MaybeRef<Mode>, record?: MaybeRef<Obj | null | undefined>, context?: MaybeRef<Obj | null | undefined>, api?: FieldgateApi): ComputedRef<Record<string, FieldState>>;
/** Whether an action is allowed, reactive. */
export declare function useCan(action: MaybeRef<string>, resource: MaybeRef<string>, record?: MaybeRef<Obj | null | undefined>, context?: MaybeRef<Obj | null | undefined>, api?: FieldgateApi): ComputedRef<boolean>;
