#!/usr/bin/env bash
# The soak test (tests/soak.rs): two instances on one PostgreSQL database under mixed load
# (bundle reads, data reads and writes, creates, decisions, publications, exports) for
# SOAK_SECONDS (default 600), while instance B and the database are killed and started again
# at random. Fails on anything acknowledged and lost, any wrong answer, or memory growth; prints
# the figures BENCHMARKS.md records. Run scripts/setup.sh once first (PostgreSQL).
#   SOAK_SECONDS=60 ./scripts/soak.sh        a shorter run
#   SOAK_PROFILE=debug ./scripts/soak.sh     the debug build (what scripts/test.sh uses)
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECONDS=${SOAK_SECONDS:-600}
profile=()
[ "${SOAK_PROFILE:-release}" = release ] && profile=(--release)
cargo test "${profile[@]}" --test soak -- --ignored --nocapture --test-threads 1
