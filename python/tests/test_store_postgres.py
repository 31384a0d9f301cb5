"""The ledger on a real PostgreSQL server (the one the test command starts):
the same events, rules and exports as on an SQLite file, the chain
recomputed from what the server stores, edits refused by the server and
found by verify, refusals of what is not a ledger, a read-only connection,
eight writers at once, and the server crashing in the middle of days."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from postgres_server import crash_and_restart, new_database, psql, server_url, stored_events
from test_ledger import RECEIVED_AT, _hash, do_the_day, plan, twelve_containers

import doseprep as dp

WRITER = Path(__file__).with_name("ledger_writer.py")


def _server_rows(url: str) -> list[dict[str, Any]]:
    """The event table as the server stores it (the body as its text), read
    with psql."""
    text = psql("SELECT coalesce(json_agg(e ORDER BY seq), '[]') FROM event e", url).stdout
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def _what_happened(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """An event's facts, without when it was written (each ledger was
    written at its own moment: a plan is dated when it is written) and the
    hashes that include it."""
    return [
        (e["seq"], e["kind"], None if e["kind"] == "plan" else e["at"], e["initials"],
         e["comment"], e["body"])
        for e in events
    ]  # fmt: skip


def test_a_day_on_the_server_reads_as_it_does_in_a_file(
    tmp_path: Path, protocol: dp.Protocol
) -> None:
    url = new_database()
    ledgers = [dp.Ledger.create(tmp_path / "pharmacy.db"), dp.Ledger.create(url)]
    day = plan(protocol)  # one plan (its bag ids are drawn at random), recorded in both
    for ledger in ledgers:
        ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
        assert do_the_day(ledger, day) == [2, 3, 4, 5, 6, 7, 8]
        assert ledger.verify().ok
    on_file, on_server = ledgers
    assert _what_happened(on_server.events()) == _what_happened(on_file.events())
    assert on_server.export_blinded_csv() == on_file.export_blinded_csv()
    assert repr(on_server.balance("UC-0042")) == repr(on_file.balance("UC-0042"))
    assert on_server.in_stock("UC-0042") == on_file.in_stock("UC-0042") == list(range(3, 13))
    assert on_server.location == url
    assert repr(on_server) == f'Ledger("{url}")'
    with pytest.raises(ValueError, match="on a PostgreSQL server, not in a file"):
        _ = on_server.path
    # The chain recomputes, by the README's formula, from the server's rows.
    rows = _server_rows(url)
    assert [row["hash"] for row in rows] == [_hash(row) for row in rows]
    assert [row["prev_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]
    assert [row["hash"] for row in rows] == [e["hash"] for e in on_server.events()]


def test_the_server_refuses_edits_and_verify_names_those_made_around_it(
    protocol: dp.Protocol,
) -> None:
    url = new_database()
    ledger = dp.Ledger.create(url)
    ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    do_the_day(ledger, plan(protocol))
    for edit in (
        "UPDATE event SET initials = 'XX' WHERE seq = 5",
        "DELETE FROM event WHERE seq = 8",
        "TRUNCATE event CASCADE",
    ):
        refused = psql(edit, url, check=False)
        assert refused.returncode != 0
        assert "the ledger is append-only" in refused.stderr, refused.stderr
    assert ledger.verify().ok
    # A state table edited behind the ledger's back.
    psql("UPDATE container SET state = 'in stock', was_thawed = 0 WHERE number = 1", url)
    verification = ledger.verify()
    assert not verification.ok
    assert "the state tables were edited" in (verification.problem or "")
    psql("UPDATE container SET state = 'thawed', was_thawed = 1 WHERE number = 1", url)
    assert ledger.verify().ok
    # An event edited by the server's owner, the triggers switched off.
    psql(
        "ALTER TABLE event DISABLE TRIGGER USER; "
        "UPDATE event SET initials = 'XX' WHERE seq = 5; "
        "ALTER TABLE event ENABLE TRIGGER USER",
        url,
    )
    verification = ledger.verify()
    assert not verification.ok
    assert verification.problem_seq == 5, verification.problem


def test_what_is_not_a_ledger_on_the_server_is_refused_and_no_password_is_shown() -> None:
    empty = new_database()
    with pytest.raises(FileNotFoundError, match="holds no ledger"):
        dp.Ledger(empty)
    # The server's own tables, not a ledger's.
    psql("CREATE TABLE patients (id integer)", empty)
    with pytest.raises(dp.LedgerError, match="not a doseprep ledger") as other:
        dp.Ledger(empty)
    assert other.value.code == "not_a_ledger"
    with pytest.raises(FileExistsError, match="already holds tables"):
        dp.Ledger.create(empty)
    # A password in the URL is never repeated (the test server trusts
    # its socket, so any password connects).
    with_password = new_database().replace("postgres@", "postgres:hunter2@", 1)
    with pytest.raises(FileNotFoundError) as missing:
        dp.Ledger(with_password)
    assert "hunter2" not in str(missing.value)
    ledger = dp.Ledger.create(with_password)
    assert "hunter2" not in ledger.location + repr(ledger)
    as_parameter = new_database() + "&password=hunter2"
    assert "hunter2" not in dp.Ledger.create(as_parameter).location
    assert ledger.location.startswith("postgresql://postgres@/")
    # No server there.
    with pytest.raises(dp.FaultError) as unreachable:
        dp.Ledger("postgresql://postgres@/postgres?host=/nonexistent-folder")
    assert unreachable.value.code == "database_cannot_open"


def test_a_read_only_connection_verifies_and_exports_and_records_nothing(
    protocol: dp.Protocol,
) -> None:
    url = new_database()
    writer = dp.Ledger.create(url)
    writer.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    reader = dp.Ledger.open_read_only(url)
    assert reader.verify().ok
    assert reader.balance("UC-0042").on_hand == 12
    with pytest.raises(dp.FaultError) as refused:
        reader.thaw("UC-0042", [1], at="2026-11-25T08:30:00-05:00", initials="MH")
    assert refused.value.code == "database_read_only"
    assert reader.verify().events == 1


def _start(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _returned(output: str) -> list[list[int]]:
    """The event numbers of each call that returned (whole lines only)."""
    return [
        [int(n) for n in line.split()]
        for line in output.splitlines(keepends=True)
        if line.endswith("\n")
    ]


def test_eight_writers_at_once_keep_every_event_on_one_chain() -> None:
    url = new_database()
    ledger = dp.Ledger.create(url)
    lots = [f"W{n}" for n in range(8)]
    events = 60
    writers = [_start(url, "thaws", lot_id, str(events), "0.001") for lot_id in lots]
    outputs = [writer.communicate(timeout=300) for writer in writers]
    for writer, (_, errors) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, errors
    verification = ledger.verify()
    assert verification.ok, verification.problem
    assert verification.events == len(lots) * (events + 1)
    stored = ledger.events()
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    for lot_id, (output, _) in zip(lots, outputs, strict=True):
        numbers = [n for call in _returned(output) for n in call]
        assert len(numbers) == events + 1
        assert [e["seq"] for e in stored if e["body"]["lot_id"] == lot_id] == numbers
        assert ledger.balance(lot_id).thawed == events
    switches = sum(1 for a, b in itertools.pairwise(e["body"]["lot_id"] for e in stored) if a != b)
    assert switches > len(lots), "the writers ran one after the other; the test proved nothing"


def test_a_server_crash_in_the_middle_of_days_loses_no_event_it_returned() -> None:
    """The server stopped as a crash does (`pg_ctl stop -m immediate`) while
    a writer records day after day, and started again: every event whose
    call returned is there, a day is there whole or not at all, and the
    chain verifies; a writer then goes on recording."""
    crashes = 3
    for crash in range(crashes):
        url = new_database()
        dp.Ledger.create(url)
        writer = _start(url, "days", f"S{crash}")
        # Until the writer has returned a few days.
        deadline = time.monotonic() + 60
        lines = 0
        assert writer.stdout is not None
        read: list[str] = []
        while lines < 3 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            read.append(line)
            lines += 1
        assert lines == 3, writer.stderr.read() if writer.stderr else ""
        crash_and_restart()
        try:
            rest, errors = writer.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            writer.send_signal(signal.SIGKILL)
            rest, errors = writer.communicate(timeout=30)
        assert writer.returncode != 0, "the writer did not notice its server going away"
        assert "database_cannot_open" in errors or "PostgreSQL" in errors, errors
        numbers = [n for call in _returned("".join(read) + rest) for n in call]
        ledger = dp.Ledger(url)
        verification = ledger.verify()
        assert verification.ok, verification.problem
        stored = {event["seq"]: event for event in ledger.events()}
        lost = [seq for seq in numbers if seq not in stored]
        assert lost == [], f"crash {crash}: events {lost} were returned but are not on the server"
        extra = [stored[seq] for seq in sorted(stored) if seq > max(numbers)]
        assert len([e for e in extra if e["kind"] == "plan"]) in (0, 6), "a part of a day"
        # The ledger goes on after the crash.
        after = dp.Ledger(url)
        assert after.thaw(
            next(iter(after.lot_ids())), [after.in_stock(next(iter(after.lot_ids())))[0]],
            at="2026-11-25T08:30:00-05:00", initials="W",
        ) == len(stored) + 1  # fmt: skip
        assert after.verify().ok
    assert server_url()


def test_the_readmes_commands_on_a_server(tmp_path: Path) -> None:
    """`doseprep ledger init/receive/verify/balance` and `doseprep day
    --ledger` given the server's URL, as the README shows them."""
    from test_ledger_processes import DAY_LOTS, DAY_ORDERS, DOSEPREP

    url = new_database()
    (tmp_path / "orders.csv").write_text(DAY_ORDERS)
    (tmp_path / "lots.toml").write_text(DAY_LOTS)
    (tmp_path / "randomization.csv").write_text(
        "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\n"
    )

    def doseprep(*args: str) -> str:
        done = subprocess.run(
            [str(DOSEPREP), *args], capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert doseprep("ledger", "init", url) == f"{url}: a new, empty ledger\n"
    bench_1 = ("ledger", "--workstation", "bench-1")
    doseprep(*bench_1, "set-site", url, "JGH", "--name", "Jewish General Hospital",
             "--initials", "MH")  # fmt: skip
    doseprep(*bench_1, "receive", url, str(tmp_path / "lots.toml"),
             "--at", "2026-11-20T10:00:00-05:00", "--initials", "MH")  # fmt: skip
    # The two benches at once: bench-2 counts while bench-1 records the day.
    count = subprocess.Popen(
        [str(DOSEPREP), "ledger", "--workstation", "bench-2", "count", url, "UC-0042",
         "--counted", "12", "--at", "2026-11-24T17:00:00-05:00", "--initials", "AB"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    said = doseprep(
        "day", str(tmp_path / "orders.csv"), "--randomization",
        str(tmp_path / "randomization.csv"), "--lots", str(tmp_path / "lots.toml"),
        "--out", str(tmp_path / "day"), "--ledger", url, "--workstation", "bench-1",
        "--initials", "MH",
    )  # fmt: skip
    counted, failed = count.communicate(timeout=120)
    assert count.returncode == 0, failed
    assert counted.startswith("lot UC-0042: counted 12, expected 12: agrees (event "), counted
    assert re.search(r"events (3 to 5|4 to 6)", said), said
    assert doseprep("ledger", "verify", url).startswith("ledger verified: 6 events, head ")
    assert "on hand 12" in doseprep("ledger", "balance", url)
    events = dp.Ledger(url).events()
    assert sorted((e["kind"], e["workstation"]) for e in events) == [
        ("count", "bench-2"), ("plan", "bench-1"), ("plan", "bench-1"), ("plan", "bench-1"),
        ("receive", "bench-1"), ("set_site", "bench-1"),
    ]  # fmt: skip
    assert {e["site"] for e in events} == {"JGH"}


def _login(role: str) -> str:
    """A new login of `role` (doseprep_writer, _auditor or _monitor); its name."""
    name = f"{role.removeprefix('doseprep_')}_{next(_LOGINS)}_{id(_LOGINS)}"
    psql(f"CREATE ROLE {name} LOGIN IN ROLE {role}")
    return name


_LOGINS = itertools.count()


def _as(url: str, login: str) -> str:
    return url.replace("postgres@", f"{login}@", 1)


def test_the_server_decides_who_may_do_what(protocol: dp.Protocol) -> None:
    """A writer records and cannot change or delete an event (no grant,
    before any trigger); an auditor verifies and exports and writes
    nothing; a blinded monitor reads the blinded log, the same as the
    ledger's blinded export, and nothing else."""
    url = new_database()
    owner = dp.Ledger.create(url)
    writer_url = _as(url, _login("doseprep_writer"))
    # A login that records does not own a ledger: the owner may change
    # anything, whatever the roles.
    with pytest.raises(dp.LedgerError, match="is a member of doseprep_writer") as owning:
        dp.Ledger.create(_as(new_database(), writer_url.split("://", 1)[1].split("@", 1)[0]))
    assert owning.value.code == "owner_in_role"
    writer = dp.Ledger(writer_url)
    writer.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    day = plan(protocol)
    do_the_day(writer, day)
    active, twin, placebo = (
        bag.bag_id or "" for bag in day.bags if isinstance(bag, dp.Preparation)
    )
    writer.dispense(active, to="ward 5", at="2026-11-25T10:50:00-05:00", initials="MH")
    writer.administer(active, participant="CARE-001", started_at="2026-11-25T11:00:00-05:00",
                      ended_at="2026-11-25T11:25:00-05:00", initials="RN")  # fmt: skip
    writer.destroy_bag(twin, reason="bag punctured", at="2026-11-25T10:55:00-05:00", initials="MH")
    writer.dispense(placebo, to="ward 5", at="2026-11-25T10:52:00-05:00", initials="MH")
    assert writer.verify().ok
    for edit in (
        "UPDATE event SET initials = 'XX' WHERE seq = 5",
        "DELETE FROM event WHERE seq = 5",
        "TRUNCATE event CASCADE",
        "TRUNCATE container CASCADE",
        "CREATE TABLE mine (x integer)",
    ):
        refused = psql(edit, writer_url, check=False)
        assert refused.returncode != 0, edit
        assert "permission denied" in refused.stderr, (edit, refused.stderr)
    # Nor may a writer switch the triggers off or drop the table: the owner's alone.
    for edit in ("ALTER TABLE event DISABLE TRIGGER USER", "DROP TABLE event CASCADE"):
        refused = psql(edit, writer_url, check=False)
        assert refused.returncode != 0, edit
        assert "must be owner of table event" in refused.stderr, (edit, refused.stderr)

    auditor_url = _as(url, _login("doseprep_auditor"))
    auditor = dp.Ledger(auditor_url)
    assert auditor.verify().ok
    assert auditor.export_csv() == owner.export_csv()
    assert auditor.export_blinded_csv() == owner.export_blinded_csv()
    with pytest.raises(dp.FaultError) as refused_event:
        auditor.reconcile("UC-0042", counted=10, at="2026-11-25T17:00:00-05:00", initials="AU")
    assert refused_event.value.code == "database_permission"
    assert "ask the server's administrator" in str(refused_event.value)
    # The refused write left no transaction open: the connection goes on.
    assert auditor.verify().ok
    for edit in (
        "INSERT INTO head VALUES (1, 1, 'x')",
        "UPDATE container SET state = 'in stock'",
        "DELETE FROM draw",
        "SELECT phc FROM credential",
    ):
        refused = psql(edit, auditor_url, check=False)
        assert refused.returncode != 0, edit
        assert "permission denied" in refused.stderr, (edit, refused.stderr)

    monitor_url = _as(url, _login("doseprep_monitor"))
    shown = psql(
        "COPY (SELECT * FROM blinded_log) TO STDOUT WITH (FORMAT csv, HEADER)", monitor_url
    ).stdout
    assert shown.replace("\r\n", "\n") == owner.export_blinded_csv().replace("\r\n", "\n")
    assert shown.count("\n") == 1 + 3 * 2 + 4  # a plan and a making a bag, then its ward events
    for read in ("event", "lot", "container", "bag", "draw", '"user"', "correction", "head"):
        refused = psql(f"SELECT * FROM {read}", monitor_url, check=False)
        assert refused.returncode != 0, read
        assert "permission denied" in refused.stderr, (read, refused.stderr)


def _centre_rows(url: str, site: str) -> list[dict[str, Any]]:
    text = psql(
        f"SELECT coalesce(json_agg(e ORDER BY seq), '[]') FROM site_event e WHERE site = '{site}'",
        url,
    ).stdout
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def test_a_sites_ledger_is_pushed_once_and_the_centre_checks_every_event(
    tmp_path: Path, protocol: dp.Protocol
) -> None:
    central = new_database()
    dp.Ledger.create_central(central)
    site = dp.Ledger.create(tmp_path / "jgh.db", workstation="bench-1")
    site.set_site("JGH", name="Jewish General Hospital", initials="MH")
    with pytest.raises(dp.LedgerError, match="holds no central ledger") as not_central:
        site.push(new_database(), site="JGH")
    assert not_central.value.code == "no_central"
    # Non-ASCII and a line break: the server escapes them as the ledger does.
    site.receive(twelve_containers(), at=RECEIVED_AT, initials="MH",
                 comment="réception à 10 h\nlot intact")  # fmt: skip
    early = tmp_path / "jgh-early.db"  # a copy (SQLite's backup: the log's pages too)
    with sqlite3.connect(tmp_path / "jgh.db") as source, sqlite3.connect(early) as copy:
        source.backup(copy)
    do_the_day(site, plan(protocol))
    head = site.verify().head
    assert site.push(central, site="JGH") == {
        "site": "JGH", "held": 0, "sent": 9, "head_seq": 9, "head_hash": head,
    }  # fmt: skip
    rows = _centre_rows(central, "JGH")
    assert [(r["seq"], r["hash"]) for r in rows] == [(e["seq"], e["hash"]) for e in site.events()]
    # The event's own site is event_site (site is the site it was pushed as).
    assert [_hash({**row, "site": row["event_site"]}) for row in rows] == [r["hash"] for r in rows]
    # Again: nothing to send. Then only what is new.
    assert site.push(central, site="JGH")["sent"] == 0
    site.reconcile("UC-0042", counted=10, at="2026-11-25T17:00:00-05:00", initials="MH")
    assert site.push(central, site="JGH")["held"] == 9
    assert len(_centre_rows(central, "JGH")) == 10
    # Another ledger that claims JGH (set at another bench), and JGH's own
    # file from before the day.
    other = dp.Ledger.create(tmp_path / "chum.db", workstation="bench-9")
    other.set_site("JGH", name="Jewish General Hospital", initials="CL")
    with pytest.raises(dp.LedgerError, match="push refused at event 1 of site JGH") as forked:
        other.push(central, site="JGH")
    assert forked.value.code == "push_refused"
    with pytest.raises(
        dp.LedgerError, match=r"push refused at event 3 .* this ledger has 2 events"
    ):
        dp.Ledger(early).push(central, site="JGH")
    assert len(_centre_rows(central, "JGH")) == 10  # nothing was pushed
    with pytest.raises(dp.LedgerError) as badly_named:
        other.push(central, site="CHUM MONTRÉAL")
    assert badly_named.value.code == "site_name"
    chum = dp.Ledger.create(tmp_path / "chum-own.db", workstation="pharm-a")
    chum.set_site("CHUM", name="CHUM", initials="CL")
    assert chum.push(central, site="CHUM")["sent"] == 1
    # The server itself refuses what is not the site's next event.
    [first] = _centre_rows(central, "CHUM")
    for forged, says in (
        (f"'{first['hash']}', repeat('a', 64)", "is not the event its hash was taken of"),
        ("repeat('b', 64), repeat('a', 64)", "does not follow the event before it"),
    ):
        refused = psql(
            "INSERT INTO site_event (site, seq, kind, at, initials, body, prev_hash, hash) "
            f"VALUES ('CHUM', 2, 'count', '2026-11-25T17:00:00-05:00', 'CL', '{{}}', {forged})",
            central,
            check=False,
        )
        assert refused.returncode != 0
        assert says in refused.stderr, refused.stderr
    refused = psql("UPDATE site_event SET initials = 'XX'", central, check=False)
    assert "the central ledger is append-only" in refused.stderr


def test_a_push_killed_at_any_moment_is_finished_by_the_next(tmp_path: Path) -> None:
    """`doseprep ledger push` killed with SIGKILL while it sends (batches of
    500 events, each its own transaction), then run again: the centre
    holds every event once, in order, and nothing else."""
    from test_ledger_processes import DOSEPREP

    path = tmp_path / "site.db"
    dp.Ledger.create(path)
    dp.Ledger(path, workstation="bench-1").set_site("MUSC", name="MUSC", initials="MH")
    made = subprocess.run([sys.executable, str(WRITER), str(path), "thaws", "L", "2000"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "WRITER_WORKSTATION": "bench-1"})  # fmt: skip
    assert made.returncode == 0, made.stderr
    events = [e["hash"] for e in dp.Ledger(path).events()]
    assert len(events) == 2002
    central = new_database()
    dp.Ledger.create_central(central)
    push = [str(DOSEPREP), "ledger", "push", str(path), central, "--site", "MUSC"]

    def held_count() -> int:
        return int(psql("SELECT count(*) FROM site_event WHERE site = 'MUSC'", central).stdout)

    partial = 0
    for _ in range(6):
        before = held_count()
        pushing = subprocess.Popen(push, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Killed as soon as the centre holds more than before (a batch
        # committed, the next being sent), or at once when it has finished.
        deadline = time.monotonic() + 60
        while pushing.poll() is None and held_count() == before:
            assert time.monotonic() < deadline, "the push sent nothing for a minute"
            time.sleep(0.01)
        pushing.send_signal(signal.SIGKILL)
        pushing.wait(timeout=30)
        held = [r["hash"] for r in _centre_rows(central, "MUSC")]
        assert held == events[: len(held)], (
            "the centre holds events out of order or not this ledger's"
        )
        # The ledger's first event (its set_site) goes alone, then 500 at a time.
        assert (len(held) - 1) % 500 == 0 or len(held) == len(events), "a part of a batch"
        partial += 0 < len(held) < len(events)
    done = subprocess.run(push, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{len(events)} held already" in done.stdout or "events sent" in done.stdout
    assert [r["hash"] for r in _centre_rows(central, "MUSC")] == events
    assert partial > 0, "no kill fell mid-push; the test proved nothing"


def test_a_signed_late_ledger_is_pushed_by_a_login_that_may_only_insert(tmp_path: Path) -> None:
    """The server's hash of a signed event (ten fields) and of a late one
    (eleven), with the escapes a new event's text may need (quotes, a
    backslash, a tab, a line break; other control characters are refused
    before they are recorded) and non-ASCII text, is the ledger's; and a
    login of doseprep_pusher (select and insert only) pushes, but cannot
    change what it pushed."""
    from test_bad_inputs import _staff

    central = new_database()
    dp.Ledger.create_central(central)
    pusher = _login("doseprep_pusher")
    _staff(dp.Ledger.create(tmp_path / "muhc.db"))
    site = dp.Ledger(tmp_path / "muhc.db", workstation="bench-1")
    mh = "mh's own long passphrase"
    admin = "correct horse battery staple"
    site.sign_in("admin", passphrase=admin)
    site.set_site("MUHC", name="McGill University Health Centre", passphrase=admin)
    site.configure(late_entry_after="1 h", signature=admin)
    site.sign_in("mh", passphrase=mh)
    site.receive(twelve_containers(), at=RECEIVED_AT, passphrase=mh,
                 late_reason="reçu \"tard\"\tici \u2028 \\ 😀",
                 comment="line\r\nbreak \\ é 😀")  # fmt: skip
    stored = site.events()
    kinds = {
        len([k for k in ("recorded_at", "signer", "meaning") if e[k] is not None]) for e in stored
    }
    assert 3 in kinds
    assert any(e["late_reason"] for e in stored)
    url = _as(central, pusher)
    # Not named for the site yet: refused before anything is sent.
    with pytest.raises(dp.LedgerError) as refused_push:
        site.push(url, site="MUHC")
    assert refused_push.value.code == "pusher_not_for_site"
    assert f"INSERT INTO site_pusher (site, login) VALUES ('MUHC', '{pusher}')" in str(
        refused_push.value
    )
    psql(f"INSERT INTO site_pusher (site, login) VALUES ('MUHC', '{pusher}')", central)
    assert site.push(url, site="MUHC")["sent"] == len(stored)
    rows = _centre_rows(central, "MUHC")
    assert [r["hash"] for r in rows] == [e["hash"] for e in stored]
    # Named for MUHC only: the server refuses its rows of another site, and
    # hides that site's events from it.
    musc = dp.Ledger.create(tmp_path / "musc.db")
    musc.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    dp.Ledger(tmp_path / "musc.db", workstation="bench-1").set_site("MUSC", name="MUSC",
                                                                   initials="MH")  # fmt: skip
    with pytest.raises(dp.LedgerError) as refused_push:
        musc.push(url, site="MUSC")
    assert refused_push.value.code == "pusher_not_for_site"
    event, _ = stored_events(str(tmp_path / "musc.db"))
    columns = ["seq", "kind", "at", "initials", "body", "prev_hash", "hash", "recorded_at"]
    values = ", ".join(f"$q${event[c]}$q$" for c in columns)
    claimed = psql(
        f"INSERT INTO site_event (site, {', '.join(columns)}) VALUES ('MUSC', {values})",
        url,
        check=False,
    )
    assert "row-level security" in claimed.stderr, claimed.stderr
    musc.push(central, site="MUSC")
    assert psql("SELECT count(*) FROM site_event WHERE site = 'MUSC'", url).stdout.strip() == "0"
    # The sponsor reads every site, and writes nothing.
    sponsor = _as(central, _login("doseprep_sponsor"))
    view = dp.Ledger.central_view(sponsor)
    assert [s["site"] for s in view["sites"]] == ["MUHC", "MUSC"]
    # A pusher does not read the sponsor's view, nor the sponsor a bag's body.
    with pytest.raises(dp.FaultError) as not_sponsor:
        dp.Ledger.central_view(url)
    assert not_sponsor.value.code == "database_permission"
    refused = psql("SELECT count(*) FROM site_event", sponsor, check=False)
    assert "permission denied" in refused.stderr, refused.stderr
    bodies = psql(
        "SELECT kind, seq IS NULL, at IS NULL, body IS NULL FROM site_stock_event"
        " WHERE site = 'MUHC' ORDER BY seq",
        sponsor,
    ).stdout.split()
    assert "receive|f|f|f" in bodies
    assert all(line.endswith("|f|f|f") for line in bodies)
    assert not {line.split("|")[0] for line in bodies} & {"prepare", "dispense", "administer"}
    counted = psql(
        "SELECT kind, n FROM site_event_count WHERE site = 'MUHC' AND kind = 'register_user'",
        sponsor,
    ).stdout.split()
    assert counted == [f"register_user|{sum(e['kind'] == 'register_user' for e in stored)}"]
    refused = psql("DELETE FROM site_pusher", sponsor, check=False)
    assert "permission denied" in refused.stderr, refused.stderr
    refused = psql("DELETE FROM site_event", url, check=False)
    assert "permission denied" in refused.stderr, refused.stderr
    # A table of the same name in the pusher's own session does not stand in
    # for the centre's in the server's check.
    refused = psql("CREATE TEMP TABLE site_event (x integer)", url, check=False)
    assert "permission denied" in refused.stderr, refused.stderr
