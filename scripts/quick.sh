#!/usr/bin/env bash
# The fast loop: formatting, clippy, every cargo test, and the package's Node tests (no browser,
# no real-client apps, no fuzzing). The full run is scripts/test.sh; run setup.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test (with a throwaway PostgreSQL cluster: scripts/pg.sh)"
FIELDGATE_TEST_PG_URL=$(./scripts/pg.sh start target/pg)
export FIELDGATE_TEST_PG_URL
trap './scripts/pg.sh stop target/pg' EXIT
cargo test --all-targets
./scripts/test-js.sh --node-only
