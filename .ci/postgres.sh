# A throw-away PostgreSQL server for the CI scripts (source it; bash).
#
#   start_postgres        installs Debian's postgresql if it is missing, initdb's a
#                         cluster in a new temp dir (owned by user postgres), listening on
#                         127.0.0.1 only, on a free port, with its unix socket inside the
#                         temp dir; creates user `backprop` (random password, scram, CREATEDB:
#                         the Swift tests make a database per test) and
#                         database `backprop`; starts it (pg_ctl start -w) and exports
#                         BACKPROP_TEST_DATABASE_URL, PG_BIN, PG_DATA, PG_PORT, PG_TMP.
#                         Does nothing if the server of $PG_DATA is already running.
#   restart_postgres [S]  pg_ctl stop -m fast, S seconds down (default 0), start again:
#                         same data, same port (for fault tests). Needs only the exported
#                         variables, so a child process can call it:
#                           bash -c '. .ci/postgres.sh && restart_postgres 3'
#   stop_postgres         pg_ctl stop -m fast and removes the temp dir (copying the
#                         server log to $PG_LOG_COPY first if that is set). Safe to call
#                         twice, from a trap, or after a start that failed half-way.
#   pg_psql ARGS...       psql as user backprop over TCP with the URL (-X -q -v ON_ERROR_STOP=1).
#   pg_superuser_psql DB ARGS...
#                         psql as the superuser postgres on database DB, over the unix
#                         socket (for what user backprop may not do: CREATE TABLESPACE).
#
# initdb and the server run as user postgres (initdb refuses root) via runuser when
# this shell is root; as the calling user otherwise.

# shellcheck source=.ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # _ci_apt_install


# Runs a command as the PostgreSQL OS user, from inside the temp dir (postgres may not
# be able to read the caller's working directory).
_pg_as_owner() {
    if [[ $(id -u) == 0 ]]; then
        (cd "${PG_TMP:-/}" && runuser -u postgres -- "$@")
    else
        (cd "${PG_TMP:-/}" && "$@")
    fi
}

_pg_find_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]] || return 1
    printf '%s\n' "$dir"
}

_pg_install() {
    _pg_find_bin >/dev/null && return 0
    echo "postgres.sh: installing Debian's postgresql" >&2
    _ci_apt_install postgresql || return 1
    _pg_find_bin >/dev/null
}

# True if the server of $PG_DATA is running.
_pg_running() {
    [[ -n ${PG_BIN:-} && -n ${PG_DATA:-} && -f ${PG_DATA}/postmaster.pid ]] || return 1
    _pg_as_owner "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

_pg_start_server() {
    _pg_as_owner "$PG_BIN/pg_ctl" start -w -t 60 -D "$PG_DATA" -l "$PG_TMP/postgres.log" >/dev/null || {
        echo "postgres.sh: pg_ctl start failed; the end of its log:" >&2
        tail -n 30 "$PG_TMP/postgres.log" >&2 2>/dev/null || true
        return 1
    }
}

start_postgres() {
    if _pg_running; then
        return 0
    fi
    _pg_install || { echo "postgres.sh: could not install postgresql" >&2; return 1; }
    PG_BIN=$(_pg_find_bin)
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || { echo "postgres.sh: no OS user postgres" >&2; return 1; }
    fi
    PG_TMP=$(mktemp -d /tmp/backprop-pg.XXXXXX)
    PG_DATA=$PG_TMP/data
    export PG_BIN PG_TMP PG_DATA
    mkdir -p "$PG_TMP/sock"
    [[ $(id -u) == 0 ]] && chown -R postgres: "$PG_TMP"
    chmod 700 "$PG_TMP"

    local password port
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    port=$("${PY:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

    _pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_TMP/initdb.log" 2>&1 || {
        echo "postgres.sh: initdb failed:" >&2
        cat "$PG_TMP/initdb.log" >&2
        return 1
    }
    # Unix socket (in a 700 dir only postgres can enter): trust, for the superuser's
    # setup below; TCP: 127.0.0.1 only, with a password.
    _pg_as_owner tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
local all all                trust
host  all all 127.0.0.1/32   scram-sha-256
EOF
    _pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# postgres.sh (a throw-away test server)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_TMP/sock'
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_connections = off
EOF
    PG_PORT=$port
    export PG_PORT
    _pg_start_server || return 1
    _pg_as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TMP/sock" -p "$PG_PORT" -U postgres -d postgres \
        -c "CREATE ROLE backprop LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE DATABASE backprop OWNER backprop" >/dev/null || {
        echo "postgres.sh: could not create user and database backprop" >&2
        return 1
    }
    BACKPROP_TEST_DATABASE_URL="postgres://backprop:$password@127.0.0.1:$PG_PORT/backprop?sslmode=disable"
    export BACKPROP_TEST_DATABASE_URL
}

restart_postgres() {
    local down=${1:-0}
    [[ -n ${PG_BIN:-} && -n ${PG_DATA:-} && -d ${PG_DATA:-/nonexistent} ]] || {
        echo "postgres.sh: restart_postgres: no server (start_postgres first)" >&2
        return 1
    }
    _pg_as_owner "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$PG_DATA" >/dev/null 2>&1 || true
    if [[ $down != 0 ]]; then
        sleep "$down"
    fi
    _pg_start_server
}

stop_postgres() {
    if _pg_running; then
        _pg_as_owner "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$PG_DATA" >/dev/null 2>&1 || true
    fi
    if [[ -n ${PG_TMP:-} && -d $PG_TMP && $PG_TMP == /tmp/backprop-pg.* ]]; then
        if [[ -n ${PG_LOG_COPY:-} && -f $PG_TMP/postgres.log ]]; then
            cp "$PG_TMP/postgres.log" "$PG_LOG_COPY" 2>/dev/null || true
        fi
        rm -rf "$PG_TMP"
    fi
    unset PG_TMP PG_DATA PG_PORT BACKPROP_TEST_DATABASE_URL
}

pg_psql() {
    [[ -n ${BACKPROP_TEST_DATABASE_URL:-} ]] || { echo "postgres.sh: pg_psql: no server" >&2; return 1; }
    "${PG_BIN:+$PG_BIN/}psql" -X -q -v ON_ERROR_STOP=1 "$BACKPROP_TEST_DATABASE_URL" "$@"
}

pg_superuser_psql() {
    local database=$1
    shift
    [[ -n ${PG_BIN:-} && -n ${PG_TMP:-} && -n ${PG_PORT:-} ]] || { echo "postgres.sh: pg_superuser_psql: no server" >&2; return 1; }
    _pg_as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TMP/sock" -p "$PG_PORT" -U postgres -d "$database" "$@"
}
