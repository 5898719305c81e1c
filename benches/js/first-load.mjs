// The first Engine.load in a fresh Node process (the module's init included), against the
// ones after it: median of 9 processes.
//   node benches/js/first-load.mjs <pkg dir> <signed JSON bundle> <signing.pub>
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const [pkg, bundle, pub] = process.argv.slice(2).map((p) => resolve(p));
const child = `
  const { readFileSync } = await import('node:fs');
  const t0 = performance.now();
  const { Engine } = await import(${JSON.stringify(`${pkg}/node.js`)});
  const t1 = performance.now();
  const bytes = readFileSync(${JSON.stringify(bundle)});
  const opts = { trustedKeys: [readFileSync(${JSON.stringify(pub)}, 'utf8').trim()] };
  const t2 = performance.now();
  (await Engine.load(bytes, opts)).free();
  const t3 = performance.now();
  (await Engine.load(bytes, opts)).free();
  const t4 = performance.now();
  console.log(JSON.stringify([t1 - t0, t3 - t2, t4 - t3]));
`;
const runs = Array.from({ length: 9 }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' })));
const median = (i) => runs.map((r) => r[i]).sort((a, b) => a - b)[4];
console.log(`import ${median(0).toFixed(1)} ms; first Engine.load ${median(1).toFixed(1)} ms (target < 10 ms); the next ${median(2).toFixed(2)} ms`);
