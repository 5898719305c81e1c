#!/usr/bin/env bash
# Builds the npm package and the release CLI, recreates DIR (with DIR/bundles/) and packs the
# package into it as a tarball: the start of every "as a user installs it" project.
# Usage: scripts/pack-into.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:?usage: scripts/pack-into.sh DIR}
./scripts/build-pkg.sh
cargo build --quiet --release --bin fieldgate
rm -rf "$work"
mkdir -p "$work/bundles"
(cd pkg && npm pack --silent --pack-destination "$work" >/dev/null)
