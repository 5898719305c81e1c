// The same through require(): the CommonJS entry, and every adapter (Node 20.0 has no
// require(esm): each adapter has a CommonJS copy).
const { readFileSync } = require('node:fs');
const { Engine } = require('fieldgate');
const rjsf = require('fieldgate/rjsf');
const formily = require('fieldgate/formily');
const amis = require('fieldgate/amis');
const react = require('fieldgate/react');
const vue = require('fieldgate/vue');

const key = readFileSync(process.argv[2] + '/trusted/signing.pub', 'utf8').trim();
Engine.load(readFileSync(process.argv[2] + '/v3.json'), { trustedKeys: [key], app: 'acme-erp' }).then((engine) => {
  const s = engine.session({ id: 'u-alice' });
  const mine = { owner_id: 'u-alice', phone: '13812345678', credit_limit: 5 };
  const adapters = {
    rjsf: rjsf.uiSchema(s, { resource: 'customer', record: mine }).credit_limit,
    formily: formily.submitValues({ name: 'x', credit_limit: 1 }, s, { resource: 'customer', record: mine }),
    amis: typeof amis.applyAmis,
    react: [typeof react.FieldgateProvider, typeof react.useFields],
    vue: [typeof vue.createFieldgate, typeof vue.useFields],
  };
  console.log(JSON.stringify({ node: process.version, version: engine.version, canEditOwn: s.can('edit', 'customer', { owner_id: 'u-alice' }), adapters }));
});
