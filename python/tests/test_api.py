"""The Python surface: arguments, results, errors."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, THAWED_AT

import doseprep as dp


def _prepare(protocol: dp.Protocol, lot: dp.Lot, **overrides: Any) -> dp.Preparation:
    args: dict[str, Any] = {
        "participant": "CARE-012",
        "weight": "72.4 kg",
        "arm": "A",
        "visit": "month-0",
        "lot": lot,
        "thawed_at": THAWED_AT,
    }
    args.update(overrides)
    return dp.prepare(protocol, **args)


def test_worked_example(protocol: dp.Protocol, lot: dp.Lot) -> None:
    prep = _prepare(protocol, lot)
    assert prep.content == "active"
    assert prep.target_cells == 72.4e6
    assert prep.draw_volume_ml == 5.8  # 5.792 mL rounded half up to 0.1 mL
    assert prep.diluent_volume_ml == 44.2
    assert prep.final_volume_ml == 50.0
    assert prep.delivered_cells == 72.5e6
    assert math.isclose(prep.deviation or 0.0, 0.1 / 72.4, rel_tol=1e-12)
    assert prep.containers_to_thaw == 1
    assert prep.pump_rate_ml_per_h == 100.0
    assert prep.infusion_duration_min == 30.0
    assert prep.infuse_by == THAWED_AT + timedelta(hours=3)
    assert prep.start_by == THAWED_AT + timedelta(hours=2, minutes=30)
    assert prep.acceptable_range == pytest.approx((72.4e6 * 0.9, 72.4e6 * 1.1), rel=1e-12)


@dataclasses.dataclass
class FakeQuantity:
    """The shape of a pint quantity, without pint."""

    magnitude: float
    units: str


@pytest.mark.parametrize(
    ("weight", "kg"),
    [
        (72.4, 72.4),
        (72, 72.0),
        ("72.4 kg", 72.4),
        ("160 lb", 72.5747792),
        ("160 lbs", 72.5747792),
        (FakeQuantity(72.4, "kilogram"), 72.4),
        (FakeQuantity(160, "pound"), 72.5747792),
    ],
)
def test_weight_forms(protocol: dp.Protocol, lot: dp.Lot, weight: Any, kg: float) -> None:
    assert _prepare(protocol, lot, weight=weight).body_weight_kg == kg


def test_pint_quantities_work_when_pint_is_installed(protocol: dp.Protocol, lot: dp.Lot) -> None:
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    assert _prepare(protocol, lot, weight=160 * ureg.pound).body_weight_kg == 72.5747792
    assert _prepare(protocol, lot, weight=72.4 * ureg.kg).body_weight_kg == 72.4
    with pytest.raises(dp.UnitError):
        _prepare(protocol, lot, weight=72.4 * ureg.gram)


@pytest.mark.parametrize("weight", [[1], None, object(), True, b"72 kg"])
def test_a_wrong_type_of_weight_is_a_type_error(
    protocol: dp.Protocol, lot: dp.Lot, weight: Any
) -> None:
    with pytest.raises(TypeError, match="weight must be"):
        _prepare(protocol, lot, weight=weight)


def test_a_naive_datetime_is_refused(protocol: dp.Protocol, lot: dp.Lot) -> None:
    with pytest.raises(dp.InvalidTimeError, match="no time zone"):
        _prepare(protocol, lot, thawed_at=datetime(2026, 11, 25, 9, 0))


def test_times_keep_their_offset(protocol: dp.Protocol, lot: dp.Lot) -> None:
    paris = timezone(timedelta(hours=1))
    prep = _prepare(protocol, lot, thawed_at=datetime(2026, 11, 25, 9, 0, tzinfo=paris))
    assert prep.infuse_by == datetime(2026, 11, 25, 12, 0, tzinfo=paris)
    assert prep.infuse_by.utcoffset() == timedelta(hours=1)
    iso = _prepare(protocol, lot, thawed_at="2026-11-25T09:00:00-05:00")
    assert iso.infuse_by.utcoffset() == timedelta(hours=-5)


def test_placebo_has_no_cells_and_the_twin_volume(protocol: dp.Protocol, lot: dp.Lot) -> None:
    active = _prepare(protocol, lot, arm="B", visit="month-0")
    placebo = _prepare(protocol, lot, arm="B", visit="month-3")
    assert placebo.content == "placebo"
    assert placebo.draw_volume_ml == 0.0
    assert placebo.delivered_cells == 0.0
    assert placebo.target_cells == 0.0
    assert placebo.deviation is None
    assert placebo.lot_id is None
    assert placebo.containers_to_thaw == 0
    assert placebo.final_volume_ml == active.final_volume_ml == 50.0
    assert placebo.diluent_volume_ml == 50.0
    assert placebo.pump_rate_ml_per_h == active.pump_rate_ml_per_h
    assert placebo.infusion_duration_min == active.infusion_duration_min


def test_results_are_frozen_and_compare_by_value(protocol: dp.Protocol, lot: dp.Lot) -> None:
    first, second = _prepare(protocol, lot), _prepare(protocol, lot)
    assert first == second
    assert first != _prepare(protocol, lot, weight="72.5 kg")
    with pytest.raises(AttributeError):
        first.draw_volume_ml = 6.0  # type: ignore[misc]
    assert "draw_volume_ml=5.8" in repr(first)
    assert lot == dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10,
        containers=4,
    )
    assert dp.Protocol.care_ssc() == protocol


def test_to_dict_and_to_json(protocol: dp.Protocol, lot: dp.Lot) -> None:
    prep = _prepare(protocol, lot)
    as_dict = prep.to_dict()
    assert as_dict == json.loads(prep.to_json())
    assert as_dict["final_volume_ml"] == 50.0
    assert as_dict["dose"]["draw_volume_ml"] == 5.8
    assert as_dict["dose"]["containers_to_thaw"] == 1
    assert as_dict["content"] == "active"
    # Times are RFC 3339 with the offset, readable by the standard library.
    assert datetime.fromisoformat(as_dict["infuse_by"]) == prep.infuse_by
    assert as_dict["prepared_at"] == "2026-11-25T09:00:00+00:00"


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"weight": "352 kg"}, dp.ImplausibleWeightError, "'352 lb'"),
        ({"weight": "72.4"}, dp.UnitError, "has no unit"),
        ({"weight": float("nan")}, dp.InvalidQuantityError, "NaN kg"),
        ({"weight": float("inf")}, dp.InvalidQuantityError, "inf kg"),
        ({"weight": -70.0}, dp.InvalidQuantityError, "-70 kg"),
        ({"weight": 10**400}, dp.InvalidQuantityError, "fits a 64-bit float"),
        ({"arm": "D"}, dp.UnknownArmError, "A, B, C"),
        ({"visit": "month-6"}, dp.UnknownVisitError, "month-0, month-3"),
        ({"participant": "  "}, dp.InvalidInputError, "participant is empty"),
        (
            {"prepared_at": THAWED_AT + timedelta(hours=2, minutes=45)},
            dp.ThawWindowError,
            "3 h",
        ),
    ],
)
def test_errors_are_dose_errors_of_the_right_kind(
    protocol: dp.Protocol,
    lot: dp.Lot,
    overrides: dict[str, Any],
    error: type[dp.DoseError],
    fragment: str,
) -> None:
    with pytest.raises(error) as caught:
        _prepare(protocol, lot, **overrides)
    assert isinstance(caught.value, ValueError)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"viability": 93}, dp.ViabilityError, "pass 0.93"),
        ({"viability": 0}, dp.ViabilityError, "0.93 for 93%"),
        ({"viable_cells_per_ml": 0}, dp.InvalidQuantityError, "greater than 0"),
        ({"container_volume_ml": 0.0001}, dp.InvalidQuantityError, "microlitres"),
        ({"containers": 0}, dp.InvalidInputError, "0 containers"),
        ({"containers": -1}, dp.InvalidInputError, "-1 containers"),
        ({"dmso_fraction": 1.5}, dp.InvalidQuantityError, "0.05 for 5%"),
        ({"lot_id": ""}, dp.InvalidInputError, "lot_id is empty"),
    ],
)
def test_bad_lots(fields: dict[str, Any], error: type[dp.DoseError], fragment: str) -> None:
    args: dict[str, Any] = {
        "lot_id": "L",
        "viable_cells_per_ml": 1e7,
        "viability": 0.9,
        "container_volume_ml": 10,
        "containers": 2,
    }
    args.update(fields)
    with pytest.raises(error, match=fragment):
        dp.Lot(**args)


def test_every_error_class_has_a_kind() -> None:
    classes = [c for c in vars(dp).values() if isinstance(c, type) and issubclass(c, dp.DoseError)]
    assert len(classes) == 16
    kinds = {c.kind for c in classes}
    assert len(kinds) == 16
    assert dp.DoseError.kind == "error"
    assert dp.LotTooDiluteError.kind == "lot_too_dilute"


def test_prepare_many_keeps_order_and_puts_errors_in_place(
    protocol: dp.Protocol, lot: dp.Lot
) -> None:
    good = {"participant": "P1", "weight": 72.4, "arm": "A", "visit": "month-0"}
    orders: list[Any] = [
        {**good, "thawed_at": THAWED_AT},
        {**good, "participant": "P2", "weight": "352 kg", "thawed_at": THAWED_AT},
        dp.Order(participant="P3", weight="160 lb", arm="C", visit="month-3", thawed_at=THAWED_AT),
        {**good, "participant": "P4", "arm": "Z", "thawed_at": THAWED_AT},
        {"participant": "P5", "weight": 80},  # no arm, visit, thawed_at
        {**good, "participant": "P6", "weight": "1e400 kg", "thawed_at": THAWED_AT},
    ]
    results = dp.prepare_many(protocol, orders, lot=lot)
    assert len(results) == 6
    assert isinstance(results[0], dp.Preparation)
    assert results[0].participant == "P1"
    assert isinstance(results[1], dp.ImplausibleWeightError)
    assert isinstance(results[2], dp.Preparation)
    assert results[2].content == "placebo"
    assert isinstance(results[3], dp.UnknownArmError)
    assert isinstance(results[4], dp.InvalidInputError)
    assert isinstance(results[5], dp.InvalidQuantityError)


def test_prepare_many_puts_a_wrongly_typed_row_in_its_place(
    protocol: dp.Protocol, lot: dp.Lot
) -> None:
    good = {"participant": "P1", "weight": 72.4, "arm": "A", "visit": "month-0"}
    rows: list[Any] = [
        42,
        {**good, "thawed_at": THAWED_AT},
        {**good, "arm": 7, "thawed_at": THAWED_AT},
    ]
    results = dp.prepare_many(protocol, rows, lot=lot)
    assert isinstance(results[0], dp.InvalidInputError)
    assert "each order must be a dict or a doseprep.Order, not int" in str(results[0])
    assert isinstance(results[1], dp.Preparation)
    assert isinstance(results[2], dp.InvalidInputError)
    assert "arm must be a str, not int" in str(results[2])
    with pytest.raises(TypeError):
        dp.prepare_many(protocol, 42, lot=lot)  # type: ignore[arg-type]


def test_protocol_from_toml_errors_name_the_key() -> None:
    text = (dp.__file__ and "") + 'name = "X"\n'
    with pytest.raises(dp.ProtocolError, match="missing field"):
        dp.Protocol.from_toml(text)
    with pytest.raises(dp.ProtocolError, match="unknown field `colour`"):
        dp.Protocol.from_json(
            dp.Protocol.care_ssc().to_json().replace('{"name"', '{"colour":1,"name"', 1)
        )


def test_protocol_attributes(protocol: dp.Protocol) -> None:
    assert protocol.name == "CARE-SSc"
    assert protocol.visits == ["month-0", "month-3"]
    assert protocol.arms == {
        "A": {"month-0": "active", "month-3": "active"},
        "B": {"month-0": "active", "month-3": "placebo"},
        "C": {"month-0": "placebo", "month-3": "placebo"},
    }
    assert len(protocol.fingerprint) == 64
    assert dp.Protocol.from_json(protocol.to_json()).fingerprint == protocol.fingerprint


def test_protocol_from_file(tmp_path: Path) -> None:
    toml_path = REPO / "crates" / "doseprep" / "protocols" / "care-ssc.toml"
    assert dp.Protocol.from_file(toml_path) == dp.Protocol.care_ssc()
    json_path = tmp_path / "care-ssc.json"
    json_path.write_text(dp.Protocol.care_ssc().to_json())
    assert dp.Protocol.from_file(str(json_path)) == dp.Protocol.care_ssc()
    with pytest.raises(dp.ProtocolError, match="cannot read"):
        dp.Protocol.from_file(tmp_path / "missing.toml")
