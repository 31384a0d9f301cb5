"""Invariants of the core seen from Python, and a fuzz of the whole API:
whatever is thrown at it, a value comes back or a DoseError (or a TypeError
for a wrong type) is raised, never a panic or another exception."""

from __future__ import annotations

import contextlib
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from conftest import THAWED_AT
from hypothesis import given
from hypothesis import strategies as st

import doseprep as dp

CARE_SSC = dp.Protocol.care_ssc()

lots = st.builds(
    lambda conc, viability, container_tenths, containers: dp.Lot(
        lot_id="L",
        viable_cells_per_ml=conc,
        viability=viability,
        container_volume_ml=container_tenths / 10,
        containers=containers,
        dmso_fraction=0.05,
    ),
    st.floats(1e5, 5e8),
    st.floats(0.7, 1.0),
    st.integers(1, 200),
    st.integers(1, 100),
)
# Lots that are often bad: under the floor, too dilute, short of containers,
# without a DMSO fraction, too concentrated for 0.1 mL steps.
bad_lots = st.builds(
    lambda conc, viability, container_tenths, containers, dmso: dp.Lot(
        lot_id="L",
        viable_cells_per_ml=conc,
        viability=viability,
        container_volume_ml=container_tenths / 10,
        containers=containers,
        dmso_fraction=dmso,
    ),
    st.one_of(st.floats(1e4, 1e6), st.floats(1e5, 5e8), st.floats(1e9, 5e10)),
    st.one_of(st.floats(0.3, 0.7), st.floats(0.7, 1.0)),
    st.integers(1, 200),
    st.integers(1, 4),
    st.one_of(st.none(), st.floats(0.0, 0.6)),
)
weights = st.floats(30, 250)
visits = st.sampled_from(["month-0", "month-3"])


def _prep(weight: float, arm: str, visit: str, lot: dp.Lot) -> dp.Preparation:
    return dp.prepare(
        CARE_SSC,
        participant="P",
        weight_kg=weight,
        arm=arm,
        visit=visit,
        lot=lot,
        thawed_at=THAWED_AT,
    )


@given(weight=weights, visit=visits, lot=lots)
def test_volumes_add_up_and_the_dose_is_within_tolerance(
    weight: float, visit: str, lot: dp.Lot
) -> None:
    try:
        prep = _prep(weight, "A", visit, lot)
    except dp.DoseError:
        return
    assert prep.draw_volume_ml is not None
    assert prep.unrounded_draw_volume_ml is not None
    assert prep.target_cells is not None
    assert prep.delivered_cells is not None
    assert prep.containers_to_thaw is not None
    assert prep.acceptable_range is not None
    draw_ul = round(prep.draw_volume_ml * 1000)
    diluent_ul = round(prep.diluent_volume_ml * 1000)
    assert draw_ul + diluent_ul == 50_000
    assert draw_ul % 100 == 0  # whole 0.1 mL increments
    assert abs(prep.draw_volume_ml - prep.unrounded_draw_volume_ml) <= 0.05 + 1e-9
    assert prep.deviation is not None
    assert abs(prep.deviation) <= 0.10 * (1 + 1e-9)
    low, high = prep.acceptable_range
    assert low * (1 - 1e-12) <= prep.delivered_cells <= high * (1 + 1e-12)
    assert math.isclose(prep.target_cells, 1e6 * weight, rel_tol=1e-12)
    container_ul = round(lot.container_volume_ml * 1000)
    assert (
        (prep.containers_to_thaw - 1) * container_ul
        < draw_ul
        <= prep.containers_to_thaw * container_ul
    )


def _outcome(weight: float, arm: str, visit: str, lot: dp.Lot) -> dp.Preparation | dp.DoseError:
    try:
        return _prep(weight, arm, visit, lot)
    except dp.DoseError as error:
        return error


@given(weight=weights, lot=st.one_of(lots, bad_lots), visit=visits)
def test_a_placebo_and_its_twin_fail_alike_or_match(weight: float, lot: dp.Lot, visit: str) -> None:
    # In CARE-SSc, arm A is active and arm C placebo at both visits.
    active, placebo = _outcome(weight, "A", visit, lot), _outcome(weight, "C", visit, lot)
    if isinstance(active, dp.DoseError) or isinstance(placebo, dp.DoseError):
        assert isinstance(active, dp.DoseError)
        assert isinstance(placebo, dp.DoseError)
        assert type(placebo) is type(active)
        assert (placebo.field, placebo.value, placebo.limit) == (
            active.field,
            active.value,
            active.limit,
        )
        return
    assert placebo.final_volume_ml == active.final_volume_ml
    assert placebo.pump_rate_ml_per_h == active.pump_rate_ml_per_h
    assert placebo.infusion_duration_min == active.infusion_duration_min
    assert placebo.infuse_by == active.infuse_by
    assert placebo.delivered_cells is None
    assert placebo.blinded_label() == active.blinded_label()


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=2),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.datetimes(),
    st.sampled_from(["72.4 kg", "160 lb", "A", "month-0", "2026-11-25T09:00:00-05:00", "", " "]),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -0.0, 1e308, -1, 93, 0.93]),
)


def _only_dose_or_type_errors(call: Any) -> None:
    with contextlib.suppress(dp.DoseError, TypeError):
        call()


@given(
    weight=anything,
    arm=anything,
    visit=anything,
    thawed_at=anything,
    prepared_at=anything,
    participant=anything,
)
def test_fuzz_prepare_arguments(
    weight: Any, arm: Any, visit: Any, thawed_at: Any, prepared_at: Any, participant: Any
) -> None:
    lot = dp.Lot(
        lot_id="L",
        viable_cells_per_ml=1.25e7,
        viability=0.9,
        container_volume_ml=10,
        containers=4,
        dmso_fraction=0.0,
    )
    _only_dose_or_type_errors(
        lambda: dp.prepare(
            CARE_SSC,
            participant=participant,
            weight=weight,
            arm=arm,
            visit=visit,
            lot=lot,
            thawed_at=thawed_at,
            prepared_at=prepared_at,
        )
    )


@given(
    conc=numbers,
    viability=numbers,
    container=numbers,
    containers=numbers,
    dmso=st.one_of(st.none(), numbers),
    weight=st.one_of(numbers, st.text(max_size=20)),
    minutes=st.integers(-(10**6), 10**6),
)
def test_fuzz_numbers_give_a_bag_or_a_dose_error(
    conc: Any, viability: Any, container: Any, containers: Any, dmso: Any, weight: Any, minutes: int
) -> None:
    def call() -> None:
        lot = dp.Lot(
            lot_id="L",
            viable_cells_per_ml=conc,
            viability=viability,
            container_volume_ml=container,
            containers=containers,
            dmso_fraction=dmso,
        )
        prep = dp.prepare(
            CARE_SSC,
            participant="P",
            weight=weight,
            arm="A",
            visit="month-0",
            lot=lot,
            thawed_at=THAWED_AT,
            prepared_at=THAWED_AT + timedelta(minutes=minutes),
        )
        assert math.isfinite(prep.pump_rate_ml_per_h)
        assert 30 <= prep.body_weight_kg <= 250

    _only_dose_or_type_errors(call)


@given(text=st.text(max_size=200))
def test_fuzz_protocol_and_lot_text(text: str) -> None:
    _only_dose_or_type_errors(lambda: dp.Protocol.from_toml(text))
    _only_dose_or_type_errors(lambda: dp.Protocol.from_json(text))
    _only_dose_or_type_errors(lambda: dp.Lot.from_toml(text))
    _only_dose_or_type_errors(lambda: dp.Randomization.from_csv_text(text))


@given(
    year=st.integers(1, 9999),
    offset_minutes=st.integers(-23 * 60, 23 * 60),
)
def test_fuzz_extreme_datetimes(year: int, offset_minutes: int) -> None:
    tz = timezone(timedelta(minutes=offset_minutes))
    when = datetime(year, 1, 1, tzinfo=tz)
    lot = dp.Lot(
        lot_id="L",
        viable_cells_per_ml=1.25e7,
        viability=0.9,
        container_volume_ml=10,
        containers=4,
        dmso_fraction=0.0,
    )
    _only_dose_or_type_errors(
        lambda: dp.prepare(
            CARE_SSC,
            participant="P",
            weight="70 kg",
            arm="C",
            visit="month-0",
            lot=lot,
            thawed_at=when,
        )
    )


@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["participant", "weight", "arm", "visit", "thawed_at", "prepared_at"]),
            anything,
        ),
        max_size=5,
    )
)
def test_fuzz_prepare_many_keeps_one_result_per_row(rows: list[dict[str, Any]]) -> None:
    lot = dp.Lot(
        lot_id="L",
        viable_cells_per_ml=1.25e7,
        viability=0.9,
        container_volume_ml=10,
        containers=4,
        dmso_fraction=0.0,
    )
    results = dp.prepare_many(CARE_SSC, rows, lot=lot)
    assert len(results) == len(rows)
    assert all(isinstance(r, dp.Preparation | dp.DoseError) for r in results)


@given(text=st.text(max_size=300))
def test_fuzz_verify_text(text: str) -> None:
    _only_dose_or_type_errors(lambda: dp.verify(text))
