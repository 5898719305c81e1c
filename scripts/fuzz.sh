#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 20 s each; FUZZ_SECONDS to change).
# Needs the pinned nightly toolchain (scripts/toolchain.sh) and cargo-fuzz (installed by scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
. ../scripts/toolchain.sh
secs=${FUZZ_SECONDS:-20}
for target in $(cargo +"$NIGHTLY" fuzz list); do
  mkdir -p "corpus/$target"
  seeds="seeds/$target"
  [ -d "$seeds" ] || seeds=""
  echo "== fuzz $target (${secs}s)"
  cargo +"$NIGHTLY" fuzz run "$target" "corpus/$target" $seeds -- -max_total_time="$secs" -max_len=65536 2>&1 | tail -n 3
done
