#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL cluster, for the tests that
# need a real server (issue 21): `scripts/with-postgres.sh COMMAND...`.
#
# - The server's binaries: the newest /usr/lib/postgresql/*/bin (Debian's
#   layout), else those on the PATH, else Debian's `postgresql` package,
#   installed through apt-get.
# - The cluster: `initdb` into a new temporary folder, run as an unprivileged
#   user (`postgres` where it exists: PostgreSQL refuses to run as root),
#   listening on a Unix socket in that folder only (no TCP port to collide
#   with another run), fsync off (a test cluster is thrown away; the server
#   crashing is not the machine crashing, so a crash test holds without it;
#   DOSEPREP_TEST_POSTGRES_FSYNC=on turns it on, for a benchmark).
# - The command gets the server's URL in DOSEPREP_TEST_POSTGRES_URL, the
#   binaries' folder in DOSEPREP_TEST_POSTGRES_BIN, and what a test needs to
#   crash the server and start it again: its data folder, start options and
#   user (DOSEPREP_TEST_POSTGRES_DATA, _OPTIONS, _USER).
# - The server is stopped and the folder removed when the command ends,
#   also when it fails or is interrupted; the command's exit status is kept.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENT...]: run COMMAND beside a throwaway PostgreSQL server" >&2
    exit 2
fi

find_binaries() {
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$newest" ] && [ -x "$newest/initdb" ] && [ -x "$newest/pg_ctl" ]; then
        echo "$newest"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

bin=$(find_binaries)
if [ -z "$bin" ]; then
    echo "with-postgres: no PostgreSQL server binaries; installing Debian's postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(find_binaries)
    if [ -z "$bin" ]; then
        echo "with-postgres: apt-get installed postgresql but no initdb and pg_ctl were found under /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
fi

# PostgreSQL will not run as root: as root, the server runs as `postgres`
# (Debian's package creates it).
as_server() { "$@"; }
server_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "with-postgres: running as root and there is no user postgres to run the server as; install Debian's postgresql package (it creates one)" >&2
        exit 1
    fi
    server_user=postgres
    as_server() { runuser -u postgres -- "$@"; }
fi

folder=$(mktemp -d "${TMPDIR:-/tmp}/doseprep-postgres.XXXXXX")
chmod 0755 "$folder"
mkdir "$folder/data"
chown "$server_user" "$folder" "$folder/data"

stop() {
    status=$?
    if [ -f "$folder/data/postmaster.pid" ]; then
        as_server "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$folder"
    exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_server "$bin/initdb" -D "$folder/data" -U "$server_user" -A trust -E UTF8 \
    --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 || {
    cat "$folder/initdb.log" >&2
    exit 1
}
# fsync off unless asked (DOSEPREP_TEST_POSTGRES_FSYNC=on: a benchmark
# measures what a real server does).
options="-c listen_addresses='' -k $folder -c fsync=${DOSEPREP_TEST_POSTGRES_FSYNC:-off}"
as_server "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 30 \
    -o "$options" start >/dev/null || {
    cat "$folder/server.log" >&2
    exit 1
}

export DOSEPREP_TEST_POSTGRES_URL="postgresql://$server_user@/postgres?host=$folder"
export DOSEPREP_TEST_POSTGRES_BIN="$bin"
# For a test that crashes the server and starts it again (pg_ctl -D DATA
# -o OPTIONS start, as USER).
export DOSEPREP_TEST_POSTGRES_DATA="$folder/data"
export DOSEPREP_TEST_POSTGRES_OPTIONS="$options"
export DOSEPREP_TEST_POSTGRES_USER="$server_user"
"$@"
