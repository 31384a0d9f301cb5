"""The ledger loses nothing: writers killed with SIGKILL at random moments
while recording days, and two writers at once, on one real SQLite file."""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import doseprep as dp

WRITER = Path(__file__).with_name("ledger_writer.py")
KILLS = 50
BAGS_A_DAY = 6


def start(path: Path, *args: str) -> subprocess.Popen[str]:
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


def test_a_writer_killed_while_recording_days_loses_no_event(tmp_path: Path) -> None:
    chance = random.Random(20261125)
    checked = days_seen = 0
    for kill in range(KILLS):
        path = tmp_path / f"crash-{kill}.db"
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
        prepared = [e for e in extra if e["kind"] == "prepare"]
        assert len(prepared) in (0, BAGS_A_DAY), f"kill {kill}: a part of a day was stored"
        assert all(e["kind"] in ("receive", "thaw", "prepare") for e in extra)
        checked += len(numbers)
        days_seen += sum(1 for call in calls if len(call) > 1)
        del ledger
    print(f"\nSIGKILL: {KILLS} kills, {days_seen} days, {checked} returned events checked, 0 lost")
    assert days_seen > KILLS  # the kills fell among days being recorded


def test_two_writers_at_once_keep_every_event(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
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
