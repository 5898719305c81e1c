#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on loopback, owned by an unprivileged user.
#   scripts/pg.sh start DIR   initialises (once) and starts it; prints its URL
#   scripts/pg.sh stop DIR    stops it
# With PG_TLS=1 the cluster takes TCP connections only over TLS (`hostssl`; plain ones are
# rejected), with a certificate for `localhost` signed by a CA of its own in DIR/tls/ca.pem;
# the Unix socket in DIR stays open without TLS for setting up.
# Its default collation is ICU English, not byte order, so the tests see what a real
# database does to string comparisons.
set -euo pipefail
cmd=${1:?start or stop}
dir=$(realpath -m "${2:?a directory}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "no PostgreSQL server (scripts/setup.sh installs it)" >&2; exit 1; }
# initdb refuses to run as root: the cluster belongs to the `postgres` system user then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi }
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/db/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/db" -U fieldgate --auth=trust -E UTF8 \
      --locale=C.UTF-8 --locale-provider=icu --icu-locale=en >"$dir/initdb.log" 2>&1 \
      || { tail -20 "$dir/initdb.log" >&2; exit 1; }
  fi
  if [ -f "$dir/port" ] && as_owner "$bin/pg_ctl" -D "$dir/db" status >/dev/null 2>&1; then
    echo "postgres://fieldgate@127.0.0.1:$(cat "$dir/port")/postgres"
    exit 0
  fi
  # The same port across restarts (clients keep their URL); a free one the first time.
  if [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
  else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
  fi
  tls_opts=""
  if [ "${PG_TLS:-}" = 1 ]; then
    if [ ! -f "$dir/tls/server.pem" ]; then
      mkdir -p "$dir/tls"
      (
        cd "$dir/tls"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3 \
          -subj /CN=fieldgate-test-ca >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
          -subj /CN=localhost >/dev/null 2>&1
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
          -out server.pem -days 3 -extfile ext >/dev/null 2>&1
        chmod 600 server.key
      )
      [ "$(id -u)" = 0 ] && chown -R postgres "$dir/tls"
      printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n' \
        >"$dir/db/pg_hba.conf"
    fi
    tls_opts="-c ssl=on -c ssl_cert_file=$dir/tls/server.pem -c ssl_key_file=$dir/tls/server.key"
  fi
  as_owner "$bin/pg_ctl" -D "$dir/db" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200 $tls_opts" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
  echo "postgres://fieldgate@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -f "$dir/db/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir/db" -m fast -w stop >/dev/null 2>&1 || true
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
