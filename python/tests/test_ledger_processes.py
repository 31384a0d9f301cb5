"""The ledger loses nothing: writers killed with SIGKILL at random moments
while recording days, and two writers at once, on one real SQLite file and
on a real PostgreSQL server (each test once for each store)."""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import doseprep as dp

WRITER = Path(__file__).with_name("ledger_writer.py")
KILLS = 50
BAGS_A_DAY = 6


def start(path: Path | str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def returned(output: str) -> list[list[int]]:
    """The event numbers of each call that returned: whole lines only, so a
    line cut short by the kill is not counted."""
    return [
        [int(n) for n in line.split()]
        for line in output.splitlines(keepends=True)
        if line.endswith("\n")
    ]


def test_a_writer_killed_while_recording_days_loses_no_event(store: Callable[[str], str]) -> None:
    chance = random.Random(20261125)
    checked = days_seen = 0
    for kill in range(KILLS):
        path = store(f"crash-{kill}")
        dp.Ledger.create(path)  # a ledger is started on purpose, never by a writer
        writer = start(path, "days", f"K{kill}")
        # From before the first event (the interpreter still loading) to
        # well into the run of days.
        time.sleep(chance.uniform(0.05, 0.5))
        writer.send_signal(signal.SIGKILL)
        output, _ = writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        ledger = dp.Ledger(path)
        verification = ledger.verify()
        assert verification.ok, verification.problem
        stored = {event["seq"]: event for event in ledger.events()}
        calls = returned(output)
        numbers = list(itertools.chain.from_iterable(calls))
        lost = [seq for seq in numbers if seq not in stored]
        assert lost == [], f"kill {kill}: events {lost} were returned but are not in the file"
        # A day is one transaction: what is stored beyond the calls that
        # returned is nothing, or one whole day (committed, not yet printed).
        extra = [stored[seq] for seq in sorted(stored) if seq > max(numbers, default=0)]
        planned = [e for e in extra if e["kind"] == "plan"]
        assert len(planned) in (0, BAGS_A_DAY), f"kill {kill}: a part of a day was stored"
        assert all(e["kind"] in ("receive", "plan") for e in extra)
        checked += len(numbers)
        days_seen += sum(1 for call in calls if len(call) > 1)
        del ledger
    print(f"\nSIGKILL: {KILLS} kills, {days_seen} days, {checked} returned events checked, 0 lost")
    assert days_seen > KILLS  # the kills fell among days being recorded


def test_two_writers_at_once_keep_every_event(store: Callable[[str], str]) -> None:
    path = store("shared")
    ledger = dp.Ledger.create(path)  # before either starts
    events = 400
    # A millisecond between events, as people pause: back to back, one
    # writer re-takes the lock before the other's busy handler wakes.
    writers = [start(path, "thaws", lot_id, str(events), "0.001") for lot_id in ("A", "B")]
    # Verified while they write: a reader sees a consistent chain.
    checks = 0
    while any(writer.poll() is None for writer in writers):
        verification = ledger.verify()
        assert verification.ok, verification.problem
        checks += 1
    outputs = [writer.communicate(timeout=120) for writer in writers]
    for writer, (_, errors) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, errors
    verification = ledger.verify()
    assert verification.ok, verification.problem
    assert verification.events == 2 * (events + 1)
    assert checks > 1
    stored = ledger.events()
    for lot_id, (output, _) in zip(("A", "B"), outputs, strict=True):
        numbers = [n for call in returned(output) for n in call]
        assert len(numbers) == events + 1
        mine = [e["seq"] for e in stored if e["body"]["lot_id"] == lot_id]
        assert mine == numbers  # each writer's events, in its own order
        assert ledger.balance(lot_id).thawed == events
    # The two really wrote at the same time: their events interleave.
    lots = [e["body"]["lot_id"] for e in stored]
    switches = sum(1 for a, b in itertools.pairwise(lots) if a != b)
    assert switches > 1, "the writers ran one after the other; the test proved nothing"


DOSEPREP = Path(sys.executable).with_name("doseprep")
DAY_ORDERS = (
    "participant,visit,weight,infusion_at\n"
    "CARE-001,month-0,72.4 kg,2026-11-25T09:00:00-05:00\n"
    "CARE-002,month-0,80 kg,2026-11-25T09:30:00-05:00\n"
    "CARE-003,month-0,58 kg,2026-11-25T10:00:00-05:00\n"
)
DAY_LOTS = (
    '[[lot]]\nlot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\n'
    'viability = 0.93\ncontainer_volume = "10 mL"\ncontainers = 12\ndmso_fraction = 0.05\n'
)


def _documents_complete(folder: Path) -> bool:
    """Every document of the three-bag day: the day's three files and three per bag."""
    names = {p.name for p in folder.iterdir()}
    bags = list((folder / "bags").iterdir()) if (folder / "bags").is_dir() else []
    return {"pick-list.txt", "summary.txt", "day.csv", "bags"} <= names and len(bags) == 9


def test_a_day_killed_at_any_moment_is_recorded_with_its_documents_or_not_at_all(
    tmp_path: Path,
) -> None:
    """`doseprep day --ledger` killed with SIGKILL at random moments, from
    start-up to the end: the ledger holds either nothing of the day and no
    --out folder exists, or the whole day (one thaw, three bags) with every
    document in --out or, killed between the record and the rename, in the
    staging folder beside it."""
    (tmp_path / "orders.csv").write_text(DAY_ORDERS)
    (tmp_path / "randomization.csv").write_text(
        "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\n"
    )
    (tmp_path / "lots.toml").write_text(DAY_LOTS)
    chance = random.Random(20261126)
    outcomes = {"nothing": 0, "published": 0, "staged": 0}
    duration = 0.0
    for kill in range(-1, 40):
        folder = tmp_path / f"run-{kill}"
        folder.mkdir()
        db = folder / "pharmacy.db"
        ledger = dp.Ledger.create(db)
        ledger.receive(dp.Lot.many_from_file(tmp_path / "lots.toml")[0],
                       at="2026-11-20T10:00:00-05:00", initials="MH")  # fmt: skip
        del ledger
        out = folder / "day"
        command = subprocess.Popen(
            [str(DOSEPREP), "day", str(tmp_path / "orders.csv"), "--randomization",
             str(tmp_path / "randomization.csv"), "--lots", str(tmp_path / "lots.toml"),
             "--out", str(out), "--ledger", str(db), "--initials", "MH"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if kill < 0:
            # A first run, not killed, measures how long the command takes:
            # the kills fall from start-up to just past its end.
            started = time.monotonic()
            assert command.wait(timeout=60) == 0
            duration = time.monotonic() - started
            continue
        time.sleep(chance.uniform(0.0, 1.1 * duration))
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=30)
        events = dp.Ledger(db).events()
        kinds = [event["kind"] for event in events]
        staged = [p for p in folder.iterdir() if p.name.startswith(".day.staging-")]
        if kinds == ["receive"]:
            assert not out.exists(), f"kill {kill}: documents published for a day not recorded"
            outcomes["nothing"] += 1
        else:
            assert kinds == ["receive", "plan", "plan", "plan"], kinds
            if out.exists():
                assert _documents_complete(out), f"kill {kill}: a recorded day lacks documents"
                outcomes["published"] += 1
            else:
                assert len(staged) == 1, f"kill {kill}: a recorded day has no documents"
                assert _documents_complete(staged[0])
                outcomes["staged"] += 1
        assert dp.Ledger(db).verify().ok
    print(f"\nday killed 40 times in {duration:.2f} s runs: {outcomes}")
    # The kills fell both before the record and after it.
    assert outcomes["nothing"] > 0
    assert outcomes["published"] + outcomes["staged"] > 0
