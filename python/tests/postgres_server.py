"""The throwaway PostgreSQL server the test command starts around the suite
(scripts/with-postgres.sh), for the tests of the ledger's PostgreSQL store:
its URL, a new ledger database on it, psql, and a crash of the server.

Without the server the tests that need it fail (never skip): the test
command always starts one.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

HOW = "run the tests through scripts/with-postgres.sh (make python-test does)"
_NEXT = itertools.count()


def _environment(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        pytest.fail(f"no test PostgreSQL server ({name} is not set): {HOW}")
    return value


def server_url() -> str:
    """The URL of the server's own `postgres` database."""
    return _environment("DOSEPREP_TEST_POSTGRES_URL")


def binaries() -> Path:
    return Path(_environment("DOSEPREP_TEST_POSTGRES_BIN"))


def psql(sql: str, url: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`sql` run by psql on `url` (the server's database by default)."""
    done = subprocess.run(
        [binaries() / "psql", url or server_url(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         "-c", sql],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done


def new_database() -> str:
    """The URL of a new, empty place for a ledger: a schema of its own in the
    server's database, first on the connection's search path (quicker to
    make than a database, and as separate for a ledger)."""
    name = f"ledger_py_{os.getpid()}_{next(_NEXT)}"
    psql(f"CREATE SCHEMA {name}")
    return f"{server_url()}&options=-c%20search_path%3D{name}"


def crash_and_restart() -> None:
    """Stop the server as a crash does (`pg_ctl stop -m immediate`: no
    checkpoint, every backend killed), then start it again: it recovers
    from its write-ahead log."""
    data = _environment("DOSEPREP_TEST_POSTGRES_DATA")
    options = _environment("DOSEPREP_TEST_POSTGRES_OPTIONS")
    user = _environment("DOSEPREP_TEST_POSTGRES_USER")
    as_user = ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []
    pg_ctl = str(binaries() / "pg_ctl")
    subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run(
        [*as_user, pg_ctl, "-D", data, "-l", str(Path(data).parent / "server.log"), "-w",
         "-t", "30", "-o", options, "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip


def stored_events(location: str) -> list[dict[str, Any]]:
    """The event table as the store keeps it (each body as its text): read
    with the sqlite3 shell from a file, with psql from a server."""
    if location.startswith(("postgresql:", "postgres:")):
        text = psql("SELECT coalesce(json_agg(e ORDER BY seq), '[]') FROM event e", location).stdout
    else:
        text = subprocess.run(
            ["sqlite3", "-json", location, "SELECT * FROM event ORDER BY seq"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(text or "[]")
    return rows
