// What the Node benchmarks share: the user and 60-field record of the form60 workload, and the
// timing loop.

/** The benchmark user (no roles of their own: departments and rules give them access). */
export const user = { id: 'u-1', roles: [], department: 'east', groups: [], attrs: {} };

/** A record the user owns, with a value for each of the 60 fields. */
export const record = { owner: 'u-1', dept: 'east-1', status: 'draft', amount: 500 };
for (let i = 0; i < 60; i++) record[`f${String(i).padStart(2, '0')}`] = `value ${i}`;

/** Median ns per call over `batches` batches of `n` calls (after one warm-up batch). */
export function medianNs(n, f, batches) {
  for (let i = 0; i < n; i++) f();
  const per = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    per.push(Number(process.hrtime.bigint() - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}
