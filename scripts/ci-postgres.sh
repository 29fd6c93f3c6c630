#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for the test suite (CI).
#   scripts/ci-postgres.sh start|stop|url
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=/tmp/wharf-ci-pg PORT=${WHARF_PG_PORT:-54329}
case "$1" in
  start)
    rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres "$DIR"
    runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off" start >/dev/null
    runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" wharf
    echo "postgres: up on 127.0.0.1:$PORT" ;;
  stop)
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true ;;
  url) echo "postgres://postgres@127.0.0.1:$PORT/wharf" ;;
esac
