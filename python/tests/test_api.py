"""The Python surface: arguments, results, errors, and Python manners
(pickling, hashing, frozen values)."""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import CARE_SSC_TOML, PROTOCOLS, THAWED_AT, TORONTO

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
    assert prep.dose_determined_by == "per-kg rule, 1 million cells/kg × dosing weight"
    assert prep.rounding == "half-up"
    assert prep.draw_graduation_ml == 0.1
    assert prep.syringe_capacity_ml is None
    # 5.8 mL × 5% DMSO × 1.10 g/mL ÷ 72.4 kg
    assert prep.dmso_g_per_kg == pytest.approx(5.8 * 0.05 * 1.10 / 72.4, rel=1e-12)


@dataclasses.dataclass
class FakeQuantity:
    """The shape of a pint quantity, without pint."""

    magnitude: float
    units: str


@pytest.mark.parametrize(
    ("weight", "kg"),
    [
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


@pytest.mark.parametrize("weight", [[1], object(), True, b"72 kg"])
def test_a_wrong_type_of_weight_is_a_type_error(
    protocol: dp.Protocol, lot: dp.Lot, weight: Any
) -> None:
    with pytest.raises(TypeError, match="weight must be"):
        _prepare(protocol, lot, weight=weight)


@pytest.mark.parametrize("weight", [160, 160.0, 72.4])
def test_a_bare_number_is_not_a_weight(protocol: dp.Protocol, lot: dp.Lot, weight: Any) -> None:
    """160 from a US health record is pounds: never read as kilograms."""
    shown = f"{weight:g}"
    for call in (
        lambda: _prepare(protocol, lot, weight=weight),
        lambda: dp.Order(participant="P", weight=weight, arm="A", visit="month-0",
                         thawed_at=THAWED_AT),
        lambda: dp.DayOrder(participant="P", visit="month-0", weight=weight,
                            infusion_at=THAWED_AT),
        lambda: _prepare(protocol, lot, weight="72.4 kg", baseline_weight=weight),
    ):  # fmt: skip
        with pytest.raises(dp.UnitError) as caught:
            call()
        assert caught.value.fix == (
            f"write the unit after the number, e.g. '{shown} kg' or '{shown} lb',"
            f" or pass kilograms as {caught.value.field}_kg={shown}"
        )
        assert caught.value.value == shown
    good = {"participant": "P1", "arm": "A", "visit": "month-0", "thawed_at": THAWED_AT}
    [row] = dp.prepare_many(protocol, [{**good, "weight": weight}], lot=lot)
    assert isinstance(row, dp.UnitError)


def test_batch_bags_are_left_out_of_the_cycle_collector_and_can_be_in_no_cycle(
    protocol: dp.Protocol, lot: dp.Lot
) -> None:
    # The binding untracks batch bags (a day's worth made every collection
    # walk them all). That is sound only while a bag refers to no Python
    # object: then it can be in no reference cycle.
    good = {"participant": "P1", "arm": "A", "visit": "month-0", "thawed_at": THAWED_AT}
    bags = dp.prepare_many(protocol, [{**good, "weight": "72.4 kg"}] * 3, lot=lot)
    for bag in bags:
        assert isinstance(bag, dp.Preparation)
        assert not gc.is_tracked(bag)
        # Its class is its only referent, and a class refers to no instance.
        assert [r for r in gc.get_referents(bag) if r is not type(bag)] == []


def test_kilograms_as_a_number_go_in_weight_kg(protocol: dp.Protocol, lot: dp.Lot) -> None:
    assert _prepare(protocol, lot, weight=None, weight_kg=72.4).body_weight_kg == 72.4
    assert _prepare(protocol, lot, weight=None, weight_kg=72).body_weight_kg == 72.0
    # The record keeps the weight once, as given: kilograms as a number.
    order = _prepare(protocol, lot, weight=None, weight_kg=72.4).record().to_dict()["order"]
    assert (order["weight_kg"], "weight" in order) == (72.4, False)
    order = dp.DayOrder(participant="P", visit="month-0", weight_kg=72.4, infusion_at=THAWED_AT)
    assert order.weight_kg == 72.4
    good = {"participant": "P1", "arm": "A", "visit": "month-0", "thawed_at": THAWED_AT}
    [bag] = dp.prepare_many(protocol, [{**good, "weight_kg": 72.4}], lot=lot)
    assert isinstance(bag, dp.Preparation)
    assert bag.body_weight_kg == 72.4
    with pytest.raises(TypeError, match=r"give weight \(with its unit\) or weight_kg"):
        _prepare(protocol, lot, weight="72.4 kg", weight_kg=72.4)
    with pytest.raises(TypeError, match="missing the weight"):
        _prepare(protocol, lot, weight=None)
    with pytest.raises(dp.InvalidQuantityError, match="-1 kg"):
        _prepare(protocol, lot, weight=None, weight_kg=-1)


def test_the_thaw_time_is_required(protocol: dp.Protocol, lot: dp.Lot) -> None:
    # Typed as Any: the call leaves out an argument on purpose.
    args: dict[str, Any] = {
        "participant": "P",
        "weight": "72.4 kg",
        "arm": "C",
        "visit": "month-0",
        "lot": lot,
    }
    with pytest.raises(TypeError, match="thawed_at"):
        dp.prepare(protocol, **args)


def test_a_naive_datetime_is_refused(protocol: dp.Protocol, lot: dp.Lot) -> None:
    with pytest.raises(dp.InvalidTimeError, match="no time zone"):
        _prepare(protocol, lot, thawed_at=datetime(2026, 11, 25, 9, 0))


def test_times_come_back_on_the_site_clock(protocol: dp.Protocol, lot: dp.Lot) -> None:
    paris = timezone(timedelta(hours=1))
    prep = _prepare(protocol, lot, thawed_at=datetime(2026, 11, 25, 15, 0, tzinfo=paris))
    # 15:00 +01:00 is 09:00 EST; + 3 h is 12:00 EST, whatever the input's offset.
    assert prep.infuse_by == datetime(2026, 11, 25, 12, 0, tzinfo=TORONTO)
    assert prep.infuse_by.utcoffset() == timedelta(hours=-5)
    assert prep.infuse_by.tzname() == "EST"
    assert prep.to_dict()["infuse_by"] == "2026-11-25T12:00:00-05:00[America/Toronto]"
    assert "Fin de perfusion au plus tard: 2026-11-25 12:00 EST" in prep.blinded_label()


def test_the_fall_back_night_reads_the_wall_clock(protocol: dp.Protocol, lot: dp.Lot) -> None:
    # 00:30 EDT + 3 h is 02:30 EST: the clock fell back at 02:00 EDT.
    thaw = datetime(2026, 11, 1, 0, 30, tzinfo=TORONTO)
    prep = _prepare(protocol, lot, thawed_at=thaw)
    assert prep.infuse_by.tzname() == "EST"
    assert (prep.infuse_by.hour, prep.infuse_by.minute) == (2, 30)
    assert prep.infuse_by - thaw == timedelta(hours=3)


def test_a_placebo_has_no_dose_fields(protocol: dp.Protocol, lot: dp.Lot) -> None:
    active = _prepare(protocol, lot, arm="B", visit="month-0")
    placebo = _prepare(protocol, lot, arm="C", visit="month-0")
    assert placebo.content == "placebo"
    for field in (
        "draw_volume_ml",
        "delivered_cells",
        "target_cells",
        "deviation",
        "lot_id",
        "containers_to_thaw",
        "unrounded_draw_volume_ml",
        "final_concentration_cells_per_ml",
        "dmso_g_per_kg",
        "acceptable_range",
        "dose_determined_by",
        "rounding",
        "draw_graduation_ml",
    ):
        assert getattr(placebo, field) is None, field
    assert placebo.final_volume_ml == active.final_volume_ml == 50.0
    assert placebo.diluent_volume_ml == 50.0
    assert placebo.pump_rate_ml_per_h == active.pump_rate_ml_per_h
    assert placebo.infusion_duration_min == active.infusion_duration_min
    assert placebo.blinded_label() == active.blinded_label()


def test_a_placebo_fails_like_its_twin(protocol: dp.Protocol) -> None:
    weak = dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.6,
        container_volume_ml=10,
        containers=4,
        dmso_fraction=0.05,
    )
    with pytest.raises(dp.ViabilityError) as active:
        _prepare(protocol, weak, arm="A")
    with pytest.raises(dp.ViabilityError) as placebo:
        _prepare(protocol, weak, arm="C")
    assert "placebo for CARE-012 at month-0" in str(placebo.value)
    assert "fails like its twin" in str(placebo.value)
    assert (placebo.value.field, placebo.value.value, placebo.value.limit) == (
        active.value.field,
        active.value.value,
        active.value.limit,
    )


def test_results_are_frozen_hashable_and_compare_by_value(
    protocol: dp.Protocol, lot: dp.Lot
) -> None:
    first, second = _prepare(protocol, lot), _prepare(protocol, lot)
    assert first == second
    assert hash(first) == hash(second)
    assert first != _prepare(protocol, lot, weight="72.5 kg")
    with pytest.raises(AttributeError):
        first.draw_volume_ml = 6.0  # type: ignore[misc]
    assert "draw_volume_ml=5.8" in repr(first)
    assert {protocol, dp.Protocol.care_ssc()} == {protocol}
    assert hash(lot) == hash(dp.Lot.from_json(lot.to_json()))


def test_equal_orders_and_lots_hash_equal_whatever_offset_their_times_were_given_in(
    lot: dp.Lot,
) -> None:
    """Times compare as instants: 09:00 at -05:00 is 14:00 UTC."""
    kw: dict[str, Any] = {"participant": "P", "weight": "160 lb", "arm": "C", "visit": "month-3"}
    toronto = dp.Order(**kw, thawed_at="2026-11-25T09:00:00-05:00")
    utc = dp.Order(**kw, thawed_at="2026-11-25T14:00:00+00:00")
    assert toronto == utc
    assert hash(toronto) == hash(utc)
    assert len({toronto, utc}) == 1
    assert toronto != dp.Order(**kw, thawed_at="2026-11-25T09:01:00-05:00")
    spec = {k: v for k, v in json.loads(lot.to_json()).items() if k != "expires_at"}
    expiring = [
        dp.Lot.from_json(json.dumps({**spec, "expires_at": at}))
        for at in ("2026-12-31T23:00:00-05:00", "2027-01-01T04:00:00+00:00")
    ]
    assert expiring[0] == expiring[1]
    assert hash(expiring[0]) == hash(expiring[1])


def test_everything_pickles_and_unpickles_equal(protocol: dp.Protocol, lot: dp.Lot) -> None:
    prep = _prepare(protocol, lot, bag_id="014D2PF2DBR")
    order = dp.Order(
        participant="P", weight="160 lb", arm="C", visit="month-3", thawed_at=THAWED_AT
    )
    for value in (protocol, lot, order, prep, prep.record()):
        back = pickle.loads(pickle.dumps(value))
        assert back == value
        assert type(back) is type(value)
    assert pickle.loads(pickle.dumps(prep)).worksheet() == prep.worksheet()


def test_to_dict_and_to_json(protocol: dp.Protocol, lot: dp.Lot) -> None:
    prep = _prepare(protocol, lot)
    as_dict = prep.to_dict()
    assert as_dict == json.loads(prep.to_json())
    assert as_dict["final_volume_ml"] == 50.0
    assert as_dict["dose"]["draw_volume_ml"] == 5.8
    assert as_dict["dose"]["containers_to_thaw"] == 1
    assert as_dict["content"] == "active"
    assert as_dict["thawed_at"] == "2026-11-25T09:00:00-05:00[America/Toronto]"


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"weight": "352 kg"}, dp.ImplausibleWeightError, "'352 lb'"),
        ({"weight": "72.4"}, dp.UnitError, "has no unit"),
        ({"weight": None, "weight_kg": float("nan")}, dp.InvalidQuantityError, "NaN kg"),
        ({"weight": None, "weight_kg": float("inf")}, dp.InvalidQuantityError, "inf kg"),
        ({"weight": None, "weight_kg": -70.0}, dp.InvalidQuantityError, "-70 kg"),
        ({"weight": None, "weight_kg": 10**400}, dp.InvalidQuantityError, "inf kg"),
        ({"arm": "D"}, dp.UnknownArmError, "A, B, C"),
        ({"visit": "month-6"}, dp.UnknownVisitError, "month-0, month-3"),
        ({"participant": "  "}, dp.InvalidInputError, "participant is empty"),
        ({"bag_id": "NOT-A-BAG"}, dp.InvalidInputError, "not a bag id"),
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


def test_errors_carry_their_parts(protocol: dp.Protocol, lot: dp.Lot) -> None:
    with pytest.raises(dp.ImplausibleWeightError) as caught:
        _prepare(protocol, lot, weight="352 kg")
    error = caught.value
    assert error.kind == "implausible_weight"
    assert error.field == "weight"
    assert error.value == "352 kg"
    assert error.limit == "30-250 kg"
    assert error.fix == "if it was measured in pounds, pass '352 lb' (159.66 kg)"
    with pytest.raises(dp.UnknownArmError) as caught_arm:
        _prepare(protocol, lot, arm="D")
    assert (caught_arm.value.field, caught_arm.value.value) == ("arm", "D")
    assert caught_arm.value.limit == "one of A, B, C"


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"viability": 93}, dp.ViabilityError, "pass 0.93"),
        ({"viability": 0}, dp.ViabilityError, "0.93 for 93%"),
        ({"viable_cells_per_ml": 0}, dp.InvalidQuantityError, "greater than 0"),
        ({"container_volume_ml": 0.0001}, dp.InvalidQuantityError, "microlitres"),
        ({"containers": 0}, dp.InvalidInputError, "0 containers"),
        ({"containers": -1}, dp.InvalidInputError, "-1 containers"),
        ({"containers": 2.5}, dp.InvalidInputError, "2.5 containers"),
        ({"dmso_fraction": 1.5}, dp.InvalidQuantityError, "0.05 for 5%"),
        ({"lot_id": ""}, dp.InvalidInputError, "lot_id is empty"),
        ({"extractable_volume_ml": 12}, dp.InvalidQuantityError, "at most the fill volume 10 mL"),
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


def test_every_kind_is_a_class_and_a_name_of_the_package() -> None:
    classes = [c for c in vars(dp).values() if isinstance(c, type) and issubclass(c, dp.DoseError)]
    # The base, one per kind of the core's list (21), and the printer's and
    # the ledger's errors.
    assert len(classes) == 24
    kinds = {c.kind for c in classes}
    assert len(kinds) == 24
    # A fault of the system is not bad input.
    assert issubclass(dp.FaultError, RuntimeError)
    assert not issubclass(dp.FaultError, ValueError)
    assert (dp.PrintError.kind, dp.LedgerError.kind) == ("print", "ledger")
    assert dp.DoseError.kind == "error"
    assert dp.LotTooDiluteError.kind == "lot_too_dilute"
    assert {c.__name__ for c in classes} <= set(dp.__all__)


def test_prepare_many_keeps_order_and_puts_errors_in_place(
    protocol: dp.Protocol, lot: dp.Lot
) -> None:
    good = {"participant": "P1", "weight": "72.4 kg", "arm": "A", "visit": "month-0"}
    orders: list[Any] = [
        {**good, "thawed_at": THAWED_AT},
        {**good, "participant": "P2", "weight": "352 kg", "thawed_at": THAWED_AT},
        dp.Order(participant="P3", weight="160 lb", arm="C", visit="month-3", thawed_at=THAWED_AT),
        {**good, "participant": "P4", "arm": "Z", "thawed_at": THAWED_AT},
        {"participant": "P5", "weight": "80 kg"},  # no arm, visit, thawed_at
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
    good = {"participant": "P1", "weight": "72.4 kg", "arm": "A", "visit": "month-0"}
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


def test_protocol_errors_name_the_key() -> None:
    with pytest.raises(dp.ProtocolError, match="missing field"):
        dp.Protocol.from_toml('name = "X"\n')
    with pytest.raises(dp.ProtocolError, match="unknown field `colour`"):
        dp.Protocol.from_json(
            dp.Protocol.care_ssc().to_json().replace('{"name"', '{"colour":1,"name"', 1)
        )


def test_protocol_attributes(protocol: dp.Protocol) -> None:
    assert protocol.name == "CARE-SSc"
    assert protocol.visits == ["month-0", "month-3"]
    assert protocol.time_zone == "America/Toronto"
    assert protocol.arms == {
        "A": {"month-0": "active", "month-3": "active"},
        "B": {"month-0": "active", "month-3": "placebo"},
        "C": {"month-0": "placebo", "month-3": "placebo"},
    }
    assert len(protocol.trial_fingerprint) == len(protocol.site_fingerprint) == 64
    again = dp.Protocol.from_json(protocol.to_json())
    assert (again.trial_fingerprint, again.site_fingerprint) == (
        protocol.trial_fingerprint,
        protocol.site_fingerprint,
    )


def test_a_trial_file_and_a_site_file_and_examples_by_name(tmp_path: Path) -> None:
    trial = PROTOCOLS / "care-ssc.toml"
    site = PROTOCOLS / "sites" / "care-ssc-default.toml"
    assert dp.Protocol.from_file(trial, site=site) == dp.Protocol.care_ssc()
    assert dp.Protocol.from_toml(trial.read_text(), site=site.read_text()) == dp.Protocol.care_ssc()
    # Paris: its own clock, the same trial.
    paris = tmp_path / "paris.toml"
    paris.write_text(site.read_text().replace('"America/Toronto"', '"Europe/Paris"'))
    at_paris = dp.Protocol.from_file(trial, site=paris)
    assert at_paris.time_zone == "Europe/Paris"
    assert at_paris.trial_fingerprint == dp.Protocol.care_ssc().trial_fingerprint
    assert at_paris.site_fingerprint != dp.Protocol.care_ssc().site_fingerprint
    # Every example ships in the package.
    for name in ("care-ssc", "flat", "per-kg-with-cap", "twice-weekly", "weight-bands"):
        assert dp.Protocol.example(name).name
    assert dp.Protocol.example("weight-bands") == dp.Protocol.from_file(
        PROTOCOLS / "examples" / "weight-bands.toml"
    )
    with pytest.raises(dp.InvalidInputError, match="use one of care-ssc, flat"):
        dp.Protocol.example("bands")  # type: ignore[arg-type]


def test_files_are_read_by_format_and_a_missing_one_is_named(tmp_path: Path) -> None:
    single = tmp_path / "care-ssc.toml"
    single.write_text(CARE_SSC_TOML)
    assert dp.Protocol.from_file(single) == dp.Protocol.care_ssc()
    json_path = tmp_path / "care-ssc.JSON"
    json_path.write_text(dp.Protocol.care_ssc().to_json())
    assert dp.Protocol.from_file(str(json_path)) == dp.Protocol.care_ssc()
    missing = tmp_path / "missing.toml"
    with pytest.raises(FileNotFoundError, match=f"no such file: {missing}"):
        dp.Protocol.from_file(missing)
    with pytest.raises(FileNotFoundError, match="no such file"):
        dp.Lot.from_file(missing)
    lot_file = tmp_path / "lot.toml"
    lot_file.write_text(
        'lot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\n'
        'viability = 93\ncontainer_volume = "10 mL"\ncontainers = 4\n'
    )
    with pytest.raises(dp.ViabilityError, match=r"pass 0\.93 for 93%"):
        dp.Lot.from_file(lot_file)


def test_a_preparation_json_is_not_a_record(protocol: dp.Protocol, lot: dp.Lot) -> None:
    prep = _prepare(protocol, lot)
    with pytest.raises(dp.RecordError, match=r"prep\.record\(\)"):
        dp.PreparationRecord.from_json(prep.to_json())
    record = prep.record()
    assert dp.PreparationRecord.from_json(record.to_json()) == record
    assert record.preparation() == prep
    assert record.worksheet() == prep.worksheet()
    assert dp.verify(record).ok
