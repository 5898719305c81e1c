#!/usr/bin/env bash
# Measures the figures of BENCHMARKS.md's table and rewrites it (scripts/tools/figures.py):
#   ./scripts/figures.sh [rust] [js] [pkg] [load] [export]   (default: all; about 25 minutes)
# Each step leaves its report in target/figures/; a step not run keeps its rows as they were.
# The machine is shared and noisy: run nothing else meanwhile, and compare ratios of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
out=$(pwd)/target/figures
mkdir -p "$out"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(rust js pkg load export)
for step in "${steps[@]}"; do
  echo "== $step"
  case $step in
  rust)
    for b in evaluator bundles admin; do cargo bench --bench "$b" 2>/dev/null | tee "$out/$b.txt"; done ;;
  js) FIGURES_OUT=$out/js.json ./scripts/bench-js.sh ;;
  pkg) ./scripts/build-pkg.sh | tee "$out/pkg.txt" ;;
  load)
    for m in "sqlite 1" "postgres 1" "postgres 2"; do
      set -- $m
      LOAD_STORE=$1 LOAD_INSTANCES=$2 ./scripts/load.sh | tee "$out/load-$1-$2.txt"
    done ;;
  export) ./scripts/bench-export.sh | tee "$out/export.txt" ;;
  *) echo "unknown step $step: rust, js, pkg, load or export" >&2; exit 2 ;;
  esac
done
python3 scripts/tools/figures.py
echo "BENCHMARKS.md: the table is up to date"
