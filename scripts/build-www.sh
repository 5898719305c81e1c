#!/usr/bin/env bash
# Builds the demo pages: the npm package (pkg/), www's dependencies (installed into
# www/node_modules, idempotently), and the bundles in www/dist/ (esbuild).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-pkg.sh >/dev/null
cd www
# `fieldgate` is a link to ../pkg, so a rebuilt package is picked up without reinstalling.
npm install --silent --no-audit --no-fund >/dev/null
rm -rf dist && mkdir -p dist
npx esbuild form=src/form.js admin=src/admin/main.js --bundle --preserve-symlinks --format=esm --minify --sourcemap --target=es2022 \
  --outdir=dist --log-level=warning
cp node_modules/fieldgate/fieldgate_wasm_bg.wasm node_modules/fieldgate/fieldgate_wasm_full_bg.wasm dist/
echo "www/dist: $(ls dist | tr '\n' ' ')"
