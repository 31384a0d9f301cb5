"""Runs every row of docs/bad-inputs.md: the error kind, and that the message
names the value and the fix."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from conftest import REPO

import doseprep as dp

DOC = (REPO / "docs" / "bad-inputs.md").read_text()
CARE_SSC_TOML = (REPO / "crates" / "doseprep" / "protocols" / "care-ssc.toml").read_text()


def _rows() -> list[list[str]]:
    table = DOC.split("<!-- bad-inputs:start -->")[1].split("<!-- bad-inputs:end -->")[0]
    rows = []
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append([c.replace("\\|", "|") for c in cells])
    return rows


ROWS = _rows()


def _unquote(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


def _kwargs(given: str) -> dict[str, Any]:
    # The table's own expressions; only names a reader of the table would expect.
    return eval(f"dict({given})", {"datetime": datetime, "float": float})  # type: ignore[no-any-return]


def _call(target: str, given: str) -> None:
    if target == "protocol":
        old, new = (s.strip().strip("`") for s in given.split("→"))
        old, new = old.replace("\\n", "\n"), new.replace("\\n", "\n")
        assert old in CARE_SSC_TOML, old
        dp.Protocol.from_toml(CARE_SSC_TOML.replace(old, new, 1))
        return
    lot_args: dict[str, Any] = {
        "lot_id": "UC-0042",
        "viable_cells_per_ml": 12.5e6,
        "viability": 0.93,
        "container_volume_ml": 10,
        "containers": 4,
    }
    args: dict[str, Any] = {
        "participant": "CARE-012",
        "weight": "72.4 kg",
        "arm": "A",
        "visit": "month-0",
        "thawed_at": "2026-11-25T09:00:00+00:00",
        "prepared_at": "2026-11-25T09:30:00+00:00",
    }
    for key, value in _kwargs(_unquote(given)).items():
        if target == "lot":
            lot_args[key] = value
        elif key.startswith("lot_"):
            lot_args[key.removeprefix("lot_")] = value
        else:
            args[key] = value
    dp.prepare(dp.Protocol.care_ssc(), lot=dp.Lot(**lot_args), **args)


def test_the_table_covers_what_was_asked() -> None:
    assert len(ROWS) >= 50
    inputs = {row[1] for row in ROWS}
    for needed in ("weight (kg)", "viability", "containers", "DMSO fraction", "unknown arm"):
        assert needed in inputs


@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_bad_input_row(row: list[str]) -> None:
    _, _, target, given, kind, value, fix = row
    if kind == "accepted":
        _call(target, given)
        return
    with pytest.raises(dp.DoseError) as caught:
        _call(target, given)
    message = str(caught.value)
    assert type(caught.value).kind == kind, message
    assert _unquote(value) in message, message
    assert fix in message, message
