// A server component: the engine loads a signed bundle on the server and redacts a record, so
// the hidden credit limit never reaches the page. No Next.js config.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from 'fieldgate';
import Client from './client.js';

export const dynamic = 'force-dynamic';

const other = { id: 'c-2', owner_id: 'u-bob', department: 'sales-west', name: 'Li Lei', phone: '13755554444', credit_limit: 150000 };

export default async function Page() {
  const dir = join(process.cwd(), 'public', 'bundles');
  const key = (await readFile(join(dir, 'trusted', 'signing.pub'), 'utf8')).trim();
  const engine = await Engine.load(await readFile(join(dir, 'v3.json')), { trustedKeys: [key], app: 'acme-erp' });
  const shown = engine.session({ id: 'u-alice', department: 'sales-east' }).redact('customer', 'view', other);
  return (
    <main>
      <pre id="server">{JSON.stringify(shown)}</pre>
      <Client />
    </main>
  );
}
