#!/usr/bin/env bash
# The demo: builds the CLI and answers sample requests against the sample policy.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --quiet
policy=examples/acme-erp.policy.json
./target/release/fieldgate check "$policy"
./target/release/fieldgate eval --policy "$policy" < examples/requests.jsonl
