// Type-checked (tsc --noEmit --strict) as a consumer would write it.
import { Engine, FieldgateError, type FieldState, type Explanation, type FilterTree } from 'fieldgate';

export async function render(bundle: Uint8Array, key: string): Promise<string[]> {
  const engine = await Engine.load(bundle, { trustedKeys: [key], app: 'acme-erp', minVersion: 3, now: Date.now() });
  const s = engine.session({ id: 'u-alice', roles: ['sales'], department: 'sales-east' });
  const states: Record<string, FieldState> = s.fields('customer', 'edit', { owner_id: 'u-alice' });
  const codes: Uint8Array = s.fieldStates('customer', 'edit');
  const why: Explanation = s.explain('edit', 'customer');
  const tree: FilterTree = s.scopeFilter('customer', 'view');
  const safe = s.writable('customer', 'edit', { owner_id: 'u-alice' }, { name: 'x', phone: '1' });
  const off = engine.onDecision((e) => console.log(e.subject, e.allow, e.version));
  off();
  try {
    await engine.update(bundle);
  } catch (e) {
    if (e instanceof FieldgateError && e.code === 'rollback') console.log(e.path ?? '');
  }
  return [Object.keys(states).join(), String(codes.length), why.reason, JSON.stringify(tree), String(safe.name)];
}

import { BundleStore, DecisionLog, memoryStorage, type StoreStatus } from 'fieldgate';

export async function offline(key: string): Promise<StoreStatus> {
  const store = new BundleStore({ trustedKeys: [key], app: 'acme-erp', user: 'u-alice', storage: memoryStorage(), graceMs: 86_400_000 });
  await store.start(async () => null);
  const log = new DecisionLog({ app: 'acme-erp', user: 'u-alice' });
  store.engine?.onDecision((e) => { void log.append(e); });
  return store.status;
}
