"""Every case of tests/vectors/preparations.json, through the Python API: the
same hand-worked numbers the Rust suite checks."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pytest
from conftest import VECTORS

import doseprep as dp

CASES: list[dict[str, Any]] = json.loads((VECTORS / "preparations.json").read_text())


def _number(value: Any) -> float:
    return float(value)  # "NaN" and "inf" arrive as strings


def _protocol(name: str) -> dp.Protocol:
    if name == "care-ssc":
        return dp.Protocol.care_ssc()
    return dp.Protocol.from_toml((VECTORS / "protocols" / name).read_text())


def _run(case: dict[str, Any]) -> dp.Preparation:
    lot_fields = case["lot"]
    lot = dp.Lot(
        lot_id=lot_fields["lot_id"],
        viable_cells_per_ml=_number(lot_fields["viable_cells_per_ml"]),
        viability=_number(lot_fields["viability"]),
        container_volume_ml=_number(lot_fields["container_volume_ml"]),
        containers=lot_fields["containers"],
        dmso_fraction=lot_fields.get("dmso_fraction"),
    )
    order = case["order"]
    return dp.prepare(
        _protocol(case["protocol"]),
        participant=order["participant"],
        weight=order["weight"],
        arm=order["arm"],
        visit=order["visit"],
        lot=lot,
        thawed_at=datetime.fromisoformat(order["thawed_at"]),
        prepared_at=datetime.fromisoformat(order["prepared_at"]),
    )


EXACT = ("content", "draw_volume_ml", "diluent_volume_ml", "final_volume_ml", "containers_to_thaw")
CLOSE = (
    "body_weight_kg",
    "dosing_weight_kg",
    "target_cells",
    "delivered_cells",
    "pump_rate_ml_per_h",
    "unrounded_draw_volume_ml",
    "final_concentration_cells_per_ml",
    "deviation",
    "dmso_g_per_kg",
)


def test_there_are_at_least_twenty_vectors() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(dp.DoseError) as caught:
            _run(case)
        assert type(caught.value).kind == case["error"]["kind"], str(caught.value)
        for fragment in case["error"]["message_contains"]:
            assert fragment in str(caught.value)
        return
    prep = _run(case)
    expected = case["expected"]
    for field in EXACT:
        assert getattr(prep, field) == expected[field], field
    for field in CLOSE:
        if field not in expected:
            continue
        actual, want = getattr(prep, field), expected[field]
        if want is None:
            assert actual is None, field
        else:
            assert actual is not None
            assert math.isclose(actual, want, rel_tol=1e-12, abs_tol=1e-300), (field, actual, want)
    for field in ("start_by", "infuse_by"):
        want_time = datetime.fromisoformat(expected[field])
        got = getattr(prep, field)
        assert got == want_time, field
        assert got.utcoffset() == want_time.utcoffset(), field
