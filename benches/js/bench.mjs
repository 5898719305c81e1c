// Node benchmark of the installed package on the 60-field form, with @casl/ability and
// @cedar-policy/cedar-wasm doing the same work, all in one run (ratios are what to compare).
// Run with scripts/bench-js.sh. Default V8 flags.
import { readFileSync } from 'node:fs';
import { Engine } from 'fieldgate';
import { createMongoAbility, subject as caslSubject } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { medianNs, record, user } from './workload.mjs';

const here = (p) => new URL(p, import.meta.url);
const form60 = JSON.parse(readFileSync(here('./form60.policy.json'), 'utf8'));
const key = readFileSync(here('./bundles/keys/signing.pub'), 'utf8').trim();
const FIELDS = Object.keys(form60.resources.form.fields);

/** Median ns per call over `batches` batches of `n` calls, kept for the table. */
function bench(name, n, f, batches = 15) {
  const median = medianNs(n, f, batches);
  results.push({ name, ns: median });
  return median;
}
const results = [];
const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

// ---- fieldgate ----
const engine = await Engine.load(readFileSync(here('./bundles/form60.json')), { trustedKeys: [key], app: 'bench' });
const s = engine.session(user);
let sink = 0;
const fg = {
  fields: bench('fieldgate s.fields(): 60-field form, with record', 20000, () => { sink += Object.keys(s.fields('form', 'edit', record)).length; }),
  states: bench('fieldgate s.fieldStates(): 60-field form, with record', 20000, () => { sink += s.fieldStates('form', 'edit', record).length; }),
  can: bench('fieldgate s.can(): with record', 50000, () => { sink += s.can('edit', 'form', record) ? 1 : 0; }),
  canNoRecord: bench('fieldgate s.can(): no record', 50000, () => { sink += s.can('view', 'form') ? 1 : 0; }),
  session: bench('fieldgate engine.session() + first decision + free()', 5000, () => { const t = engine.session(user); sink += t.can('view', 'form') ? 1 : 0; t.free(); }),
};
const bigJson = readFileSync(here('./bundles/big.json'));
const bigBin = readFileSync(here('./bundles/big.bin'));
// Each loaded engine is freed, as `engine.update()` frees the one it replaces.
const load = (bytes) => { const e = Engine.loadSync(bytes, undefined, { trustedKeys: [key] }); sink += e.version; e.free(); };
bench('fieldgate Engine.load: signed 1 MiB JSON bundle', 5, () => load(bigJson), 7);
bench('fieldgate Engine.load: same policy, binary bundle', 20, () => load(bigBin), 7);
const sampleJson = readFileSync(here('./bundles/sample.json'));
const sampleBin = readFileSync(here('./bundles/sample.bin'));
bench('fieldgate Engine.load: the sample policy (examples/acme-erp), JSON bundle', 200, () => load(sampleJson));
bench('fieldgate Engine.load: the sample policy, binary bundle', 200, () => load(sampleBin));

// ---- CASL: a per-user ability and permittedFieldsOf ----
const others = FIELDS.filter((f) => f !== 'f00' && f !== 'f01');
const caslRules = [
  { action: 'view', subject: 'form', fields: FIELDS.filter((f) => f !== 'f59') },
  { action: ['view', 'edit'], subject: 'form', fields: others, conditions: { owner: 'u-1' } },
  { action: ['view', 'edit', 'export'], subject: 'form', fields: ['f10', 'f11'], conditions: { dept: { $in: ['east', 'east-1'] } } },
  { action: ['view', 'approve'], subject: 'form', conditions: { status: 'pending', amount: { $lt: 10000 } } },
  { action: ['edit', 'delete'], subject: 'form', inverted: true, conditions: { status: 'pending' } },
];
const fieldsFrom = (rule) => rule.fields || FIELDS;
const caslForm = (ability) => {
  const rec = caslSubject('form', { ...record });
  const edit = new Set(permittedFieldsOf(ability, 'edit', rec, { fieldsFrom }));
  const view = new Set(permittedFieldsOf(ability, 'view', rec, { fieldsFrom }));
  const out = {};
  for (const f of FIELDS) out[f] = edit.has(f) ? 'editable' : view.has(f) ? 'readonly' : 'hidden';
  return out;
};
const ability = createMongoAbility(caslRules);
const casl = {
  fields: bench('CASL permittedFieldsOf x2: 60-field form', 2000, () => { sink += Object.keys(caslForm(ability)).length; }),
  can: bench('CASL ability.can(): with record', 50000, () => { sink += ability.can('edit', caslSubject('form', record)) ? 1 : 0; }),
  session: bench('CASL createMongoAbility(): per-user ability', 5000, () => { sink += createMongoAbility(caslRules).can('view', 'form') ? 1 : 0; }),
};

// ---- cedar-wasm: one request per form, policy set preparsed ----
const policies = `
permit (principal, action in [Action::"view", Action::"edit"], resource) when { resource.owner == principal };
permit (principal, action in [Action::"view", Action::"edit", Action::"export"], resource) when { resource.dept in ["east", "east-1"] };
permit (principal, action in [Action::"view", Action::"approve"], resource) when { resource.status == "pending" && resource.amount < 10000 };
forbid (principal, action in [Action::"edit", Action::"delete"], resource) when { resource.status == "pending" };`;
cedar.preparsePolicySet('bench', { staticPolicies: policies });
const attrs = { ...record, owner: { __entity: { type: 'User', id: 'u-1' } } };
const entities = [
  { uid: { type: 'User', id: 'u-1' }, attrs: {}, parents: [] },
  { uid: { type: 'Form', id: 'r1' }, attrs, parents: [] },
];
const call = {
  principal: { type: 'User', id: 'u-1' },
  action: { type: 'Action', id: 'edit' },
  resource: { type: 'Form', id: 'r1' },
  context: {},
  preparsedPolicySetId: 'bench',
  entities,
};
const probe = cedar.statefulIsAuthorized(call);
if (probe.type !== 'success' || probe.response.decision !== 'allow') throw new Error(`cedar setup: ${JSON.stringify(probe)}`);
const cedarForm = bench('cedar-wasm statefulIsAuthorized: one request for the form', 300, () => { sink += cedar.statefulIsAuthorized(call).type.length; });

// ---- a plain hand-written JS loop, for scale ----
const plain = bench('plain JS loop: 60 field states', 20000, () => {
  const own = record.owner === user.id;
  const out = {};
  for (const f of FIELDS) out[f] = own && f !== 'f00' && f !== 'f01' && record.status !== 'pending' ? 'editable' : f === 'f59' ? 'hidden' : 'readonly';
  sink += out.f10.length;
});

console.log(`\n| benchmark | median per call |\n|---|---|`);
for (const r of results) console.log(`| ${r.name} | ${fmt(r.ns)} |`);
console.log(`\nRatios, same run (higher = fieldgate faster):`);
console.log(`- 60-field form: CASL / fieldgate fields() = ${(casl.fields / fg.fields).toFixed(1)}x; cedar-wasm / fieldgate = ${(cedarForm / fg.fields).toFixed(1)}x; plain loop / fieldgate = ${(plain / fg.fields).toFixed(2)}x`);
console.log(`- can with record: CASL / fieldgate = ${(casl.can / fg.can).toFixed(2)}x`);
console.log(`- session: CASL ability / fieldgate session = ${(casl.session / fg.session).toFixed(2)}x`);
console.log(`(sink ${sink > 0})`);
