#!/usr/bin/env bash
# The Python package: builds the wheel with maturin (scripts/build-py.sh), installs it into a
# virtual environment, and runs pytest on python/tests (the golden fixtures included).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-py.sh
# Signed bundles for the tests, made by the CLI: a trusted key, an untrusted one, a minimized
# bundle bound to one user.
cargo build --quiet --release --bin fieldgate
fg=target/release/fieldgate
work=target/py-work
rm -rf "$work" && mkdir -p "$work"
policy=examples/acme-erp.policy.json
$fg keygen --out-dir "$work/trusted" >/dev/null
$fg keygen --out-dir "$work/other" >/dev/null
$fg sign --key "$work/trusted/signing.key" --policy $policy --out "$work/v3.json" --version 3 >/dev/null
$fg sign --key "$work/trusted/signing.key" --policy $policy --out "$work/v4.bin" --version 4 --format binary >/dev/null
$fg sign --key "$work/other/signing.key" --policy $policy --out "$work/other.json" --version 9 >/dev/null
$fg minimize --policy $policy --user u-alice --out "$work/alice.policy.json"
$fg sign --key "$work/trusted/signing.key" --policy "$work/alice.policy.json" --subject u-alice \
  --out "$work/alice.json" --version 3 >/dev/null
export FIELDGATE_ROOT=$PWD FIELDGATE_TEST_BUNDLES=$PWD/$work
echo "== pytest (fieldgate installed from the wheel)"
# From python/tests, not the source tree: the installed wheel is what is tested.
(cd python/tests && ../../target/py-venv/bin/python -m pytest -q -p no:cacheprovider .)
