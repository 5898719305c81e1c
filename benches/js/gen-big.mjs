// Writes the 1 MiB benchmark policy: the 60-field form copied under new names, exactly as
// benches/support/mod.rs does for the Rust benches.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const doc = structuredClone(base);
const perCopy = JSON.stringify(base.resources).length + JSON.stringify(base.roles).length;
for (let k = 1; k <= Math.floor((1 << 20) / perCopy) + 1; k++) {
  const res = `form${k}`;
  doc.resources[res] = structuredClone(base.resources.form);
  for (const [name, role] of Object.entries(base.roles)) {
    const r = structuredClone(role);
    for (const g of r.grants) if (g.resource === 'form') g.resource = res;
    delete r.templates;
    doc.roles[`${name}${k}`] = r;
  }
}
process.stdout.write(JSON.stringify(doc));
