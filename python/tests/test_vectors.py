"""Every case of tests/vectors/preparations.json, through the Python API: the
same hand-worked numbers the Rust suite checks."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from conftest import PROTOCOLS, VECTORS

import doseprep as dp

CASES: list[dict[str, Any]] = json.loads((VECTORS / "preparations.json").read_text())


def _protocol(name: str) -> dp.Protocol:
    if name == "care-ssc":
        return dp.Protocol.care_ssc()
    if name.startswith("examples/"):
        return dp.Protocol.from_file(PROTOCOLS / name)
    return dp.Protocol.from_file(VECTORS / "protocols" / name)


def _run(case: dict[str, Any]) -> dp.Preparation:
    fields = case["lot"]
    lot = dp.Lot(
        lot_id=fields["lot_id"],
        viable_cells_per_ml=float(fields["viable_cells_per_ml"]),  # "NaN" arrives as text
        viability=float(fields["viability"]),
        container_volume_ml=float(fields["container_volume_ml"]),
        extractable_volume_ml=fields.get("extractable_volume_ml"),
        containers=fields["containers"],
        dmso_fraction=fields.get("dmso_fraction"),
    )
    order = case["order"]
    return dp.prepare(
        _protocol(case["protocol"]),
        participant=order["participant"],
        weight=order.get("weight"),
        weight_kg=order.get("weight_kg"),
        arm=order["arm"],
        visit=order["visit"],
        lot=lot,
        thawed_at=order["thawed_at"],
        prepared_at=order.get("prepared_at"),
        infusion_at=order.get("infusion_at"),
        baseline_weight=order.get("baseline_weight"),
        bag_id=order.get("bag_id"),
    )


def _flat(prep: dp.Preparation) -> dict[str, Any]:
    low_high = prep.acceptable_range
    return {
        "content": prep.content,
        "body_weight_kg": prep.body_weight_kg,
        "dosing_weight_kg": prep.dosing_weight_kg,
        "dosing_weight_from": prep.dosing_weight_from,
        "diluent_volume_ml": prep.diluent_volume_ml,
        "final_volume_ml": prep.final_volume_ml,
        "pump_rate_ml_per_h": prep.pump_rate_ml_per_h,
        "start_by": prep.to_dict()["start_by"],
        "infuse_by": prep.to_dict()["infuse_by"],
        "expected_net_mass_g": prep.expected_net_mass_g,
        "target_cells": prep.target_cells,
        "acceptable_min_cells": low_high[0] if low_high else None,
        "acceptable_max_cells": low_high[1] if low_high else None,
        "unrounded_draw_volume_ml": prep.unrounded_draw_volume_ml,
        "draw_volume_ml": prep.draw_volume_ml,
        "draw_graduation_ml": prep.draw_graduation_ml,
        "syringe_capacity_ml": prep.syringe_capacity_ml,
        "rounding": prep.rounding,
        "delivered_cells": prep.delivered_cells,
        "deviation": prep.deviation,
        "containers_to_thaw": prep.containers_to_thaw,
        "final_concentration_cells_per_ml": prep.final_concentration_cells_per_ml,
        "dmso_g_per_kg": prep.dmso_g_per_kg,
        "dose_determined_by": prep.dose_determined_by,
    }


EXACT = {
    "content",
    "draw_volume_ml",
    "diluent_volume_ml",
    "final_volume_ml",
    "containers_to_thaw",
    "start_by",
    "infuse_by",
    "draw_graduation_ml",
    "syringe_capacity_ml",
    "rounding",
    "dose_determined_by",
    "dosing_weight_from",
}


def test_there_are_at_least_forty_vectors() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(dp.DoseError) as caught:
            _run(case)
        assert type(caught.value).kind == case["error"]["kind"], str(caught.value)
        for fragment in case["error"]["message_contains"]:
            assert fragment in str(caught.value)
        return
    actual = _flat(_run(case))
    for field, want in case["expected"].items():
        got = actual[field]
        if field in EXACT or want is None or got is None or isinstance(want, str):
            assert got == want, (field, got, want)
        else:
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300), (field, got, want)
