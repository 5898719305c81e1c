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
        const s = engine.session(r.subject);
        got = {};
        if (r.action !== undefined) got.allow = s.can(r.action, r.resource, r.record, r.context);
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
