#!/usr/bin/env bash
# The demo: builds everything, starts `fieldgate serve` (which makes its data dir, signing key,
# admin token and the signed sample policy on first start) and prints the pages' addresses.
# Ctrl-C stops it. FIELDGATE_ADDR changes the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-www.sh
cargo build --release --quiet --bin fieldgate
addr=${FIELDGATE_ADDR:-127.0.0.1:8080}
data=.fieldgate-data
./target/release/fieldgate serve --data "$data" --addr "$addr" &
server=$!
trap 'kill $server 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do [ -s "$data/admin.token" ] && break; sleep 0.1; done
echo
echo "  Form page:  http://$addr/"
echo "  Admin page: http://$addr/admin#token=$(cat "$data/admin.token")"
echo
wait $server
