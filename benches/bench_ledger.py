"""Ledger events per second, one writer and two at once (``make bench-ledger``).

Each writer is a process (``python/tests/ledger_writer.py``) recording
thaws back to back on a real SQLite file in a temporary directory, each
event its own transaction, fully synced. Reported: events per second for
one writer alone, and for two writers together (both counted, wall clock
from the first start to the last end), and how much longer the slower of
the two waited than the faster. Ratios are what to read: disks differ.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import doseprep as dp

WRITER = Path(__file__).resolve().parents[1] / "python" / "tests" / "ledger_writer.py"


def run(path: Path, lots: list[str], events: int) -> tuple[float, list[float]]:
    """Wall seconds for writers of `lots`, and each one's own seconds."""
    dp.Ledger.create(path)  # beforehand, so the writers only append
    start = time.perf_counter()
    writers = [
        (
            subprocess.Popen(
                [sys.executable, str(WRITER), str(path), "thaws", lot, str(events)],
                stdout=subprocess.DEVNULL,
            ),
            time.perf_counter(),
        )
        for lot in lots
    ]
    each = []
    for writer, started in writers:
        if writer.wait() != 0:
            raise SystemExit(f"a writer failed with status {writer.returncode}")
        each.append(time.perf_counter() - started)
    wall = time.perf_counter() - start
    verification = dp.Ledger(path).verify()
    if not verification.ok or verification.events != len(lots) * (events + 1):
        raise SystemExit(f"the ledger does not hold every event: {verification}")
    return wall, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000, help="thaws per writer")
    events = parser.parse_args().events
    with tempfile.TemporaryDirectory() as directory:
        one, _ = run(Path(directory) / "one.db", ["A"], events)
        two, each = run(Path(directory) / "two.db", ["A", "B"], events)
    per_writer = events + 1
    print(f"{per_writer} events per writer, each its own transaction (synchronous=FULL, WAL)")
    print(f"one writer:  {per_writer / one:8.0f} events/s")
    print(f"two writers: {2 * per_writer / two:8.0f} events/s together")
    print(f"two/one throughput: {(2 * per_writer / two) / (per_writer / one):.2f}x")
    print(f"the slower of the two took {max(each) / min(each):.2f}x as long as the faster")


if __name__ == "__main__":
    main()
