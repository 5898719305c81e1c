#!/usr/bin/env bash
# The first decision on a phone (issue #36): fieldgate and CASL on the same page shape, in
# headless Chromium with Lighthouse's mobile profile, cold and warm, median of 5
# (benches/mobile/bench.mjs). Builds the package, signs the sample policy, bundles CASL 7 with
# esbuild (minified, as an app ships it) into target/bench-mobile, then prints a table for
# BENCHMARKS.md. Runs from a fresh clone after ./scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-pkg.sh >/dev/null
(cd www && npm install --silent --no-audit --no-fund >/dev/null) # playwright-core
cargo build --quiet --release --bin fieldgate
site=target/bench-mobile
rm -rf "$site" && mkdir -p "$site/pkg"
cp pkg/index.js pkg/fieldgate_wasm_bg.wasm pkg/fieldgate_wasm_full_bg.wasm "$site/pkg/"
cp benches/mobile/*.html benches/mobile/fieldgate-page.js benches/mobile/rules.json "$site/"
fg=target/release/fieldgate
$fg keygen --out-dir "$site/keys" >/dev/null
cp "$site/keys/signing.pub" "$site/trusted.pub"
$fg sign --key "$site/keys/signing.key" --policy examples/acme-erp.policy.json --out "$site/bundle.bin" --format binary >/dev/null
# CASL as an app ships it: its own npm install, bundled and minified.
casl=target/bench-mobile-casl
mkdir -p "$casl"
[ -f "$casl/package.json" ] || echo '{ "name": "casl-page", "private": true }' > "$casl/package.json"
[ -d "$casl/node_modules/@casl/ability" ] || (cd "$casl" && npm install --silent --no-audit --no-fund @casl/ability@7 >/dev/null)
cp benches/mobile/casl-entry.js "$casl/"
scripts/tools/node_modules/.bin/esbuild "$casl/casl-entry.js" --bundle --minify --format=esm --target=es2022 \
  --outfile="$site/casl-page.js" --log-level=warning
echo "gzipped: fieldgate index.js $(gzip -9 -c "$site/pkg/index.js" | wc -c) B + .wasm $(gzip -9 -c "$site/pkg/fieldgate_wasm_bg.wasm" | wc -c) B; CASL page $(gzip -9 -c "$site/casl-page.js" | wc -c) B"
node benches/mobile/bench.mjs "$site" "${MOBILE_RUNS:-5}"
