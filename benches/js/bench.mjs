// Node benchmark of the installed package on the 60-field form, with @casl/ability and
// @cedar-policy/cedar-wasm doing the same work, all in one run (ratios are what to compare).
// Run with scripts/bench-js.sh. Default V8 flags.
import { readFileSync } from 'node:fs';
import { Engine } from 'fieldgate';
import { createMongoAbility, subject as caslSubject } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { medianNs, record, user } from './workload.mjs';
import { caslRules as peerCaslRules, peerFewRecords, peerPolicy, peerRecords, peerUsers, plainCan } from './peer.mjs';

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

// ---- the can() peer workload: 12 roles, 1000 users, 1000 records with distinct owners ----
const peer = Engine.fromPolicyUnverified(peerPolicy());
const sessions = peerUsers.map((u) => peer.session(u));
const abilities = peerUsers.map((u) => createMongoAbility(peerCaslRules(u)));
const caslDocs = peerRecords.map((r) => caslSubject('doc', { ...r }));
const caslFew = peerFewRecords.map((r) => caslSubject('doc', { ...r }));
// The same answers, or the comparison would mean nothing.
for (let i = 0; i < 5000; i++) {
  const u = i % 1000, k = (i * 7) % 1000, a = ['view', 'edit', 'approve', 'delete'][i % 4];
  const want = plainCan(peerUsers[u], a, peerRecords[k]);
  if (sessions[u].can(a, 'doc', peerRecords[k]) !== want || abilities[u].can(a, caslDocs[k]) !== want) throw new Error(`peer workload disagrees at ${i}`);
  const few = plainCan(peerUsers[u], a, peerFewRecords[k % 10]);
  if (sessions[u].can(a, 'doc', peerFewRecords[k % 10]) !== few || abilities[u].can(a, caslFew[k % 10]) !== few) throw new Error(`10-owner workload disagrees at ${i}`);
}
let pi = 0;
const peerCan = {
  fg: bench('fieldgate s.can(): peer workload, 1000 users x 1000 distinct owners, with record', 200000, () => {
    pi = (pi + 1) % 1000; sink += sessions[pi].can('edit', 'doc', peerRecords[(pi * 7) % 1000]) ? 1 : 0;
  }),
  casl: bench('CASL ability.can(): peer workload, same records', 200000, () => {
    pi = (pi + 1) % 1000; sink += abilities[pi].can('edit', caslDocs[(pi * 7) % 1000]) ? 1 : 0;
  }),
  plain: bench('plain JS check: peer workload, same records', 200000, () => {
    pi = (pi + 1) % 1000; sink += plainCan(peerUsers[pi], 'edit', peerRecords[(pi * 7) % 1000]) ? 1 : 0;
  }),
  fgNoRecord: bench('fieldgate s.can(): peer workload, no record', 200000, () => {
    pi = (pi + 1) % 1000; sink += sessions[pi].can('view', 'doc') ? 1 : 0;
  }),
  fgFew: bench('fieldgate s.can(): peer workload, 10 owners, the same 10 records again and again', 200000, () => {
    pi = (pi + 1) % 1000; sink += sessions[pi].can('edit', 'doc', peerFewRecords[pi % 10]) ? 1 : 0;
  }),
  caslFew: bench('CASL ability.can(): peer workload, 10 owners, the same 10 records', 200000, () => {
    pi = (pi + 1) % 1000; sink += abilities[pi].can('edit', caslFew[pi % 10]) ? 1 : 0;
  }),
};
// With a listener, events are delivered in a microtask: batches of 1000 checks (a busy screen)
// with the delivery after each, timed together, against the same batches without a listener.
// The two alternate over five rounds (attaching a listener makes V8 re-optimise `can`, which
// one round straight after attaching would count), and each figure is the median round.
async function batched() {
  const per = [];
  for (let b = 0; b < 60; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) {
      pi = (pi + 1) % 1000; sink += sessions[pi].can('edit', 'doc', peerRecords[(pi * 7) % 1000]) ? 1 : 0;
    }
    await null;
    per.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  per.sort((a, c) => a - c);
  return per[30];
}
await batched();
const rounds = { none: [], listener: [] };
for (let round = 0; round < 5; round++) {
  rounds.none.push(await batched());
  const listener = peer.onDecision(() => { sink++; });
  rounds.listener.push(await batched());
  listener();
}
const middle = (xs) => [...xs].sort((a, c) => a - c)[xs.length >> 1];
peerCan.fgBatched = middle(rounds.none);
peerCan.fgListener = middle(rounds.listener);
results.push({ name: 'fieldgate s.can(): peer workload, batches of 1000 then a microtask, no listener', ns: peerCan.fgBatched });
results.push({ name: 'fieldgate s.can(): peer workload, batches of 1000 then a microtask, an onDecision listener', ns: peerCan.fgListener });

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
console.log(`- can, peer workload (distinct owners): CASL / fieldgate = ${(peerCan.casl / peerCan.fg).toFixed(2)}x; plain JS / fieldgate = ${(peerCan.plain / peerCan.fg).toFixed(2)}x; an onDecision listener adds ${(peerCan.fgListener - peerCan.fgBatched).toFixed(0)} ns per check, delivery included`);
console.log(`- can, 10 owners and repeated records: CASL / fieldgate = ${(peerCan.caslFew / peerCan.fgFew).toFixed(2)}x`);
console.log(`- session: CASL ability / fieldgate session = ${(casl.session / fg.session).toFixed(2)}x`);
console.log(`(sink ${sink > 0})`);
// For scripts/figures.sh: every median, by name (ns per call).
if (process.env.FIGURES_OUT) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.FIGURES_OUT, JSON.stringify(Object.fromEntries(results.map((r) => [r.name, r.ns])), null, 1));
}
