#!/usr/bin/env bash
# wasm-bindgen-test: the bindings in Node, then in headless Chromium (webdriver.json sets the
# Chromium flags this machine needs).
set -euo pipefail
cd "$(dirname "$0")/.."
# With `std`: the test harness brings its own panic handler and allocator. The package's own
# `no_std` build is what the JS tests (scripts/test-js.sh) run.
args=(--target wasm32-unknown-unknown --no-default-features --features wasm,std,ed25519 --test wasm)
echo "== wasm-bindgen-test in Node"
cargo test "${args[@]}"
echo "== wasm-bindgen-test in headless Chromium"
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} WASM_BINDGEN_USE_BROWSER=1 cargo test "${args[@]}"
