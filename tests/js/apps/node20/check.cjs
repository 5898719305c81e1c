// The same through require(): the CommonJS entry.
const { readFileSync } = require('node:fs');
const { Engine } = require('fieldgate');

const key = readFileSync(process.argv[2] + '/trusted/signing.pub', 'utf8').trim();
Engine.load(readFileSync(process.argv[2] + '/v3.json'), { trustedKeys: [key], app: 'acme-erp' }).then((engine) => {
  const s = engine.session({ id: 'u-alice' });
  console.log(JSON.stringify({ node: process.version, version: engine.version, canEditOwn: s.can('edit', 'customer', { owner_id: 'u-alice' }) }));
});
