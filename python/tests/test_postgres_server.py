"""The throwaway PostgreSQL server the test command starts (scripts/with-postgres.sh).

The ledger's PostgreSQL store (issue 21) is tested against this server; these
tests hold the harness to what that needs: a real server, reached on a Unix
socket only, run by an unprivileged user, with an empty cluster.
"""

from __future__ import annotations

from pathlib import Path

from postgres_server import psql as run_psql
from postgres_server import server_url


def psql(sql: str) -> str:
    return run_psql(sql).stdout.strip()


def test_the_server_is_a_real_postgresql_of_a_supported_version() -> None:
    major = int(psql("SHOW server_version_num")) // 10000
    assert major >= 15, f"PostgreSQL {major}: the ledger's store is written for 15 and later"


def test_the_server_listens_on_a_unix_socket_only() -> None:
    url = server_url()
    assert psql("SHOW listen_addresses") == ""
    socket_folder = Path(url.split("host=", 1)[1])
    assert socket_folder.is_dir()
    assert psql("SHOW unix_socket_directories") == str(socket_folder)


def test_the_server_runs_as_an_unprivileged_user_with_an_empty_cluster() -> None:
    assert psql("SELECT current_user") != "root"
    databases = psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")
    assert databases == "postgres,template0,template1"
    assert psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"
