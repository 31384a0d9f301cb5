"""Dose rules and the bench from Python: the example protocols, syringes,
the baseline weight and the weighing check."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import PROTOCOLS

import doseprep as dp

TWICE_WEEKLY = dp.Protocol.from_file(PROTOCOLS / "examples" / "twice-weekly.toml")
VIALS = dp.Lot(
    lot_id="R-0001",
    viable_cells_per_ml=6.68e6,
    viability=0.95,
    container_volume_ml=3.8,
    extractable_volume_ml=3.5,
    containers=30,
)
CHICAGO = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Chicago"))


def _bag(**overrides: Any) -> dp.Preparation:
    args: dict[str, Any] = {
        "participant": "EX-001",
        "weight": "30 kg",
        "baseline_weight": "30 kg",
        "arm": "active",
        "visit": "dose-3",
        "lot": VIALS,
        "thawed_at": CHICAGO,
    }
    args.update(overrides)
    return dp.prepare(TWICE_WEEKLY, **args)


def test_every_example_protocol_loads() -> None:
    names = sorted(p.name for p in (PROTOCOLS / "examples").glob("*.toml"))
    assert names == ["flat.toml", "per-kg-with-cap.toml", "twice-weekly.toml", "weight-bands.toml"]
    for name in names:
        text = (PROTOCOLS / "examples" / name).read_text()
        assert "EXAMPLE, NOT A VALIDATED PROTOCOL" in text
        dp.Protocol.from_file(PROTOCOLS / "examples" / name)


def test_the_syringe_and_its_graduation() -> None:
    bag = _bag()
    # 60 million at 6.68 million/mL is 8.982 mL: the 10 mL syringe, 0.2 mL marks.
    assert (bag.syringe_capacity_ml, bag.draw_graduation_ml, bag.draw_volume_ml) == (10, 0.2, 9)
    assert bag.containers_to_thaw == 3  # 9 mL from vials yielding 3.5 mL each


def test_the_baseline_weight_doses_within_ten_percent() -> None:
    assert _bag(weight="33 kg").dosing_weight_kg == 30
    assert _bag(weight="33 kg").dosing_weight_from == "baseline"
    changed = _bag(weight="34 kg")
    assert (changed.dosing_weight_kg, changed.dosing_weight_from) == (34, "visit-changed")
    with pytest.raises(dp.InvalidInputError, match="baseline_weight"):
        _bag(baseline_weight=None)


def test_check_weighed() -> None:
    bag = _bag()
    assert bag.expected_net_mass_g == pytest.approx(9 * 1.04 + 91 * 1.005, rel=1e-12)
    good = dp.check_weighed(bag, net_mass_g=101.0)
    assert good.ok
    assert bool(good)
    assert good.expected_g == pytest.approx(100.815, rel=1e-12)
    assert good.deviation == pytest.approx(0.185 / 100.815, rel=1e-12)
    assert good.accepted_range_g == pytest.approx((98.7987, 102.8313), rel=1e-12)
    bad = dp.check_weighed(bag, net_mass_g=103.0)
    assert not bad.ok
    assert "FAIL" in bad.message
    with pytest.raises(dp.InvalidQuantityError, match="NaN g"):
        dp.check_weighed(bag, net_mass_g=float("nan"))
    care = dp.prepare(
        dp.Protocol.care_ssc(),
        participant="P",
        weight_kg=72.4,
        arm="C",
        visit="month-0",
        lot=dp.Lot(
            lot_id="L",
            viable_cells_per_ml=12.5e6,
            viability=0.93,
            container_volume_ml=10,
            containers=4,
            dmso_fraction=0,
        ),
        thawed_at=CHICAGO,
    )
    with pytest.raises(dp.ProtocolError, match=r"site\.gravimetric"):
        dp.check_weighed(care, net_mass_g=50.3)


def test_the_worksheet_has_a_line_to_write_the_mass() -> None:
    sheet = _bag().worksheet()
    assert "Weigh the filled bag (net): expected 100.81 g, accepted 98.8-102.83 g" in sheet
