#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for tests, in a directory of your choice.
#
#   scripts/pg-cluster.sh start DIR   # create (first time) and start; prints the admin URL on stdout
#   scripts/pg-cluster.sh stop DIR    # stop it (the files stay; rm -rf DIR to throw them away)
#   scripts/pg-cluster.sh url DIR     # print the admin URL of a running cluster
#
# Typical use:
#   export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/wangge-pg)
#   cargo test -p wangge-store
#   scripts/pg-cluster.sh stop /tmp/wangge-pg
#
# The cluster listens on 127.0.0.1 only, on a free port, with its Unix socket in DIR/sock, trust
# authentication (tests only!), superuser `postgres`, and logs to DIR/log. PostgreSQL refuses to run
# as root, so when run as root the server runs as the `postgres` user and DIR is chowned to it.
# Fails loudly when PostGIS is not installed. Set PGBIN to choose the server binaries.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }
say() { echo "pg-cluster: $*" >&2; }

usage() { die "usage: $0 start|stop|url DIR"; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
sock=$dir/sock
log=$dir/log
portfile=$dir/port

find_bin() {
    if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
    local d
    # Highest installed major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
    done
    if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
    die "no PostgreSQL server binaries found (install postgresql-15, or set PGBIN)"
}
bin=$(find_bin)
[ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] || die "no initdb/pg_ctl in $bin"
psql_bin=$bin/psql
[ -x "$psql_bin" ] || psql_bin=$(command -v psql || true)
[ -n "$psql_bin" ] || die "psql not found (needed to check PostGIS)"

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

admin_url() { echo "postgres://postgres@127.0.0.1:$1/postgres"; }

running() { [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_in_use "$p" || { echo "$p"; return; }
    done
    die "no free port found"
}

sql() { # sql DB STATEMENT
    as_owner "$psql_bin" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$1" -c "$2"
}

start() {
    if running; then
        port=$(cat "$portfile")
        say "already running in $dir"
        admin_url "$port"
        return
    fi
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
        chown -R postgres:postgres "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "user postgres cannot write $dir (is a parent directory private?); choose a directory under /tmp"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "initdb in $data"
        as_owner "$bin/initdb" -D "$data" --username=postgres --auth=trust --encoding=UTF8 --no-locale \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    as_owner mkdir -p "$sock"
    local tries
    for tries in 1 2 3 4 5; do
        port=$(free_port)
        # Test-only settings: no fsync, short checkpoints are not needed; listen on 127.0.0.1 only.
        if as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >&2; then
            echo "$port" | as_owner tee "$portfile" >/dev/null
            break
        fi
        say "start on port $port failed (see $log); trying another port"
        port=""
    done
    [ -n "$port" ] || { tail -n 20 "$log" >&2 || true; die "PostgreSQL did not start"; }
    local i
    for i in $(seq 1 60); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null && break
        sleep 0.5
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || die "PostgreSQL is not accepting connections (see $log)"
    # PostGIS must be installed: try it in a scratch database.
    sql postgres "DROP DATABASE IF EXISTS pg_cluster_postgis_check" >/dev/null 2>&1 || true
    sql postgres "CREATE DATABASE pg_cluster_postgis_check" >&2 || die "cannot create a database"
    if ! sql pg_cluster_postgis_check "CREATE EXTENSION postgis" >&2; then
        sql postgres "DROP DATABASE IF EXISTS pg_cluster_postgis_check" >/dev/null 2>&1 || true
        as_owner "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true
        die "PostGIS is NOT installed for $("$bin/postgres" --version): CREATE EXTENSION postgis failed. Install it, e.g. apt-get install postgresql-15-postgis-3"
    fi
    sql postgres "DROP DATABASE pg_cluster_postgis_check" >&2
    say "running in $dir on 127.0.0.1:$port (log: $log)"
    admin_url "$port"
}

stop() {
    if running; then
        as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2
        say "stopped ($dir)"
    else
        say "not running ($dir)"
    fi
}

case $cmd in
    start) start ;;
    stop) stop ;;
    url) running || die "not running ($dir)"; admin_url "$(cat "$portfile")" ;;
    *) usage ;;
esac
