import type { ReactNode, ReactElement } from 'react';
import type { Engine, FieldState, Mode, Session, Subject } from '../index.js';
type Obj = Record<string, unknown>;
/** Provides a session for `subject` (by default the person a per-user bundle carries); re-renders when the engine loads a new bundle. */
export declare function FieldgateProvider(props: { engine: Engine; subject?: Subject; children?: ReactNode }): ReactElement;
/** The current session. */
export declare function useSession(): Session;
/** Whether the action is allowed. */
export declare function useCan(action: string, resource: string, record?: Obj | null, context?: Obj | null): boolean;
/** Field states in `mode`. */
export declare function useFields(resource: string, mode: Mode, record?: Obj | null, context?: Obj | null): Record<string, FieldState>;
/** Renders `children` when allowed, else `fallback`. */
export declare function Can(props: { action: string; resource: string; record?: Obj | null; context?: Obj | null; fallback?: ReactNode; children?: ReactNode }): ReactNode;
