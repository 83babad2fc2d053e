# Start a throwaway PostgreSQL server on 127.0.0.1 for the tests marked `postgres`.
#
#   source .ci/postgres.sh      # exports SKTRANSFORMERS_TEST_POSTGRES_URL
#   pytest -m postgres
#   skt_postgres_stop           # stop the server, delete its data
#
# Installs PostgreSQL from the Debian packages when it is missing (needs root),
# creates a cluster in a temporary directory owned by the `postgres` user (or
# the current user when not root), listens on loopback only, and creates the
# user `sktransformers` and the database `sktransformers_test`. Safe to source
# twice: a server that still answers is reused. Written to be sourced: it never
# exits the caller's shell and leaves its shell options alone.

skt_postgres_start() {
    local bindir pgdir port owner
    if [ -n "${SKTRANSFORMERS_TEST_POSTGRES_URL:-}" ] && [ -n "${SKT_PG_BINDIR:-}" ] \
        && "$SKT_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "${SKT_PG_PORT:-0}"; then
        echo "postgres: reusing $SKTRANSFORMERS_TEST_POSTGRES_URL"
        return 0
    fi
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "postgres: installing postgresql from the Debian packages"
        { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } || {
            echo "postgres: apt-get install postgresql failed" >&2; return 1; }
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
        [ -x "$bindir/initdb" ] || { echo "postgres: no initdb after install" >&2; return 1; }
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
    pgdir=$(mktemp -d /tmp/sktransformers-pg.XXXXXX) || return 1
    if [ "$(id -u)" = 0 ]; then
        owner=postgres
        chown postgres: "$pgdir"
        _skt_pg_run() { runuser -u postgres -- "$@"; }
    else
        owner=$(id -un)
        _skt_pg_run() { "$@"; }
    fi
    _skt_pg_run "$bindir/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync -E UTF8 \
        >"$pgdir/initdb.log" 2>&1 || { echo "postgres: initdb failed, see $pgdir/initdb.log" >&2; return 1; }
    _skt_pg_run "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off" start >/dev/null \
        || { echo "postgres: server did not start, see $pgdir/server.log" >&2; return 1; }
    _skt_pg_run "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE USER sktransformers PASSWORD 'sktransformers';" \
        -c "CREATE DATABASE sktransformers_test OWNER sktransformers;" \
        || { echo "postgres: could not create the test database" >&2; return 1; }
    export SKT_PG_BINDIR="$bindir" SKT_PG_DIR="$pgdir" SKT_PG_PORT="$port" SKT_PG_OWNER="$owner"
    export SKTRANSFORMERS_TEST_POSTGRES_URL="postgresql+psycopg2://sktransformers:sktransformers@127.0.0.1:$port/sktransformers_test"
    echo "postgres: SKTRANSFORMERS_TEST_POSTGRES_URL=$SKTRANSFORMERS_TEST_POSTGRES_URL"
}

skt_postgres_stop() {
    [ -n "${SKT_PG_DIR:-}" ] || return 0
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$SKT_PG_BINDIR/pg_ctl" -D "$SKT_PG_DIR/data" -m fast -w stop >/dev/null
    else
        "$SKT_PG_BINDIR/pg_ctl" -D "$SKT_PG_DIR/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$SKT_PG_DIR"
    unset SKT_PG_BINDIR SKT_PG_DIR SKT_PG_PORT SKT_PG_OWNER SKTRANSFORMERS_TEST_POSTGRES_URL
}

# A server that fails to start must not stop the caller (CI's `set -e`): the
# postgres tests then skip, naming SKTRANSFORMERS_TEST_POSTGRES_URL.
skt_postgres_start || echo "postgres: not started; tests marked postgres will skip" >&2
