// The package on the oldest supported Node (20.0): ESM, with nothing but the tarball installed.
import { readFileSync } from 'node:fs';
import { Engine } from 'fieldgate';

const key = readFileSync(process.argv[2] + '/trusted/signing.pub', 'utf8').trim();
const engine = await Engine.load(readFileSync(process.argv[2] + '/v3.json'), { trustedKeys: [key], app: 'acme-erp' });
const s = engine.session({ id: 'u-alice' });
console.log(JSON.stringify({ node: process.version, version: engine.version, canEditOwn: s.can('edit', 'customer', { owner_id: 'u-alice' }) }));
