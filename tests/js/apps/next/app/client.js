'use client';
// A client component: the engine in the browser, from the same package.
import { useEffect, useState } from 'react';
import { Engine } from 'fieldgate';

export default function Client() {
  const [out, setOut] = useState('loading');
  useEffect(() => {
    (async () => {
      const text = async (p) => (await fetch(p)).text();
      const key = (await text('/bundles/trusted/signing.pub')).trim();
      const engine = await Engine.load(await text('/bundles/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
      setOut(JSON.stringify(engine.session({ id: 'u-alice' }).fields('customer', 'view', { owner_id: 'u-bob' })));
    })().catch((e) => setOut(`error: ${e && e.stack ? e.stack : e}`));
  }, []);
  return <pre id="client">{out}</pre>;
}
