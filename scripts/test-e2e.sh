#!/usr/bin/env bash
# Browser end-to-end tests of www/: builds the pages and the release server, then runs
# tests/e2e with node --test (playwright-core from www's dev dependencies, Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-www.sh
cargo build --quiet --release --bin fieldgate
ln -sfn ../../www/node_modules tests/e2e/node_modules
node --test --test-concurrency=1 tests/e2e/
echo "screenshots: target/e2e-artifacts/"
