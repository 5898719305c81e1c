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

import { createGate, PolicySource, type Authorized } from 'fieldgate/server';

type Req = { headers: Record<string, string | undefined>; fieldgate?: Authorized };

export async function backend(key: string): Promise<number> {
  const gate = await createGate<Req>({
    url: 'http://127.0.0.1:8080/v1/apps/acme-erp/bundle',
    headers: { authorization: 'Bearer token' },
    trustedKeys: [key],
    app: 'acme-erp',
    subject: (req) => (req.headers['x-user'] ? { id: req.headers['x-user'] } : null),
  });
  const guard = gate.authorize('customer', 'edit', async (req) => ({ id: req.headers['x-id'] }));
  const w = gate.checkWrite({ headers: {} }, 'customer', 'edit', null, { name: 'x', credit_limit: 1 });
  const forbidden: string[] = w.forbidden;
  const shown = gate.redact({ headers: {} }, 'customer', [{ id: 'c-1' }]);
  const source: PolicySource = gate.source;
  void guard; void forbidden; void shown;
  return source.version;
}
