#!/usr/bin/env bash
# Load test on loopback (bounded: LOAD_SECONDS per run, default 10): the bundle endpoint with
# ETag revalidation (304s) and the data API, 64 connections, with wrk. Prints wrk's reports.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --quiet --release --bin fieldgate
secs=${LOAD_SECONDS:-10}
data=$(mktemp -d)
out=$(mktemp)
./target/release/fieldgate serve --data "$data" --addr 127.0.0.1:0 >"$out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data" "$out"' EXIT
for _ in $(seq 1 100); do grep -q listening "$out" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$out" | head -1)
auth="Authorization: Bearer $(cat "$data/admin.token")"
etag=$(curl -s -D - -o /dev/null -H "$auth" "$base/v1/apps/acme-erp/bundle" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cookie=$(curl -s -D - -o /dev/null -H 'content-type: application/json' -d '{"user":"u-carol"}' "$base/v1/login" \
  | tr -d '\r' | awk -F': ' 'tolower($1)=="set-cookie"{split($2,a,";"); print a[1]}')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H "If-None-Match: $etag" "$base/v1/apps/acme-erp/bundle")" = 304 ]
echo "== bundle, If-None-Match (304), 64 connections, ${secs}s"
wrk -t2 -c64 -d"${secs}s" --latency -H "$auth" -H "If-None-Match: $etag" "$base/v1/apps/acme-erp/bundle"
echo "== data API: GET /v1/data/customer as u-carol (scope filter + redaction), 64 connections, ${secs}s"
wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: $cookie" "$base/v1/data/customer"
