#!/usr/bin/env bash
# The export figures: EXPORT_ROWS (default 100,000) customers created through the data API by
# u-bob (who may export his own), then exported as CSV and XLSX; prints the time, size and rows
# of each and the server's peak resident memory before and after (an export streams, so its
# memory should not grow with the rows). Loopback only; one line per figure:
# `== figure NAME VALUE`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --quiet --release --bin fieldgate
rows=${EXPORT_ROWS:-100000}
work=$(mktemp -d)
./target/release/fieldgate serve --data "$work/data" --addr 127.0.0.1:0 >"$work/out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do grep -q listening "$work/out" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
cookie=$(curl -s -D - -o /dev/null -H 'content-type: application/json' -d '{"user":"u-bob"}' "$base/v1/login" \
  | tr -d '\r' | awk -F': ' 'tolower($1)=="set-cookie"{split($2,a,";"); print a[1]}')
echo "== seeding $rows customers as u-bob"
python3 - "$base" "$cookie" "$rows" <<'PY'
import http.client, json, sys, threading, urllib.parse
base, cookie, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(base).netloc
def seed(start, step):
    c = http.client.HTTPConnection(host)
    for i in range(start, rows, step):
        # The fields a salesperson may write (credit limit and bank account are not theirs).
        body = json.dumps({"name": f"Customer {i}", "company": f"Company {i % 997}", "phone": f"138{i:08d}",
                           "email": f"c{i}@example.com", "id_number": f"3101011990{i:08d}", "tier": "gold",
                           "address": f"{i} Nanjing Rd, Shanghai", "notes": "seeded"})
        c.request("POST", "/v1/data/customer", body, {"Content-Type": "application/json", "Cookie": cookie, "Origin": base})
        r = c.getresponse(); r.read()
        if r.status != 201:
            failed.append(f"POST answered {r.status}: {r.read() or ''}")
            return
failed = []
threads = [threading.Thread(target=seed, args=(k, 4)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit(failed[0])
PY
hwm() { awk '/VmHWM/{print $2}' "/proc/$server/status"; }
echo "== figure export_rss_before_kb $(hwm)"
for fmt in csv xlsx; do
  t0=$(date +%s.%N)
  code=$(curl -s -o "$work/export.$fmt" -w '%{http_code}' -H "Cookie: $cookie" "$base/v1/data/customer/export?format=$fmt")
  t1=$(date +%s.%N)
  [ "$code" = 200 ] || { echo "export answered $code" >&2; exit 1; }
  size=$(stat -c %s "$work/export.$fmt")
  if [ $fmt = csv ]; then
    got=$(($(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8-sig"))))' "$work/export.csv") - 1))
  else
    got=$(python3 -c 'import zipfile,re,sys; x=zipfile.ZipFile(sys.argv[1]).read("xl/worksheets/sheet1.xml").decode(); print(len(re.findall("<row ", x)) - 1)' "$work/export.xlsx")
  fi
  # The sample's own customers owned by u-bob are exported too.
  [ "$got" -ge "$rows" ] || { echo "the $fmt export has $got rows, not $rows" >&2; exit 1; }
  echo "== figure export_${fmt}_seconds $(python3 -c "print(f'{$t1 - $t0:.2f}')")"
  echo "== figure export_${fmt}_bytes $size ($got rows)"
  echo "== figure export_rss_after_${fmt}_kb $(hwm)"
done
