#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm core (release, opt-level z), wasm-bindgen glue,
# wasm-opt -Oz, and the hand-written wrapper from pkg-template/, its JavaScript minified by esbuild
# (scripts/tools/). Prints raw and gzipped sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

# LLVM's inliner at opt-level z stops at a threshold of 5; at 25 the module is the same size
# (+22 B gzipped) and 5-10% faster in every benchmark (BENCHMARKS.md, "Package size"). Only this
# build: tests and clippy keep the default flags.
cargo build --quiet --lib --target wasm32-unknown-unknown --profile wasm --no-default-features --features wasm \
  --config 'target.wasm32-unknown-unknown.rustflags = ["-C", "llvm-args=-inline-threshold=25"]'
gen=target/pkg-gen
rm -rf "$gen" pkg
mkdir -p "$gen" pkg
# wasm-opt runs before wasm-bindgen: binaryen 108 (Debian's) corrupts the externref table that
# wasm-bindgen adds, so it shrinks the plain rustc output and wasm-bindgen writes the final file.
wasm-opt -Oz --converge --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o "$gen/fieldgate.opt.wasm" target/wasm32-unknown-unknown/wasm/fieldgate.wasm
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$gen" --out-name fieldgate_wasm \
  "$gen/fieldgate.opt.wasm"
cp "$gen/fieldgate_wasm_bg.wasm" pkg/
cp "$gen/fieldgate_wasm.js" "$gen/fieldgate_wasm.d.ts" "$gen/fieldgate_wasm_bg.wasm.d.ts" pkg/
cp -r pkg-template/. pkg/
cp LICENSE* pkg/ 2>/dev/null || true

# The JavaScript ships minified (the readable source rides along in each file's source map):
# users download it, and it is most of what the package weighs besides the wasm.
esbuild=scripts/tools/node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "build-pkg: esbuild is missing: run scripts/setup.sh" >&2; exit 1; }
"$esbuild" pkg/*.js pkg/adapters/*.js --minify --keep-names --format=esm --target=es2022 --sourcemap \
  --outdir=pkg --outbase=pkg --allow-overwrite --log-level=warning

# Each file as a browser fetches it: gzipped on its own.
gz() { gzip -9 -c "$1" | wc -c; }
raw_wasm=$(stat -c %s pkg/fieldgate_wasm_bg.wasm)
gz_wasm=$(gz pkg/fieldgate_wasm_bg.wasm)
js_raw=0 js_gz=0
for f in pkg/fieldgate_wasm.js pkg/index.js pkg/store.js; do
  js_raw=$((js_raw + $(stat -c %s "$f"))) js_gz=$((js_gz + $(gz "$f")))
done
echo "pkg/: wasm ${raw_wasm} B raw, ${gz_wasm} B gzipped; JS glue + wrapper ${js_raw} B raw, ${js_gz} B gzipped; total gzipped $((gz_wasm + js_gz)) B"
