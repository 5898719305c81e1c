// `s.fields()` builds its objects with generated code where the page allows it and by key where
// it does not (a CSP without 'unsafe-eval'); both give the same objects, for any field names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NAMES, answers } from './field-objects.mjs';

test('generated objects hold every field, in order, whatever its name', () => {
  const [mine, theirs] = answers();
  const expectMine = { plain: 'editable', ['__proto__']: 'editable', '10': 'readonly' };
  const expectTheirs = { plain: 'masked', ['__proto__']: 'hidden', '10': 'readonly' };
  // Integer-like names come first in any JS object; the rest keep declaration order.
  const order = ['2', '10', ...NAMES.filter((n) => n !== '10' && n !== '2')];
  assert.deepEqual(mine.map(([n]) => n), order);
  for (const [n, st] of mine) assert.equal(st, expectMine[n] ?? 'editable', n);
  for (const [n, st] of theirs) assert.equal(st, expectTheirs[n] ?? 'readonly', n);
});

test('without code generation the objects are the same', () => {
  const here = fileURLToPath(new URL('./field-objects.mjs', import.meta.url));
  const script = `import(${JSON.stringify(here)}).then((m) => process.stdout.write(JSON.stringify(m.answers())))`;
  const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], {
  });
  const probe = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', "try { new Function('') ; console.log('allowed') } catch { console.log('refused') }"]);
  assert.equal(probe.toString().trim(), 'refused', 'the flag must forbid new Function');
  assert.deepEqual(JSON.parse(out), answers());
});
