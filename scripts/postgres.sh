#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#
#   scripts/postgres.sh          start one (or reuse the one already started) and print its URL:
#                                postgresql://echelon:PASSWORD@127.0.0.1:PORT/echelon_test
#   scripts/postgres.sh stop     stop it and delete its data folder
#   scripts/postgres.sh url      print the URL of the running one (exit 1 if none)
#
# Installs PostgreSQL with apt-get when no server binaries are found (needs root on Debian).
# The cluster lives in a temporary folder, listens on 127.0.0.1 on a free port, and is owned by
# the `postgres` user when run as root (PostgreSQL refuses to run as root), else by the caller.
# It is tuned for tests (no fsync): never keep data in it. Only the URL goes to stdout; the
# Makefile does `export ECHELON_TEST_PG_URL=$(scripts/postgres.sh)`.
# State: $ECHELON_PG_STATE (default /tmp/echelon-pg-<uid>.state) holds the folder, port and URL.
set -euo pipefail

STATE="${ECHELON_PG_STATE:-${TMPDIR:-/tmp}/echelon-pg-$(id -u).state}"
DB=echelon_test
ROLE=echelon

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local best=""
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$d"
    done
    if [ -z "$best" ] && command -v pg_config >/dev/null 2>&1; then
        local d
        d="$(pg_config --bindir)"
        [ -x "$d/initdb" ] && best="$d"
    fi
    printf '%s' "$best"
}

install_server() {
    if [ "$(id -u)" -ne 0 ]; then
        log "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
        exit 1
    fi
    log "installing PostgreSQL with apt-get (a few minutes on a fresh machine)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

# Run a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local p
    for p in $(seq 54329 54429); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s' "$p"
            return 0
        fi
    done
    log "no free port in 54329-54429"
    exit 1
}

running() {
    [ -f "$STATE" ] || return 1
    # shellcheck disable=SC1090
    . "$STATE"
    [ -n "${PGDIR:-}" ] && [ -d "$PGDIR/data" ] || return 1
    as_owner "$BINDIR/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1
}

start() {
    if running; then
        printf '%s\n' "$URL"
        return 0
    fi
    rm -f "$STATE"
    BINDIR="$(find_bindir)"
    if [ -z "$BINDIR" ]; then
        install_server
        BINDIR="$(find_bindir)"
        [ -n "$BINDIR" ] || { log "PostgreSQL binaries not found after installing"; exit 1; }
    fi
    PGDIR="$(mktemp -d "${TMPDIR:-/tmp}/echelon-pg.XXXXXX")"
    chmod 755 "$PGDIR"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" postgres
        chown postgres: "$PGDIR"
    fi
    local port pass
    port="$(free_port)"
    pass="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    as_owner "$BINDIR/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 || {
        cat "$PGDIR/initdb.log" >&2
        exit 1
    }
    as_owner "$BINDIR/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
        -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >&2 || {
        cat "$PGDIR/server.log" >&2
        exit 1
    }
    as_owner "$BINDIR/psql" -q -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$port" -U postgres \
        -d postgres >&2 <<SQL
CREATE ROLE $ROLE LOGIN PASSWORD '$pass';
CREATE DATABASE $DB OWNER $ROLE;
SQL
    URL="postgresql://$ROLE:$pass@127.0.0.1:$port/$DB"
    umask 077
    printf 'PGDIR=%q\nBINDIR=%q\nPORT=%q\nURL=%q\n' "$PGDIR" "$BINDIR" "$port" "$URL" >"$STATE"
    log "started PostgreSQL on 127.0.0.1:$port (data in $PGDIR; stop: scripts/postgres.sh stop)"
    printf '%s\n' "$URL"
}

stop() {
    if [ ! -f "$STATE" ]; then
        log "no server started by this script"
        return 0
    fi
    # shellcheck disable=SC1090
    . "$STATE"
    if [ -d "$PGDIR/data" ]; then
        as_owner "$BINDIR/pg_ctl" -D "$PGDIR/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$PGDIR"
    rm -f "$STATE"
    log "stopped"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url) running && printf '%s\n' "$URL" ;;
*)
    log "usage: $0 [start|stop|url]"
    exit 2
    ;;
esac
