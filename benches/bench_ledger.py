"""Ledger events per second from 1, 2 and 8 writers at once on each store,
and a full verify (``make bench-ledger``).

Each writer is a process (``python/tests/ledger_writer.py``) recording
thaws back to back, each event its own transaction, fully synced: on a real
SQLite file in a temporary directory (synchronous=FULL, WAL), and on the
PostgreSQL server ``scripts/with-postgres.sh`` starts (run with fsync on
for this bench, as a real server runs; each store's ledger in a schema of
its own). Reported for each store and number of writers: events per second
together (every writer's events counted, wall clock from the first start
to the last end), and how much longer the slowest writer took than the
quickest. Then a ledger of days (six bags a day:
the plan in one transaction, as ``python/tests/ledger_writer.py days``
records it, then each thaw and each bag made) is verified whole: events
per second and microseconds an event, the median and the best of five
verifies of each scope. Ratios are what to read: disks differ.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import doseprep as dp

TESTS = Path(__file__).resolve().parents[1] / "python" / "tests"
WRITER = TESTS / "ledger_writer.py"
sys.path.insert(0, str(TESTS))
import ledger_writer  # noqa: E402  (the writer's own days, recorded in this process)
from postgres_server import new_database  # noqa: E402  (a ledger's place on the server)

# Verifies of the days ledger, each scope: a shared machine's noise is
# read off the spread between the median and the best.
VERIFIES = 5


# How many writers record at once, on each store.
WRITERS = (1, 2, 8)


def run(path: Path | str, lots: list[str], events: int) -> tuple[float, list[float]]:
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


def days_ledger(path: Path, events: int) -> int:
    """A ledger of at least `events` events, recorded day by day; its count."""
    dp.Ledger.create(path)
    ledger = dp.Ledger(path)
    protocol = dp.Protocol.care_ssc()
    recorded, lot_id, lots, day = 0, "", 0, 0
    while recorded < events:
        day += 1
        if not lot_id or len(ledger.in_stock(lot_id)) < 10:
            lots += 1
            lot_id = f"lot-{lots}"
            ledger.receive(
                ledger_writer.new_lot(lot_id, 300), at=ledger_writer.RECEIVED_AT, initials="W"
            )
            recorded += 1
        people = [f"P-{day}-{i}" for i in range(ledger_writer.BAGS_A_DAY)]
        arms = "".join(f"{p},{'ABC'[i % 3]}\n" for i, p in enumerate(people))
        randomization = dp.Randomization.from_csv_text(
            "participant,arm\n" + arms, protocol=protocol
        )
        # Each day its own session time (a minute earlier each day, after the
        # lots' receipt): one session for every day would make the rules read
        # every bag of the ledger as one session at each plan and preparation.
        infusion_at = datetime.fromisoformat(ledger_writer.AT) - timedelta(minutes=day)
        orders = [
            dp.DayOrder(participant=p, visit="month-0", weight="72.4 kg", infusion_at=infusion_at)
            for p in people
        ]
        stock = ledger_writer.new_lot(lot_id, 300).with_container_numbers(ledger.in_stock(lot_id))
        plan = dp.plan_day(protocol, orders, lots=[stock], randomization=randomization)
        recorded += len(ledger.record_day(plan, initials="W"))
        # The day as it is done: each thaw, then each bag made (its thaw plus
        # CARE-SSc's site preparation_time, 30 min), each its own transaction.
        for thaw in plan.thaws:
            ledger.thaw(thaw.lot_id, thaw.containers, at=thaw.thawed_at, initials="W")
            recorded += 1
        for bag in plan.bags:
            if not isinstance(bag, dp.Preparation) or bag.bag_id is None:
                raise SystemExit(f"a bag of the day was not planned: {bag}")
            made = bag.thawed_at + timedelta(minutes=30)
            ledger.prepare_planned(bag.bag_id, at=made, initials="W")
            recorded += 1
    return recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000, help="thaws per writer")
    parser.add_argument(
        "--verify-events", type=int, default=20_000, help="events of the ledger verified whole"
    )
    arguments = parser.parse_args()
    events = arguments.events
    per_writer = events + 1
    print(f"{per_writer} events per writer, each its own transaction, fully synced")
    with tempfile.TemporaryDirectory() as directory:
        places: dict[str, Callable[[str], Path | str]] = {
            "SQLite file": lambda name: Path(directory) / f"{name}.db",
            "PostgreSQL": lambda name: new_database(),
        }
        for store, place in places.items():
            alone = 0.0
            for writers in WRITERS:
                lots = [f"W{n}" for n in range(writers)]
                wall, each = run(place(f"writers-{writers}"), lots, events)
                rate = writers * per_writer / wall
                alone = alone or rate
                print(
                    f"{store:12} {writers} writer(s): {rate:8.0f} events/s together "
                    f"({rate / alone:.2f}x one writer); the slowest took "
                    f"{max(each) / min(each):.2f}x as long as the quickest"
                )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "days.db"
        recorded = days_ledger(path, arguments.verify_events)
        ledger = dp.Ledger.open_read_only(path)
        full, chain = [], []
        for _ in range(VERIFIES):
            start = time.perf_counter()
            verification = ledger.verify()
            full.append(time.perf_counter() - start)
            start = time.perf_counter()
            chained = ledger.verify(scope="chain")
            chain.append(time.perf_counter() - start)
            if not verification.ok or verification.events != recorded or not chained.ok:
                raise SystemExit(f"the days ledger does not verify: {verification} {chained}")
    print(f"{VERIFIES} verifies of each scope, {recorded} events (days of six bags): median, best")
    for name, seconds in (("full verify: ", full), ("chain verify:", chain)):
        median, best = statistics.median(seconds), min(seconds)
        print(
            f"{name} {recorded / median:8.0f} events/s "
            f"({median / recorded * 1e6:.1f} us an event), best {recorded / best:8.0f} events/s"
        )
    ratio = statistics.median(full) / statistics.median(chain)
    print(f"chain verify {ratio:.1f}x quicker than the full one (medians)")


if __name__ == "__main__":
    main()
