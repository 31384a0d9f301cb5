"""The throwaway PostgreSQL server the test command starts (scripts/with-postgres.sh).

The ledger's PostgreSQL store (issue 21) is tested against this server; these
tests hold the harness to what that needs: a real server, reached on a Unix
socket only, run by an unprivileged user, with an empty cluster.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HOW = "run the tests through scripts/with-postgres.sh (make python-test does)"


def server() -> tuple[str, Path]:
    url = os.environ.get("DOSEPREP_TEST_POSTGRES_URL")
    binaries = os.environ.get("DOSEPREP_TEST_POSTGRES_BIN")
    if url is None or binaries is None:
        pytest.fail(f"no test PostgreSQL server: {HOW}")
    return url, Path(binaries)


def psql(sql: str) -> str:
    url, binaries = server()
    done = subprocess.run(
        [binaries / "psql", url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_server_is_a_real_postgresql_of_a_supported_version() -> None:
    major = int(psql("SHOW server_version_num")) // 10000
    assert major >= 15, f"PostgreSQL {major}: the ledger's store is written for 15 and later"


def test_the_server_listens_on_a_unix_socket_only() -> None:
    url, _ = server()
    assert psql("SHOW listen_addresses") == ""
    socket_folder = Path(url.split("host=", 1)[1])
    assert socket_folder.is_dir()
    assert psql("SHOW unix_socket_directories") == str(socket_folder)


def test_the_server_runs_as_an_unprivileged_user_with_an_empty_cluster() -> None:
    assert psql("SELECT current_user") != "root"
    databases = psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")
    assert databases == "postgres,template0,template1"
    assert psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"
