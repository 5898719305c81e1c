#!/usr/bin/env bash
# Load test on loopback (bounded: LOAD_SECONDS per run, default 10), with wrk: the bundle
# endpoint with ETag revalidation (304s) and the data API at 64 connections, and the decision
# API (100-request batches of allow + fields) at 16. Prints wrk's reports.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --quiet --release --bin fieldgate
secs=${LOAD_SECONDS:-10}
data=$(mktemp -d)
out=$(mktemp)
./target/release/fieldgate serve --data "$data" --addr 127.0.0.1:0 >"$out" 2>/dev/null &
server=$!
batch=$(mktemp)
lua=$(mktemp --suffix=.lua)
trap 'kill $server 2>/dev/null; rm -rf "$data" "$out" "$batch" "$lua"' EXIT
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
echo "== decision API: POST /v1/apps/acme-erp/check, 100 requests (allow + fields) per batch, 16 connections, ${secs}s"
python3 - "$batch" <<'PY'
import json, sys
data = json.load(open("examples/acme-erp.data.json"))
records = data["records"]["customer"]
requests = [{"action": ["view", "edit"][i % 2], "resource": "customer", "record": records[i % len(records)],
             "want": ["allow", "fields"]} for i in range(100)]
json.dump({"subject": {"id": "u-carol"}, "requests": requests}, open(sys.argv[1], "w"))
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'content-type: application/json' --data-binary @"$batch" "$base/v1/apps/acme-erp/check")" = 200 ]
cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$batch", "rb"); wrk.body = f:read("*a"); f:close()
LUA
wrk -t2 -c16 -d"${secs}s" --latency -H "$auth" -s "$lua" "$base/v1/apps/acme-erp/check"
