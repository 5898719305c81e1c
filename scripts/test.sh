#!/usr/bin/env bash
# Runs every test: formatting, clippy, Rust unit/integration/property tests, and the rest of the
# layers as they exist. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (each supported feature set: default, std, std + bundle, wasm)"
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --no-default-features --features std -- -D warnings
cargo clippy --lib --no-default-features --features std,bundle -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features wasm -- -D warnings
echo "== cargo test"
cargo test --all-targets
cargo test --doc
./scripts/test-wasm.sh
echo "== npm package (built, packed, installed, tested)"
./scripts/test-js.sh
echo "== www end to end (Playwright in Chromium)"
./scripts/test-e2e.sh
echo "== JSON Schema"
python3 tests/schema_check.py
echo "== fuzz (bounded)"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} ./scripts/fuzz.sh
