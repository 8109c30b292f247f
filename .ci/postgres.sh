#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the SQL tests (run as root).
# Usage: .ci/postgres.sh start DIR   -> prints the psql connection string
#        .ci/postgres.sh stop DIR
set -euo pipefail
action=$1
data=$2
port=${CLV_PG_PORT:-54329}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# The server runs as postgres, which may not enter the caller's directory.
cd /
case $action in
  start)
    mkdir -p "$data"
    chown postgres "$data"
    chmod 700 "$data"
    runuser -u postgres -- "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    rm -rf "$data"
    ;;
esac
