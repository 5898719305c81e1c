#!/usr/bin/env bash
# Installs every tool the project needs, idempotently: the wasm target, the pinned nightly toolchain
# (the package's module, cargo-fuzz), wasm-bindgen-cli pinned to Cargo.lock, binaryen (wasm-opt), Chromium and its
# driver, wrk, PostgreSQL, a Chinese font, python3-venv, and the npm dev dependencies. Safe to run again: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

. scripts/toolchain.sh
if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src' \
  || ! rustup target list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "installing the $NIGHTLY toolchain with rust-src and the wasm target (the package's module, cargo fuzz)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz
fi

need_apt=()
command -v wasm-opt >/dev/null || need_apt+=(binaryen)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v wrk >/dev/null || need_apt+=(wrk)
# A Chinese font, so the pages' Chinese UI renders (and its screenshots can be read).
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need_apt+=(fonts-wqy-microhei)
# PostgreSQL for the store tests (a throwaway cluster, scripts/pg.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# Virtual environments for the Python package's tests (maturin and pytest go in one).
python3 -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -f Cargo.lock ]; then
  want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ -n "$want" ] && [ "$want" != "$have" ]; then
    log "installing wasm-bindgen-cli $want (have: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want"
  fi
fi

if [ ! -x scripts/tools/node_modules/.bin/esbuild ]; then
  log "installing the build tools (esbuild: scripts/tools/package.json)"
  (cd scripts/tools && npm ci --silent --no-audit --no-fund)
fi

if ! python3 -c "import jsonschema" 2>/dev/null; then
  log "installing the jsonschema Python package (schema tests)"
  pip install --quiet jsonschema
fi
