#!/usr/bin/env bash
# Start / stop a throw-away PostgreSQL server on 127.0.0.1 for multi-worker studies and tests.
#
#   scripts/pg_local.sh start   # prints the storage URL: postgresql://nas:nas@127.0.0.1:PORT/nas
#   scripts/pg_local.sh url     # the URL of the running server
#   scripts/pg_local.sh stop    # stops the server and deletes its data directory
#
# Uses Debian's PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin; `apt-get install -y postgresql`),
# run as the `postgres` user when invoked as root. Data lives in $NAS_PG_DIR (default /tmp/nas-pg).
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
DIR=${NAS_PG_DIR:-/tmp/nas-pg}
PORT=${NAS_PG_PORT:-55432}
URL="postgresql://nas:nas@127.0.0.1:${PORT}/nas"

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-}" in
  start)
    [ -x "$PGBIN/initdb" ] || { echo "PostgreSQL binaries not found (apt-get install -y postgresql)" >&2; exit 1; }
    if [ -f "$DIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl -D $DIR/data status" >/dev/null 2>&1; then
      echo "$URL"; exit 0
    fi
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_pg "$PGBIN/initdb -D $DIR/data -U postgres -A trust --no-sync" >"$DIR.initdb.log" 2>&1
    as_pg "$PGBIN/pg_ctl -D $DIR/data -l $DIR/server.log -w -o \"-h 127.0.0.1 -p $PORT -k $DIR -c max_connections=200 -c fsync=off\" start" >/dev/null
    as_pg "$PGBIN/psql -h 127.0.0.1 -p $PORT -U postgres -qc \"CREATE ROLE nas LOGIN PASSWORD 'nas'\""
    as_pg "$PGBIN/psql -h 127.0.0.1 -p $PORT -U postgres -qc \"CREATE DATABASE nas OWNER nas\""
    # password auth for TCP clients from now on (so a wrong password is refused, as in production)
    as_pg "sed -i 's/^host\(.*\)trust$/host\1scram-sha-256/' $DIR/data/pg_hba.conf"
    as_pg "$PGBIN/pg_ctl -D $DIR/data reload" >/dev/null
    echo "$URL"
    ;;
  url) echo "$URL" ;;
  stop)
    if [ -d "$DIR/data" ]; then as_pg "$PGBIN/pg_ctl -D $DIR/data -m fast stop" >/dev/null 2>&1 || true; fi
    rm -rf "$DIR" "$DIR.initdb.log"
    ;;
  *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
esac
