#!/usr/bin/env bash
# Builds the Python package's wheel (python/, PyO3 + maturin) into target/wheels and installs
# it into target/py-venv, a virtual environment with maturin and pytest (made once).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/py-venv
if [ ! -x "$venv/bin/maturin" ] || [ ! -x "$venv/bin/pytest" ]; then
  echo "== making $venv (maturin, pytest)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'maturin>=1.5,<2' 'pytest>=7'
fi
echo "== maturin build (release)"
rm -f target/wheels/fieldgate-*.whl
CARGO_TARGET_DIR="$PWD/target/python" "$venv/bin/maturin" build --quiet --release \
  -m python/Cargo.toml -o target/wheels
"$venv/bin/pip" install --quiet --force-reinstall --no-deps target/wheels/fieldgate-*.whl
ls target/wheels/fieldgate-*.whl
