// The core's golden fixtures replayed through the JS API: JS and Rust answer the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Engine, FieldgateError } from 'fieldgate';

const dir = new URL('./fixtures/core/', import.meta.url);

for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const fixture = JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
  const policy = typeof fixture.policy === 'string'
    ? readFileSync(new URL('./' + fixture.policy.split('/').pop(), import.meta.url), 'utf8')
    : fixture.policy;
  test(`fixture ${name}`, () => {
    const engine = Engine.fromPolicyUnverified(policy);
    for (const c of fixture.cases) {
      const r = c.request;
      let got;
      try {
        if (!r.subject) throw new FieldgateError('bad_request', 'no subject');
        // A request's own time (dated access); the device's clock otherwise.
        const s = engine.session(r.subject, r.now === undefined ? undefined : { now: Date.parse(r.now) });
        got = {};
        if (r.action !== undefined) got.allow = s.can(r.action, r.resource, r.record, r.context);
        if (r.transition !== undefined) {
          if (!r.record) throw new FieldgateError('bad_request', 'a transition needs a record');
          const t = s.transitions(r.resource, r.record, r.context).find((x) => x.transition === r.transition);
          if (!t) throw new FieldgateError('unknown_action', `no transition ${r.transition}`);
          got.allow = t.allowed;
          got.transition = t;
        }
        if (r.transitions) got.transitions = s.transitions(r.resource, r.record, r.context);
        if (r.mode !== undefined) {
          got.fields = s.fields(r.resource, r.mode, r.record, r.context);
          if (r.redact) got.record = s.redact(r.resource, r.mode, r.record, r.context);
          if (r.formData !== undefined) got.writable = s.writable(r.resource, r.mode, r.record, r.formData, r.context);
        }
      } catch (e) {
        assert.ok(e instanceof FieldgateError, `${c.name}: ${e}`);
        got = { error: { code: e.code } };
      }
      assert.deepEqual(got, c.expect, c.name);
    }
  });
}

/** The paths in `sent` that `kept` lacks or changed. */
function dropped(sent, kept, path = '', out = []) {
  for (const [k, v] of Object.entries(sent ?? {})) {
    const p = path ? `${path}.${k}` : k;
    const w = kept?.[k];
    if (w === undefined) out.push(p);
    else if (v && typeof v === 'object' && !Array.isArray(v)) dropped(v, w, p, out);
    else if (JSON.stringify(v) !== JSON.stringify(w)) out.push(p);
  }
  return out;
}

// Two answers of the core about one write, what may be submitted and what a server refuses, on
// random writes over every fixture's subjects and records: declared fields (nested ones as
// objects, containers replaced whole by a list or a value), and members no field declares.
test('forbiddenWrites names what writable leaves out, on random writes', () => {
  let seed = 7;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  let writes = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const fixture = JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
    if (typeof fixture.policy === 'string') continue;
    const engine = Engine.fromPolicyUnverified(fixture.policy);
    for (const c of fixture.cases) {
      const r = c.request;
      if (!r.subject || !r.resource || c.expect.error || !engine.resources().includes(r.resource)) continue;
      const s = engine.session(r.subject);
      const paths = [...engine.fields(r.resource), 'id', 'undeclared', 'a.b'];
      for (let n = 0; n < 20; n++) {
        const data = {};
        for (let k = 0; k <= rand(4); k++) {
          const parts = paths[rand(paths.length)].split('.');
          const cut = parts.slice(0, 1 + rand(parts.length));
          const value = [1, 'x', [1, 2], null, { z: 1 }][rand(5)];
          let at = data;
          for (const p of cut.slice(0, -1)) at = at[p] = (at[p] && typeof at[p] === 'object' && !Array.isArray(at[p])) ? at[p] : {};
          at[cut[cut.length - 1]] = value;
        }
        for (const mode of ['create', 'edit']) {
          const kept = s.writable(r.resource, mode, r.record, data, r.context);
          const refused = s.forbiddenWrites(r.resource, mode, r.record, data, r.context);
          // `writable` leaves a container out whole; `forbiddenWrites` names the paths in it.
          const left = dropped(data, kept);
          const under = (p, d) => p === d || p.startsWith(`${d}.`);
          const why = `${name}: ${c.name}: ${mode} ${JSON.stringify(data)}: ${refused} vs ${left}`;
          assert.ok(refused.every((p) => left.some((d) => under(p, d))), why);
          assert.ok(left.every((d) => refused.some((p) => under(p, d))), why);
          writes++;
        }
      }
    }
  }
  assert.ok(writes >= 1000, `only ${writes} writes`);
});
