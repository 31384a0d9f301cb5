"""prepare_many's Batch as a sequence and as an Arrow table, read by pyarrow,
polars and pandas (installed for the tests only: the package depends on none
of them). The worked example by hand: CARE-012, 72.4 kg, lot UC-0042 at 12.5
million viable cells/mL: 72.4 million cells target; 72.4e6 / 12.5e6 = 5.792
mL, drawn as 5.8 mL; 5.8 x 12.5e6 = 72.5 million cells; 50 - 5.8 = 44.2 mL
of PlasmaLyte A; one 10 mL container. Its arm C twin: 50 mL of PlasmaLyte A
and no dose (nulls, never zeros)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import doseprep as dp

THAWED_AT = "2026-11-25T09:00:00-05:00"
LOT = dp.Lot(
    lot_id="UC-0042",
    viable_cells_per_ml=12.5e6,
    viability=0.93,
    container_volume_ml=10,
    containers=4,
    dmso_fraction=0.05,
)
GOOD = {"weight": "72.4 kg", "visit": "month-0", "thawed_at": THAWED_AT}
ORDERS: list[Any] = [
    {**GOOD, "participant": "CARE-012", "arm": "A"},
    {**GOOD, "participant": "CARE-013", "arm": "C"},
    {**GOOD, "participant": "CARE-014", "arm": "A", "weight": "352 kg"},
    42,
]


def _batch() -> dp.Batch:
    return dp.prepare_many(dp.Protocol.care_ssc(), ORDERS, lot=LOT)


def test_a_batch_is_a_sequence_made_on_access() -> None:
    batch = _batch()
    assert len(batch) == 4
    assert isinstance(batch[0], dp.Preparation)
    assert batch[0] == batch[0]
    assert batch[0] is not batch[0]  # a new object each time, equal by value
    assert isinstance(batch[-2], dp.ImplausibleWeightError)
    assert isinstance(batch[-1], dp.InvalidInputError)
    assert [type(r).__name__ for r in batch] == [
        "Preparation",
        "Preparation",
        "ImplausibleWeightError",
        "InvalidInputError",
    ]
    assert [type(r).__name__ for r in batch[1::2]] == ["Preparation", "InvalidInputError"]
    assert batch[5:] == []
    with pytest.raises(IndexError, match="batch index 4 out of range: the batch has 4 rows"):
        batch[4]
    with pytest.raises(IndexError, match="batch index -5 out of range"):
        batch[-5]
    assert repr(batch) == "<doseprep.Batch of 4 orders: 2 prepared, 2 failed>"
    [first, *_] = batch
    assert isinstance(first, dp.Preparation)
    assert first.draw_volume_ml == 5.8


def test_pyarrow_reads_the_worked_example_as_computed_by_hand() -> None:
    table = pa.table(_batch())
    assert table.num_rows == 4
    columns = table.to_pydict()
    assert columns["participant"] == ["CARE-012", "CARE-013", "CARE-014", None]
    assert columns["content"] == ["active", "placebo", None, None]
    assert columns["draw_volume_ml"] == [5.8, None, None, None]
    assert columns["diluent_volume_ml"] == [44.2, 50.0, None, None]
    assert columns["containers_to_thaw"] == [1, None, None, None]
    assert math.isclose(columns["delivered_cells"][0], 72.5e6, rel_tol=1e-12)
    assert math.isclose(columns["target_cells"][0], 72.4e6, rel_tol=1e-12)
    assert columns["error_kind"] == [None, None, "implausible_weight", "invalid_input"]
    assert columns["error_field"][2:] == ["weight", "order"]
    assert "352 kg" in columns["error_message"][2]
    assert table.schema.field("thawed_at").type == pa.timestamp("us", tz="America/Toronto")
    assert table.schema.field("containers_to_thaw").type == pa.uint32()
    thawed = columns["thawed_at"][0]
    assert thawed == datetime.datetime(2026, 11, 25, 14, 0, tzinfo=datetime.timezone.utc)
    assert columns["infuse_by"][0] - thawed == datetime.timedelta(hours=3)


def test_polars_reads_the_batch_without_a_row_by_row_copy() -> None:
    frame = pl.DataFrame(_batch())
    assert frame.height == 4
    assert frame["draw_volume_ml"].to_list() == [5.8, None, None, None]
    assert frame["thawed_at"].dtype == pl.Datetime("us", "America/Toronto")
    assert frame["error_kind"].null_count() == 2
    active = frame.filter(pl.col("content") == "active")
    assert active["diluent_volume_ml"].to_list() == [44.2]


def test_pandas_reads_the_batch_through_pyarrow() -> None:
    frame = pa.table(_batch()).to_pandas()
    assert list(frame["participant"][:2]) == ["CARE-012", "CARE-013"]
    assert str(frame["thawed_at"].dt.tz) == "America/Toronto"
    assert frame["thawed_at"][0] == pd.Timestamp("2026-11-25 09:00", tz="America/Toronto")
    assert frame["draw_volume_ml"][0] == 5.8
    assert pd.isna(frame["draw_volume_ml"][1])  # the placebo's: null, not 0


# Attributes of a Preparation that are columns of the table under the same name.
SHARED = [
    "participant",
    "arm",
    "visit",
    "content",
    "bag_id",
    "lot_id",
    "body_weight_kg",
    "baseline_weight_kg",
    "dosing_weight_kg",
    "target_cells",
    "delivered_cells",
    "unrounded_draw_volume_ml",
    "draw_volume_ml",
    "diluent_volume_ml",
    "final_volume_ml",
    "final_concentration_cells_per_ml",
    "containers_to_thaw",
    "infusion_duration_min",
    "pump_rate_ml_per_h",
    "thawed_at",
    "prepared_at",
    "infusion_at",
    "infuse_by",
]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=20, max_value=400),
            st.sampled_from(["A", "B", "C", "Z"]),
            st.sampled_from(["month-0", "month-3"]),
        ),
        max_size=12,
    )
)
def test_every_row_of_the_table_is_its_object(rows: list[tuple[float, str, str]]) -> None:
    orders = [
        {"participant": f"P{i}", "weight_kg": w, "arm": a, "visit": v, "thawed_at": THAWED_AT}
        for i, (w, a, v) in enumerate(rows)
    ]
    batch = dp.prepare_many(dp.Protocol.care_ssc(), orders, lot=LOT)
    table = pa.table(batch).to_pylist()
    assert len(table) == len(batch) == len(orders)
    for row, result in zip(table, batch, strict=True):
        if isinstance(result, dp.Preparation):
            for name in SHARED:
                assert row[name] == getattr(result, name), name
            assert row["deviation_fraction"] == result.deviation
            assert row["error_kind"] is None
        else:
            assert isinstance(result, dp.DoseError)
            assert (row["error_kind"], row["error_field"]) == (result.kind, result.field)
            assert row["error_message"] == str(result)
            assert row["draw_volume_ml"] is None


def test_a_day_plan_gives_its_bags_thaws_and_stock_as_tables() -> None:
    from test_ledger import plan

    day = plan(dp.Protocol.care_ssc())
    bags = pa.table(day.bag_table()).to_pylist()
    assert [row["draw_volume_ml"] for row in bags] == [
        bag.draw_volume_ml for bag in day.bags if isinstance(bag, dp.Preparation)
    ]
    assert [row["bag_id"] for row in bags] == [
        bag.bag_id for bag in day.bags if isinstance(bag, dp.Preparation)
    ]
    thaws = pa.table(day.thaw_table()).to_pylist()
    assert [
        (row["thawed_at"], row["lot_id"], row["containers"], row["container_count"])
        for row in thaws
    ] == [(t.thawed_at, t.lot_id, t.containers, len(t.containers)) for t in day.thaws]
    assert thaws  # CARE-001 and CARE-002 are given cells: a thaw
    stock = pl.DataFrame(day.stock_table())
    assert stock.rows() == [
        (lot, left, day.held_for_blinding.get(lot, 0)) for lot, left in day.remaining.items()
    ]
    # A row not planned keeps its number, participant and visit in the table.
    rows = [
        dp.DayOrder(participant="CARE-001", visit="month-0", weight="72.4 kg",
                    infusion_at="2026-11-25T09:00:00-05:00"),
        dp.DayOrder(participant="CARE-009", visit="month-0", weight="80 kg",
                    infusion_at="2026-11-25T09:30:00-05:00"),
    ]  # fmt: skip
    unlisted = dp.plan_day(
        dp.Protocol.care_ssc(), rows, lots=[LOT],
        randomization=dp.Randomization.from_csv_text("participant,arm\nCARE-001,A\n"),
    )  # fmt: skip
    failed = pa.table(unlisted.bag_table()).to_pylist()
    assert [(r["row"], r["participant"], r["visit"], r["error_kind"]) for r in failed] == [
        (1, "CARE-001", "month-0", None),
        (2, "CARE-009", "month-0", "randomization"),
    ]
    table = day.thaw_table()
    assert len(table) == len(day.thaws)
    assert table.column_names == ["thawed_at", "lot_id", "containers", "container_count"]


def test_a_ledger_gives_its_events_and_balances_as_tables(tmp_path: Any) -> None:
    from test_ledger import RECEIVED_AT, do_the_day, plan, twelve_containers

    ledger = dp.Ledger.create(tmp_path / "pharmacy.db")
    ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    do_the_day(ledger, plan(dp.Protocol.care_ssc()))
    events = ledger.events()
    table = pl.DataFrame(ledger.event_table())
    assert table["seq"].to_list() == [e["seq"] for e in events]
    assert table["kind"].to_list() == [e["kind"] for e in events]
    assert table["at_text"].to_list() == [e["at"] for e in events]
    assert table["hash"].to_list() == [e["hash"] for e in events]
    # 2026-11-20T10:00:00-05:00 is 15:00 UTC.
    assert table["at"][0] == datetime.datetime(2026, 11, 20, 15, 0, tzinfo=datetime.timezone.utc)
    assert table["at"].dtype == pl.Datetime("us", "UTC")
    [balance] = pa.table(ledger.balance_table()).to_pylist()
    expected = ledger.balance("UC-0042")
    counted = (
        balance["containers_received"],
        balance["containers_thawed"],
        balance["containers_on_hand"],
    )
    assert counted == (expected.received, expected.thawed, expected.on_hand)
    # CARE-001's 5.8 mL and CARE-002's 6.4 mL draw from two 10 mL containers.
    assert counted == (12, 2, 10)
    assert balance["lot_id"] == "UC-0042"


def _row_is_its_object(row: dict[str, Any], result: object) -> None:
    if isinstance(result, dp.Preparation):
        for name in SHARED:
            assert row[name] == getattr(result, name), name
        assert row["error_kind"] is None
    else:
        assert isinstance(result, dp.DoseError)
        assert (row["error_kind"], row["error_field"]) == (result.kind, result.field)
        assert row["error_message"] == str(result)


# Rows that fail, on both sides of the edges of the batch's chunks of 1,024
# rows, and the last: each a different fault.
FAULTS: dict[int, dict[str, Any]] = {
    1023: {"weight": "160"},  # no unit: refused when the order is built
    1024: {"arm": "Z"},  # no such arm: refused when the bag is prepared
    2047: {"weight_kg": 400},  # implausible
    2048: {"thawed_at": "2026-11-25T09:00:00"},  # no offset
    4999: {"bag_id": "not-an-id"},
}


def _many_orders(count: int) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    for i in range(count):
        order: dict[str, Any] = {
            "participant": f"P-{i:05d}",
            "weight_kg": 40 + i % 100,
            "arm": "ABC"[i % 3],
            "visit": ("month-0", "month-3")[i % 2],
            "thawed_at": THAWED_AT,
        }
        fault = FAULTS.get(i, {})
        if "weight" in fault:
            del order["weight_kg"]
        order.update(fault)
        orders.append(order)
    return orders


def test_a_batch_of_many_chunks_keeps_every_row_in_its_place() -> None:
    orders = _many_orders(5000)
    batch = dp.prepare_many(dp.Protocol.care_ssc(), orders, lot=LOT)
    assert len(batch) == 5000
    failed = [i for i, result in enumerate(batch) if isinstance(result, dp.DoseError)]
    assert failed == sorted(FAULTS)
    kinds = {i: batch[i].kind for i in failed}  # type: ignore[union-attr]
    assert kinds == {
        1023: "unit",
        1024: "unknown_arm",
        2047: "implausible_weight",
        2048: "invalid_time",
        4999: "invalid_input",
    }, kinds
    # Every row is its own order, in its place: across chunks, from the end,
    # and in slices that cross an edge.
    for i in (0, 1022, 1025, 2046, 2049, 3071, 3072, 4998):
        result = batch[i]
        assert isinstance(result, dp.Preparation)
        assert result.participant == f"P-{i:05d}"
        assert batch[i - 5000] == result
    crossing = batch[1020:1030:3]
    assert [getattr(r, "participant", None) for r in crossing] == [
        "P-01020",
        None,
        "P-01026",
        "P-01029",
    ]
    assert isinstance(crossing[1], dp.UnitError)
    # The table: a row an order in the same order, in two parts (built on
    # two threads), each row its object.
    table = pa.table(batch)
    assert table.num_rows == 5000
    assert len(table.to_batches()) == 2
    rows = table.to_pylist()
    for i, (row, result) in enumerate(zip(rows, batch, strict=True)):
        assert row["participant"] == f"P-{i:05d}", i
        _row_is_its_object(row, result)
    # A row that failed where its order was built keeps who it was for.
    assert (rows[1023]["participant"], rows[1023]["arm"], rows[1023]["visit"]) == (
        "P-01023",
        "A",
        "month-3",
    )


def test_two_threads_asking_for_a_batchs_table_at_once_both_get_it_whole() -> None:
    """A smoke test of the table built once under a lock without the GIL:
    neither thread deadlocks or fails, and the table both get is the batch's."""
    import threading

    batch = dp.prepare_many(dp.Protocol.care_ssc(), _many_orders(5000), lot=LOT)
    tables: list[Any] = []
    threads = [threading.Thread(target=lambda: tables.append(pa.table(batch))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tables) == 2
    assert tables[0].equals(tables[1])
    assert tables[0].num_rows == 5000
    for row, result in zip(tables[0].to_pylist(), batch, strict=True):
        _row_is_its_object(row, result)


def test_a_batch_shows_the_exceptions_it_holds_to_the_cycle_collector() -> None:
    import gc

    orders: list[Any] = [{**GOOD, "participant": "P", "arm": "A", "no_such_key": 1}]
    batch = dp.prepare_many(dp.Protocol.care_ssc(), orders, lot=LOT)
    held = batch[0]
    assert isinstance(held, dp.InvalidInputError)
    assert batch[0] is held  # raised while read: the one exception, kept
    assert gc.is_tracked(batch)
    assert held in gc.get_referents(batch)
    iterator = iter(batch)
    assert batch in gc.get_referents(iterator)
    # Only the chunks that hold one are walked: one in the third chunk of
    # 1,024 rows is still shown, and a clean batch shows nothing.
    good: dict[str, Any] = {**GOOD, "participant": "P", "arm": "A"}
    rows: list[Any] = [good] * 3000
    rows[2500] = {**good, "no_such_key": 1}
    later = dp.prepare_many(dp.Protocol.care_ssc(), rows, lot=LOT)

    def held_exceptions(held_by: object) -> list[object]:
        return [r for r in gc.get_referents(held_by) if isinstance(r, BaseException)]

    assert held_exceptions(later) == [later[2500]]
    assert held_exceptions(dp.prepare_many(dp.Protocol.care_ssc(), [good] * 3000, lot=LOT)) == []


def test_an_order_with_several_faults_reports_the_same_first_one_either_way() -> None:
    """Checked in the order of its parts: weight, thaw, participant, arm and
    visit, the other times, baseline, bag id, DIN; by prepare and by
    prepare_many alike."""
    protocol = dp.Protocol.care_ssc()
    naive = datetime.datetime(2026, 11, 25, 9, 30)
    faults: list[tuple[dict[str, Any], str]] = [
        ({"weight": "160", "prepared_at": naive}, "unit"),
        ({"weight": "160", "thawed_at": naive}, "unit"),
        ({"baseline_weight": "70", "infusion_at": naive}, "invalid_time"),
        ({"bag_id": "not-an-id", "din_sequence": 0}, "invalid_input"),
        ({"participant": " ", "prepared_at": naive}, "invalid_input"),
        ({"thawed_at": naive, "participant": " "}, "invalid_time"),
        ({"prepared_at": naive, "bag_id": "not-an-id"}, "invalid_time"),
    ]
    for fault, kind in faults:
        order: dict[str, Any] = {
            "participant": "CARE-012",
            "weight": "72.4 kg",
            "arm": "A",
            "visit": "month-0",
            "thawed_at": THAWED_AT,
            **fault,
        }
        with pytest.raises(dp.DoseError) as raised:
            dp.prepare(protocol, lot=LOT, **order)
        (in_batch,) = dp.prepare_many(protocol, [order], lot=LOT)
        assert isinstance(in_batch, dp.DoseError)
        assert (raised.value.kind, in_batch.kind) == (kind, kind), fault
        assert (raised.value.field, str(raised.value)) == (in_batch.field, str(in_batch))


def test_a_din_sequence_out_of_every_range_fails_its_row_not_the_batch() -> None:
    """-1, 2**40 and 2**200 were Python's bare OverflowError, which stopped
    a whole prepare_many; each is now its row's typed error, and a bool is
    refused as every row of a wrong type is."""
    protocol = dp.Protocol.care_ssc()
    given: list[Any] = [-1, 0, 2**40, 2**200, True]
    orders: list[Any] = [{**GOOD, "participant": "P", "arm": "A", "din_sequence": n} for n in given]
    orders.append({**GOOD, "participant": "P", "arm": "A"})
    batch = dp.prepare_many(protocol, orders, lot=LOT)
    shown = ["-1", "0", "1099511627776", "(an int beyond 128 bits)"]
    for result, value in zip(batch, shown, strict=False):
        assert isinstance(result, dp.InvalidInputError)
        assert result.field == "din_sequence"
        assert str(result).startswith(f"din_sequence: {value} is not a DIN sequence number;")
    assert isinstance(batch[4], dp.InvalidInputError)  # a row's TypeError, as every row's
    assert str(batch[4]) == "order: din_sequence must be an int, not bool"
    assert isinstance(batch[5], dp.Preparation)
    # numpy's ints (as pandas' to_dict("records") gives) are ints here too.
    import numpy

    (negative,) = dp.prepare_many(
        protocol, [{**orders[5], "din_sequence": numpy.int64(-1)}], lot=LOT
    )
    assert isinstance(negative, dp.InvalidInputError)
    assert str(negative).startswith("din_sequence: -1 is not a DIN sequence number;")


def test_a_dict_of_the_wrong_shape_is_refused_for_its_shape_before_its_values() -> None:
    """A missing key is found as the dict is read, before the order's own
    checks (here, a weight without its unit), as the README says."""
    order: dict[str, Any] = {**GOOD, "participant": "P", "arm": "A", "weight": "160"}
    del order["thawed_at"]
    (row,) = dp.prepare_many(dp.Protocol.care_ssc(), [order], lot=LOT)
    assert isinstance(row, dp.InvalidInputError)
    assert (row.field, str(row).split(";")[0]) == (
        "thawed_at",
        "thawed_at: the order has no 'thawed_at'",
    )
