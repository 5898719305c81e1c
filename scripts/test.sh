#!/usr/bin/env bash
# Runs every test: formatting, clippy, Rust unit/integration/property tests, and the rest of the
# layers as they exist. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path python/Cargo.toml -- --check
echo "== cargo clippy (each supported feature set: default, std, std + bundle, the three wasm modules; the Python bindings)"
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --no-default-features --features std -- -D warnings
cargo clippy --lib --no-default-features --features std,bundle -- -D warnings
cargo clippy --lib --no-default-features --features std,ed25519 -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features wasm -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features wasm,compile -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features wasm,ed25519,compile -- -D warnings
CARGO_TARGET_DIR=target/python cargo clippy --manifest-path python/Cargo.toml -- -D warnings
echo "== layers (no import cycle in src/, no arrow up a layer)"
python3 scripts/tools/layers.py
echo "== cargo test (with a throwaway PostgreSQL cluster: scripts/pg.sh)"
FIELDGATE_TEST_PG_URL=$(./scripts/pg.sh start target/pg)
export FIELDGATE_TEST_PG_URL
trap './scripts/pg.sh stop target/pg' EXIT
cargo test --all-targets
cargo test --doc
echo "== explanations against decisions in a release build (no debug assertions to lean on)"
cargo test --release --test properties explanations
echo "== soak (bounded: two instances on PostgreSQL, one killed and the database stopped at random)"
SOAK_SECONDS=${SOAK_SECONDS:-45} SOAK_PROFILE=debug ./scripts/soak.sh
echo "== Python package (maturin wheel, pytest)"
./scripts/test-py.sh
./scripts/test-wasm.sh
echo "== npm package (built, packed, installed, tested)"
./scripts/test-js.sh
echo "== www end to end (Playwright in Chromium)"
./scripts/test-e2e.sh
echo "== JSON Schema"
python3 tests/schema_check.py
echo "== fuzz (bounded)"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} ./scripts/fuzz.sh
