"""A process that records events into a ledger and prints each event's
number once its call has returned: the crash and concurrency tests kill it
or run two at once.

Usage: python ledger_writer.py LEDGER LOT_ID EVENTS [PAUSE]
(EVENTS thaws of one lot; 0 for lots of 500 containers, one after another,
until the process is killed; PAUSE seconds between events, as a person
pauses, so that two writers take turns)
"""

from __future__ import annotations

import itertools
import sys
import time

import doseprep as dp

AT = "2026-11-25T08:30:00-05:00"


def receive_and_thaw(ledger: dp.Ledger, lot_id: str, containers: int, pause: float) -> None:
    lot = dp.Lot(
        lot_id=lot_id,
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10.0,
        containers=containers,
        dmso_fraction=0.05,
    )
    print(ledger.receive(lot, at=AT, initials="W"), flush=True)
    for container in range(1, containers + 1):
        print(ledger.thaw(lot_id, [container], at=AT, initials="W"), flush=True)
        if pause:
            time.sleep(pause)


def main(path: str, lot_id: str, events: int, pause: float) -> None:
    ledger = dp.Ledger(path)
    if events > 0:
        receive_and_thaw(ledger, lot_id, events, pause)
        return
    for round_ in itertools.count(1):
        receive_and_thaw(ledger, f"{lot_id}-{round_}", 500, pause)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0)
