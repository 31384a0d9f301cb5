"""A process that records into a ledger and prints the event numbers of each
call once it has returned: the crash and concurrency tests kill it, or run
two at once.

Usage: python ledger_writer.py LEDGER thaws LOT_ID EVENTS [PAUSE]
       python ledger_writer.py LEDGER days NAME

`thaws` receives lot LOT_ID with EVENTS containers and thaws them one by
one, one number a line, PAUSE seconds apart (as a person pauses). `days`
plans day after day of six bags (record_day: one transaction a
day), one line of numbers a day (and a new lot of 300 containers when
fewer than 10 are left), until it is killed.

A ledger whose site is set is written at the workstation named by the
environment's WRITER_WORKSTATION.
"""

from __future__ import annotations

import itertools
import os
import sys
import time

import doseprep as dp

AT = "2026-11-25T08:30:00-05:00"
# Lots arrive days before they are used: a thaw is not dated before its receipt.
RECEIVED_AT = "2026-11-20T10:00:00-05:00"
BAGS_A_DAY = 6


def new_lot(lot_id: str, containers: int) -> dp.Lot:
    return dp.Lot(
        lot_id=lot_id,
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10.0,
        containers=containers,
        dmso_fraction=0.05,
    )


def thaws(ledger: dp.Ledger, lot_id: str, containers: int, pause: float) -> None:
    print(ledger.receive(new_lot(lot_id, containers), at=RECEIVED_AT, initials="W"), flush=True)
    for container in range(1, containers + 1):
        print(ledger.thaw(lot_id, [container], at=AT, initials="W"), flush=True)
        if pause:
            time.sleep(pause)


def days(ledger: dp.Ledger, name: str) -> None:
    protocol = dp.Protocol.care_ssc()
    lots = 0
    lot_id = ""
    for day in itertools.count(1):
        if not lot_id or len(ledger.in_stock(lot_id)) < 10:
            lots += 1
            lot_id = f"{name}-lot-{lots}"
            print(ledger.receive(new_lot(lot_id, 300), at=RECEIVED_AT, initials="W"), flush=True)
        people = [f"{name}-{day}-{i}" for i in range(BAGS_A_DAY)]
        arms = "".join(f"{p},{'ABC'[i % 3]}\n" for i, p in enumerate(people))
        randomization = dp.Randomization.from_csv_text(
            "participant,arm\n" + arms, protocol=protocol
        )
        orders = [
            dp.DayOrder(participant=p, visit="month-0", weight="72.4 kg", infusion_at=AT)
            for p in people
        ]
        stock = new_lot(lot_id, 300).with_container_numbers(ledger.in_stock(lot_id))
        plan = dp.plan_day(protocol, orders, lots=[stock], randomization=randomization)
        numbers = ledger.record_day(plan, initials="W")
        print(" ".join(map(str, numbers)), flush=True)


if __name__ == "__main__":
    path, mode, name = sys.argv[1:4]
    ledger = dp.Ledger(path, workstation=os.environ.get("WRITER_WORKSTATION"))
    if mode == "thaws":
        pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
        thaws(ledger, name, int(sys.argv[4]), pause)
    else:
        days(ledger, name)
