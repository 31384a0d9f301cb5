"""A day of orders prepared five ways, timed in one run (``make bench-python``).

(a) plain Python with pint quantities, the way a pharmacist would write it
    without this library;
(b) the same arithmetic on bare floats, no units and no checks, building a
    dict of every output;
(c) ``dp.prepare`` called once per order;
(d) ``dp.prepare_many`` called once for the whole day;
(e) the floor the project does not control: a bare-float loop that computes
    only the draw (dose, rounding, diluent, containers) and builds a tuple;
(f) (d)'s batch made a polars DataFrame (through the Arrow C stream): the
    batch builds its Arrow table then, on both cores, so (f) is the build
    and the conversion.

(a), (b) and (e) are checked against doseprep on a sample (1e-9 relative)
first, so the comparison is between programs that compute the same numbers.
Ratios are what to read: the machines are noisy, and all five run in the same
process.
"""

from __future__ import annotations

import os

# pint loads numpy, whose OpenBLAS starts a thread a core that spins when
# idle: a profile of (d) on the 2-core machine showed those threads
# competing with the batch's two. No way here calls
# BLAS, so one thread is all it needs; set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pint
import polars as pl

import doseprep as dp

SCHEDULE = {
    "A": {"month-0": "active", "month-3": "active"},
    "B": {"month-0": "active", "month-3": "placebo"},
    "C": {"month-0": "placebo", "month-3": "placebo"},
}
THAWED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
VIABLE_CELLS_PER_ML = 12.5e6
CONTAINER_ML = 10.0
LOT = {
    "lot_id": "UC-0042",
    "viable_cells_per_ml": VIABLE_CELLS_PER_ML,
    "viability": 0.93,
    "container_volume_ml": CONTAINER_ML,
    "containers": 100,
    "dmso_fraction": 0.05,
}
# CARE-SSc with its site defaults, as a pharmacist would copy them by hand.
DOSE_PER_KG = 1e6
FINAL_ML = 50.0
INCREMENT_ML = 0.1
TOLERANCE = 0.10
DURATION_MIN = 30.0
WINDOW = timedelta(hours=3)
HALF_WAY_SLACK = 1e-9
CONCENTRATION = 12.5e6
CONTAINER_ML = 10.0

Order = tuple[str, float, str, str]


def day_of_orders(count: int, seed: int) -> list[Order]:
    rng = random.Random(seed)
    arms, visits = list(SCHEDULE), ["month-0", "month-3"]
    return [
        (f"P-{i:06d}", rng.uniform(35, 150), rng.choice(arms), rng.choice(visits))
        for i in range(count)
    ]


def round_half_up(quotient: float) -> float:
    floor = math.floor(quotient)
    return floor + 1 if quotient - floor >= 0.5 - HALF_WAY_SLACK else floor


class PintReference:
    """(a) Units everywhere, with pint, and the checks a careful script makes."""

    def __init__(self) -> None:
        ureg: pint.UnitRegistry[Any] = pint.UnitRegistry()
        q = ureg.Quantity
        self.q = q
        self.dose_per_kg = q(DOSE_PER_KG, "1/kg")
        self.final_volume = q(FINAL_ML, "mL")
        self.increment = q(INCREMENT_ML, "mL")
        self.duration = q(DURATION_MIN, "min")
        self.concentration = q(VIABLE_CELLS_PER_ML, "1/mL")
        self.container = q(CONTAINER_ML, "mL")
        self.min_weight, self.max_weight = q(30, "kg"), q(250, "kg")

    def prepare(self, order: Order) -> dict[str, Any]:
        participant, weight_kg, arm, visit = order
        content = SCHEDULE[arm][visit]
        weight = self.q(weight_kg, "kg")
        if not self.min_weight <= weight <= self.max_weight:
            raise ValueError(f"implausible weight {weight}")
        pump = (self.final_volume / self.duration).to("mL/h")
        infuse_by = THAWED_AT + WINDOW
        start_by = infuse_by - timedelta(minutes=DURATION_MIN)
        result: dict[str, Any] = {
            "participant": participant,
            "content": content,
            "final_volume_ml": self.final_volume.to("mL").magnitude,
            "pump_rate_ml_per_h": pump.magnitude,
            "start_by": start_by,
            "infuse_by": infuse_by,
        }
        if content == "placebo":
            result.update(diluent_volume_ml=FINAL_ML, draw_volume_ml=0.0, delivered_cells=0.0)
            return result
        target = (self.dose_per_kg * weight).to("dimensionless")
        unrounded = (target / self.concentration).to("mL")
        draw = round_half_up((unrounded / self.increment).to("").magnitude) * self.increment
        if draw > self.final_volume:
            raise ValueError(f"lot too dilute: {draw}")
        delivered = (draw * self.concentration).to("dimensionless")
        deviation = ((delivered - target) / target).magnitude
        if abs(deviation) > TOLERANCE:
            raise ValueError(f"deviation {deviation}")
        containers = math.ceil((draw / self.container).to("").magnitude - 1e-9)
        result.update(
            diluent_volume_ml=(self.final_volume - draw).to("mL").magnitude,
            draw_volume_ml=draw.to("mL").magnitude,
            delivered_cells=delivered.magnitude,
            deviation=deviation,
            containers_to_thaw=containers,
        )
        return result


def prepare_floats(order: Order) -> dict[str, Any]:
    """(b) The same arithmetic on bare floats: no units, no checks."""
    participant, weight_kg, arm, visit = order
    content = SCHEDULE[arm][visit]
    infuse_by = THAWED_AT + WINDOW
    result: dict[str, Any] = {
        "participant": participant,
        "content": content,
        "final_volume_ml": FINAL_ML,
        "pump_rate_ml_per_h": FINAL_ML / (DURATION_MIN / 60),
        "start_by": infuse_by - timedelta(minutes=DURATION_MIN),
        "infuse_by": infuse_by,
    }
    if content == "placebo":
        result.update(diluent_volume_ml=FINAL_ML, draw_volume_ml=0.0, delivered_cells=0.0)
        return result
    target = DOSE_PER_KG * weight_kg
    increments = round_half_up(target / VIABLE_CELLS_PER_ML / INCREMENT_ML)
    draw_ul = increments * 100
    delivered = draw_ul * VIABLE_CELLS_PER_ML / 1000
    result.update(
        diluent_volume_ml=(50_000 - draw_ul) / 1000,
        draw_volume_ml=draw_ul / 1000,
        delivered_cells=delivered,
        deviation=(delivered - target) / target,
        containers_to_thaw=math.ceil(draw_ul / 10_000),
    )
    return result


def draw_floats(order: Order) -> tuple[str, float, float, int]:
    """(e) Only the draw, on bare floats: dose, rounding, diluent, containers.
    A placebo's draw is its active twin's, which doseprep checks too."""
    _, weight_kg, arm, visit = order
    increments = round_half_up(DOSE_PER_KG * weight_kg / CONCENTRATION / INCREMENT_ML)
    draw_ml = increments * INCREMENT_ML
    containers = math.ceil(draw_ml / CONTAINER_ML - 1e-9)
    return (SCHEDULE[arm][visit], draw_ml, FINAL_ML - draw_ml, containers)


def check_agreement(
    orders: list[Order], lot: dp.Lot, protocol: dp.Protocol, pint_ref: PintReference
) -> None:
    fields = (
        "final_volume_ml",
        "diluent_volume_ml",
        "draw_volume_ml",
        "delivered_cells",
        "pump_rate_ml_per_h",
        "infuse_by",
        "start_by",
    )
    for order in orders:
        participant, weight, arm, visit = order
        prep = dp.prepare(
            protocol,
            participant=participant,
            weight_kg=weight,
            arm=arm,
            visit=visit,
            lot=lot,
            thawed_at=THAWED_AT,
        )
        for name, ref in (
            ("pint", pint_ref.prepare(order)),
            ("floats", prepare_floats(order)),
        ):
            for field in fields:
                ours, theirs = getattr(prep, field), ref[field]
                if ours is None:  # a placebo's dose fields
                    ours = 0.0
                same = (
                    ours == theirs
                    if isinstance(ours, datetime)
                    else math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
                )
                if not same:
                    sys.exit(f"{name} disagrees on {field} for {order}: {theirs} vs {ours}")
            if prep.content == "active":
                assert prep.deviation is not None
                floor = draw_floats(order)
                assert math.isclose(floor[1], prep.draw_volume_ml or 0.0, rel_tol=1e-9)
                assert math.isclose(floor[2], prep.diluent_volume_ml, rel_tol=1e-9)
                assert floor[3] == prep.containers_to_thaw
                assert math.isclose(prep.deviation, ref["deviation"], rel_tol=1e-9, abs_tol=1e-15)
                assert prep.containers_to_thaw == ref["containers_to_thaw"]


REPEATS = 5


def timed(
    run: Callable[[], Sequence[Any] | dp.Batch], repeats: int = REPEATS, warm_up: bool = True
) -> float:
    """Seconds to build the day's list of results: the best of `repeats` runs
    (as timeit does), after one run untimed where `warm_up`, so that no way
    pays alone for its first runs' fresh memory (the allocators keep what
    a run frees for the next). Every way returns its list, so freeing the
    results falls outside the timing for all of them alike."""
    best = math.inf
    if warm_up:
        del_results = run()
        del del_results
    for _ in range(repeats):
        start = time.perf_counter()
        results = run()
        elapsed = time.perf_counter() - start
        assert len(results) in (1, 2, len(ORDERS_SEEN)) or not ORDERS_SEEN
        assert not any(isinstance(r, dp.DoseError) for r in results)
        del results
        best = min(best, elapsed)
    return best


ORDERS_SEEN: list[Order] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    orders = day_of_orders(args.orders, args.seed)
    protocol = dp.Protocol.care_ssc()
    lot = dp.Lot(**LOT)  # type: ignore[arg-type]
    pint_ref = PintReference()
    check_agreement(orders[:1000], lot, protocol, pint_ref)
    as_dicts = [
        {"participant": p, "weight_kg": w, "arm": a, "visit": v, "thawed_at": THAWED_AT}
        for p, w, a, v in orders
    ]

    ORDERS_SEEN[:] = orders

    def loop_prepare() -> list[dp.Preparation]:
        return [
            dp.prepare(
                protocol,
                participant=participant,
                weight_kg=weight,
                arm=arm,
                visit=visit,
                lot=lot,
                thawed_at=THAWED_AT,
            )
            for participant, weight, arm, visit in orders
        ]

    def many() -> dp.Batch:
        return dp.prepare_many(protocol, as_dicts, lot=lot)

    # The batch builds its Arrow table when first asked and keeps it, so
    # each timed conversion gets a batch of its own, all prepared (untimed)
    # before (f)'s runs: (f) is the build and the conversion, never a kept
    # table.
    fresh_batches: list[dp.Batch] = []

    def frame() -> list[Any]:
        batch = fresh_batches.pop()
        made = pl.DataFrame(batch)
        assert made.height == len(orders)
        assert made["error_kind"].null_count() == len(orders)
        # The batch is returned too, so freeing it falls outside the timing.
        return [made, batch]

    seconds = {
        # One run, not warmed up: a minute of pure Python. A cold run can
        # only be slower than a best of five, so (a)'s time may be overstated
        # and the others' speed-ups over it with it (by far less than the
        # 100x the target asks).
        "(a) pint reference": timed(
            lambda: [pint_ref.prepare(o) for o in orders], repeats=1, warm_up=False
        ),
        "(b) bare floats": timed(lambda: [prepare_floats(o) for o in orders]),
        "(c) dp.prepare loop": timed(loop_prepare),
        "(d) dp.prepare_many": timed(many),
        "(e) bare-float draw only": timed(lambda: [draw_floats(o) for o in orders]),
    }
    fresh_batches.extend(many() for _ in range(REPEATS + 1))
    seconds["(f) (d) as a polars DataFrame"] = timed(frame)
    a, b = seconds["(a) pint reference"], seconds["(b) bare floats"]
    n = len(orders)
    print(f"{n:,} orders (weights 35-150 kg, arms A/B/C, both visits), seed {args.seed}")
    print(f"doseprep {dp.__version__}, Python {sys.version.split()[0]}")
    print()
    e = seconds["(e) bare-float draw only"]
    print("| way | µs/order | time ÷ (a) | time ÷ (b) | time ÷ (e) |")
    print("|---|---:|---:|---:|---:|")
    for name, total in seconds.items():
        print(
            f"| {name} | {total / n * 1e6:.2f} | {total / a:.4f} | {total / b:.2f}"
            f" | {total / e:.2f} |"
        )
    print()
    c, d = seconds["(c) dp.prepare loop"], seconds["(d) dp.prepare_many"]
    f = seconds["(f) (d) as a polars DataFrame"]
    targets = [
        ("(c) at least 100x faster than (a)", a / c >= 100, f"{a / c:.0f}x"),
        ("(d) at most half the time of (e)", d <= e / 2, f"{d / e:.2f}x (e)'s time"),
        ("(f) at most the time of (d)", f <= d, f"{f / d:.2f}x (d)'s time"),
        ("(c) within 2x of (e)", c / e <= 2, f"{c / e:.2f}x"),
    ]
    for text, met, figure in targets:
        print(f"{'met ' if met else 'MISSED'}  {text}: {figure}")
    # (d) no longer builds the table (f) builds: the two together, for a
    # batch read as a DataFrame.
    print(
        f"(d) + (f), a batch and its DataFrame: {(d + f) / n * 1e6:.2f} µs/order,"
        f" {(d + f) / e:.2f}x (e)'s time"
    )


if __name__ == "__main__":
    main()
