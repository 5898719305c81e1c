#!/usr/bin/env bash
# Load test on loopback, bounded (LOAD_SECONDS per scenario, default 10), with wrk:
#   - the bundle endpoint with ETag revalidation (304s), 64 connections;
#   - the data API (scope filter + redaction) as u-carol, 64 connections;
#   - the decision API (100-request batches of allow + fields), 16 connections;
#   - decision-event ingestion (POST /v1/decisions, 1000 fresh events per request, from 8
#     logged-in people), 8 connections.
# LOAD_STORE=sqlite (default) or postgres (a throwaway cluster, scripts/pg.sh);
# LOAD_INSTANCES=1 (default) or 2 (PostgreSQL only: one wrk per instance, at the same time,
# each with half the connections; the figures are the sum).
# Prints wrk's reports (stderr), and one line per scenario (stdout): `== figure NAME REQ/S
# p99=MSms` (decision_events: requests of 1000 events).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --quiet --release --bin fieldgate
secs=${LOAD_SECONDS:-10}
store=${LOAD_STORE:-sqlite}
instances=${LOAD_INSTANCES:-1}
[ "$store" = sqlite ] && [ "$instances" != 1 ] && { echo "two instances need LOAD_STORE=postgres" >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "$store" = postgres ] && ./scripts/pg.sh stop target/pg-load
  rm -rf "$work"
}
trap cleanup EXIT

# Ingestion at full speed: the per-person rate, burst and quota out of the way.
args=(--decision-rate 100000000 --decision-burst 1000000 --decision-quota 1000000000)
if [ "$store" = postgres ]; then
  url=$(./scripts/pg.sh start target/pg-load)
  psql=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
  "$psql" -q "$url" -c "DROP DATABASE IF EXISTS fieldgate_load WITH (FORCE)" -c "CREATE DATABASE fieldgate_load"
  mkdir -p "$work/keys"
  ./target/release/fieldgate keygen --out-dir "$work/keys" >/dev/null
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$work/keys/cookie.key"
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$work/keys/admin.token"
  args+=(--database "${url%/*}/fieldgate_load" --signing-key "$work/keys/signing.key"
    --cookie-key "$work/keys/cookie.key" --admin-token "$(cat "$work/keys/admin.token")")
fi

bases=()
for i in $(seq 1 "$instances"); do
  mkdir -p "$work/data$i"
  ./target/release/fieldgate serve --data "$work/data$i" --addr 127.0.0.1:0 "${args[@]}" \
    >"$work/out$i" 2>"$work/err$i" &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q listening "$work/out$i" && break; sleep 0.1; done
  grep -q listening "$work/out$i" || { cat "$work/err$i" >&2; exit 1; }
  bases+=("$(grep -o 'http://[0-9.:]*' "$work/out$i" | head -1)")
done
base=${bases[0]}
token=$(cat "$work/keys/admin.token" 2>/dev/null || cat "$work/data1/admin.token")
auth="Authorization: Bearer $token"
login() {
  curl -s -D - -o /dev/null -H 'content-type: application/json' -d "{\"user\":\"$1\"}" "$base/v1/login" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="set-cookie"{split($2,a,";"); print a[1]}'
}
etag=$(curl -s -D - -o /dev/null -H "$auth" "$base/v1/apps/acme-erp/bundle" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cookie=$(login u-carol)
for b in "${bases[@]}"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H "If-None-Match: $etag" "$b/v1/apps/acme-erp/bundle")" = 304 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$b/v1/data/customer")" = 200 ]
done

# Runs wrk against every instance at once with `conns` connections in all; prints each report
# on stderr and the summed requests/s answered on stdout.
run() {
  local name=$1 conns=$2 path=$3
  shift 3
  local each=$((conns / instances)) i=0 wrks=()
  for b in "${bases[@]}"; do
    i=$((i + 1))
    WRK_INSTANCE=$i WRK_ORIGIN=$b wrk -t"$((2 / instances))" -c"$each" -d"${secs}s" --latency "$@" "$b$path" \
      >"$work/wrk-$name-$i" 2>"$work/err-$name-$i" &
    wrks+=($!)
  done
  wait "${wrks[@]}"
  cat "$work"/wrk-"$name"-* >&2
  # What the scripts' response() saw refused, most frequent first.
  cat "$work"/err-"$name"-* | sort | uniq -c | sort -rn | head -3 | sed 's/^/refused: /' >&2
  # Answered requests per second, the refused (4xx, 5xx) left out, ...
  # and the worst instance's 99th percentile latency, ms.
  awk '/requests in/{n=$1; t=$4; sub(/s,?$/, "", t)} /^  Non-2xx/{bad=$5}
       /^Requests\/sec/{s+=(n-bad)/t; bad=0}
       $1=="99%"{v=$2; m=1; if (v ~ /us$/) m=0.001; else if (v ~ /ms$/) m=1; else if (v ~ /s$/) m=1000;
                 sub(/[a-z]+$/, "", v); if (v*m > p) p=v*m}
       END{printf "%.0f p99=%.2fms", s, p}' "$work"/wrk-"$name"-*
}

echo "== bundle, If-None-Match (304), 64 connections, ${secs}s, $store x$instances"
rps=$(run bundle 64 /v1/apps/acme-erp/bundle -H "$auth" -H "If-None-Match: $etag")
echo "== figure bundle_304 $rps"

echo "== data API: GET /v1/data/customer as u-carol, 64 connections, ${secs}s, $store x$instances"
rps=$(run data 64 /v1/data/customer -H "Cookie: $cookie")
echo "== figure data_read $rps"

echo "== decision API: POST /v1/apps/acme-erp/check, 100 requests per batch, 16 connections, ${secs}s"
python3 - "$work/batch.json" <<'PY'
import json, sys
data = json.load(open("examples/acme-erp.data.json"))
records = data["records"]["customer"]
requests = [{"action": ["view", "edit"][i % 2], "resource": "customer", "record": records[i % len(records)],
             "want": ["allow", "fields"]} for i in range(100)]
json.dump({"subject": {"id": "u-carol"}, "requests": requests}, open(sys.argv[1], "w"))
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'content-type: application/json' --data-binary @"$work/batch.json" "$base/v1/apps/acme-erp/check")" = 200 ]
cat >"$work/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/batch.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
rps=$(run check 16 /v1/apps/acme-erp/check -H "$auth" -s "$work/check.lua")
echo "== figure check_batches $rps"

echo "== decision events: POST /v1/decisions, 1000 fresh events per request, 8 people, 8 connections, ${secs}s"
people=(u-alice u-bob u-carol u-dave u-erin u-frank u-grace u-heidi)
cookies=""
for p in "${people[@]}"; do
  c=$(login "$p")
  [ -n "$c" ] && cookies="$cookies\"$c\","
done
# Each request: one person's cookie (round robin) and 1000 events no request sent before
# (an event sent twice is stored once, and would not be ingestion).
cat >"$work/events.lua" <<LUA
local cookies = { ${cookies} }
local n, thread_id = 0, 0
local instance = tonumber(os.getenv("WRK_INSTANCE") or "1")
local origin = os.getenv("WRK_ORIGIN")
function setup(thread) thread_id = thread_id + 1; thread:set("tid", instance * 100 + thread_id) end
function request()
  n = n + 1
  local parts = {}
  for i = 1, 1000 do
    parts[i] = string.format('{"action":"view","resource":"customer","allow":%s,"kind":"check","at":%d}',
      (i % 7 == 0) and "false" or "true", (tid or 0) * 1000000000000 + n * 1000 + i)
  end
  local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Cookie"] = cookies[(n % #cookies) + 1], ["Origin"] = origin}, body)
end
function response(status, headers, body)
  if status ~= 200 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
end
LUA
rps=$(run events 8 /v1/decisions -s "$work/events.lua")
echo "== figure decision_events $rps"
