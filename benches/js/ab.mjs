// Back-to-back comparison of package builds on the bench.mjs workload (fieldgate only):
//   node benches/js/ab.mjs target/js-bench /abs/path/pkgA /abs/path/pkgB ...
// after ./scripts/bench-js.sh has made target/js-bench (keys and bundles); each pkg is a copy of
// a built pkg/, and may hold its own big.bin (signed by its own CLI, for builds whose binary
// format differs; otherwise the bench's is used). Three rounds, the builds alternated; prints
// the median of the rounds' medians (ns per call; the loads in ms). Default V8 flags.
import { existsSync, readFileSync } from 'node:fs';
import { medianNs, record, user } from './workload.mjs';

const [dir, ...pkgs] = process.argv.slice(2);
const here = (p) => `${dir}/${p}`;
const key = readFileSync(here('bundles/keys/signing.pub'), 'utf8').trim();
const bigJson = readFileSync(here('bundles/big.json')), small = readFileSync(here('bundles/form60.json'));
const bigBins = pkgs.map((p) => readFileSync(existsSync(`${p}/big.bin`) ? `${p}/big.bin` : here('bundles/big.bin')));
const bench = (n, f, batches = 11) => medianNs(n, f, batches);
let sink = 0;
const mods = [];
for (const p of pkgs) mods.push(await import(existsSync(`${p}/node.js`) ? `${p}/node.js` : `${p}/index.js`));
const rows = pkgs.map(() => ({ fields: [], states: [], can: [], session: [], json: [], bin: [] }));
for (let round = 0; round < 3; round++) {
  for (let k = 0; k < mods.length; k++) {
    const { Engine } = mods[k];
    const engine = await Engine.load(small, { trustedKeys: [key], app: 'bench' });
    const s = engine.session(user);
    const r = rows[k];
    r.fields.push(bench(20000, () => { sink += Object.keys(s.fields('form', 'edit', record)).length; }));
    r.states.push(bench(20000, () => { sink += s.fieldStates('form', 'edit', record).length; }));
    r.can.push(bench(50000, () => { sink += s.can('edit', 'form', record) ? 1 : 0; }));
    r.session.push(bench(5000, () => { const t = engine.session(user); sink += t.can('view', 'form') ? 1 : 0; t.free(); }));
    const load = (bytes) => { const e = Engine.loadSync(bytes, undefined, { trustedKeys: [key] }); sink += e.version; e.free(); };
    r.json.push(bench(3, () => load(bigJson), 5) / 1e6);
    r.bin.push(bench(10, () => load(bigBins[k]), 5) / 1e6);
    engine.free();
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (let k = 0; k < pkgs.length; k++) {
  const r = rows[k];
  console.log(pkgs[k].split('/').slice(-2).join('/'), Object.entries(r).map(([n, v]) => `${n} ${med(v).toFixed(n === 'json' || n === 'bin' ? 1 : 0)}`).join('  '));
}
console.log(`(sink ${sink > 0})`);
