#!/usr/bin/env bash
# The Node benchmark: installs the packed package plus @casl/ability and @cedar-policy/cedar-wasm
# into target/js-bench, signs the benchmark bundles, and prints a table (figures -> BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
./scripts/setup.sh
work=$root/target/js-bench
./scripts/pack-into.sh "$work"
fg=$root/target/release/fieldgate
echo '{ "name": "fieldgate-bench", "private": true, "type": "module" }' > "$work/package.json"
(cd "$work" && npm install --silent --no-audit --no-fund ./fieldgate-*.tgz @casl/ability@6 @cedar-policy/cedar-wasm@4 >/dev/null)
cp benches/js/*.mjs tests/fixtures/bench/form60.policy.json "$work/"
$fg keygen --out-dir "$work/bundles/keys" >/dev/null
node "$work/gen-big.mjs" "$work/form60.policy.json" > "$work/big.policy.json"
key="$work/bundles/keys/signing.key"
$fg sign --key "$key" --policy "$work/form60.policy.json" --out "$work/bundles/form60.json" >/dev/null
$fg sign --key "$key" --policy "$work/big.policy.json" --out "$work/bundles/big.json" >/dev/null
$fg sign --key "$key" --policy "$work/big.policy.json" --out "$work/bundles/big.bin" --format binary >/dev/null
$fg sign --key "$key" --policy examples/acme-erp.policy.json --out "$work/bundles/sample.json" >/dev/null
$fg sign --key "$key" --policy examples/acme-erp.policy.json --out "$work/bundles/sample.bin" --format binary >/dev/null
ls -l "$work/bundles/big.json" "$work/bundles/big.bin" | awk '{print $5, $9}'
node "$work/bench.mjs"
