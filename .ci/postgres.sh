#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the pgfirehose tests, on loopback only.
#
#   eval "$(.ci/postgres.sh)"          # prints export lines and a stop command
#   trap "$PGFIREHOSE_STOP" EXIT        # the caller stops it
#   (cd pgfirehose && FIREHOSE_REQUIRE_POSTGRES=1 go test ./...)
#
# When PGHOST is already set, nothing is started: the tests use that server.
# Otherwise postgresql is installed if missing (apt-get), a cluster is made
# with initdb in a temporary directory as the postgres user, started with
# pg_ctl on 127.0.0.1 and a free port (fsync off: it is thrown away), and a
# database is created. Everything else goes to stderr, so eval sees only the
# export lines.
set -euo pipefail

if [ -n "${PGHOST:-}" ]; then
  echo "postgres.sh: PGHOST=$PGHOST already set; using it" >&2
  echo "export PGFIREHOSE_STOP=true"
  exit 0
fi

find_bin() {
  local b
  if b=$(command -v "$1" 2>/dev/null); then echo "$b"; return 0; fi
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  return 1
}

if ! find_bin initdb >/dev/null; then
  echo "postgres.sh: installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
PSQL=$(find_bin psql)

# As root, the cluster belongs to the postgres user; otherwise to whoever runs.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
DBUSER=$( [ "$(id -u)" = 0 ] && echo postgres || id -un )

# A free port: ask the kernel for one on loopback.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
  echo $(( 20000 + RANDOM % 20000 )))

DIR=$(mktemp -d /tmp/pgfirehose.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
as_pg "$INITDB" -D "$DIR/data" -U "$DBUSER" --auth=trust --no-sync -E UTF8 >&2
as_pg "$PG_CTL" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-c fsync=off -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -p $PORT" start >&2
as_pg "$PSQL" -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d postgres -qc "CREATE DATABASE firehose_test" >&2

STOP="$PG_CTL -D $DIR/data -m fast stop; rm -rf $DIR"
if [ "$(id -u)" = 0 ]; then
  STOP="runuser -u postgres -- $PG_CTL -D $DIR/data -m fast stop >/dev/null; rm -rf $DIR"
fi
echo "export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=$DBUSER PGDATABASE=firehose_test PGSSLMODE=disable"
printf 'export PGFIREHOSE_STOP=%q\n' "$STOP"
echo "# stop it with: eval \"\$PGFIREHOSE_STOP\"" 
