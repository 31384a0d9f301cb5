"""The ledger loses nothing: writers killed with SIGKILL at random moments,
and two writers at once, on one real SQLite file."""

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


def start(path: Path, lot_id: str, events: int, pause: float = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(path), lot_id, str(events), str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def returned(output: str) -> list[int]:
    """The event numbers the writer printed: only whole lines, so a number
    cut short by the kill is not counted."""
    return [int(line) for line in output.splitlines(keepends=True) if line.endswith("\n")]


def test_a_writer_killed_at_random_moments_loses_no_event(tmp_path: Path) -> None:
    chance = random.Random(20261125)
    checked = 0
    for kill in range(KILLS):
        path = tmp_path / f"crash-{kill}.db"
        writer = start(path, f"L{kill}", 0)  # until killed
        # From before the first event (the interpreter still loading) to
        # well into the run of thaws.
        time.sleep(chance.uniform(0.05, 0.6))
        writer.send_signal(signal.SIGKILL)
        output, _ = writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        ledger = dp.Ledger(path)
        verification = ledger.verify()
        assert verification.ok, verification.problem
        stored = {event["seq"]: event for event in ledger.events()}
        numbers = returned(output)
        lost = [seq for seq in numbers if seq not in stored]
        assert lost == [], f"kill {kill}: events {lost} were returned but are not in the file"
        for seq in numbers:
            assert stored[seq]["body"]["lot_id"].startswith(f"L{kill}-")
        checked += len(numbers)
        del ledger
    print(f"\nSIGKILL: {KILLS} kills, {checked} returned events checked, 0 lost")
    assert checked > 0


def test_two_writers_at_once_keep_every_event(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    dp.Ledger(path)  # created before either starts
    events = 400
    # A millisecond between events, as people pause: back to back, one
    # writer re-takes the lock before the other's busy handler wakes.
    writers = [start(path, lot_id, events, pause=0.001) for lot_id in ("A", "B")]
    outputs = [writer.communicate(timeout=120) for writer in writers]
    for writer, (_, errors) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, errors
    ledger = dp.Ledger(path)
    verification = ledger.verify()
    assert verification.ok, verification.problem
    assert verification.events == 2 * (events + 1)
    stored = ledger.events()
    for lot_id, (output, _) in zip(("A", "B"), outputs, strict=True):
        numbers = returned(output)
        assert len(numbers) == events + 1
        mine = [e["seq"] for e in stored if e["body"]["lot_id"] == lot_id]
        assert mine == numbers  # each writer's events, in its own order
        assert ledger.balance(lot_id).thawed == events
    # The two really wrote at the same time: their events interleave.
    first = [e["body"]["lot_id"] for e in stored]
    switches = sum(1 for a, b in itertools.pairwise(first) if a != b)
    assert switches > 1, "the writers ran one after the other; the test proved nothing"
