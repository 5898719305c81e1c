// fieldgate/react: a provider, hooks and <Can>, re-rendering when the engine loads a new bundle.
import { createContext, createElement, useContext, useEffect, useMemo, useState } from 'react';

const Ctx = createContext(null);

/**
 * Provides a session for `subject` from `engine` to its children; without one, for the person a
 * per-user bundle carries (`engine.person`).
 */
export function FieldgateProvider({ engine, subject, children }) {
  const [tick, setTick] = useState(0);
  useEffect(() => engine.onUpdate(() => setTick((t) => t + 1)), [engine]);
  const key = JSON.stringify(subject);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const session = useMemo(() => engine.session(subject), [engine, key, tick]);
  const value = useMemo(() => ({ engine, session, version: engine.version }), [engine, session]);
  return createElement(Ctx.Provider, { value }, children);
}

/** The current session (throws outside a provider). */
export function useSession() {
  const c = useContext(Ctx);
  if (!c) throw new Error('fieldgate/react: use this inside <FieldgateProvider>');
  return c.session;
}

/** Whether the action is allowed. */
export function useCan(action, resource, record, context) {
  return useSession().can(action, resource, record, context);
}

/** Field states in `mode`. */
export function useFields(resource, mode, record, context) {
  return useSession().fields(resource, mode, record, context);
}

/** Renders `children` when allowed, else `fallback`. */
export function Can({ action, resource, record, context, fallback = null, children }) {
  return useCan(action, resource, record, context) ? children : fallback;
}
