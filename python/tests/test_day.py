"""The preparation day from Python and from the command: the hand-worked
days of tests/vectors/days.json, the randomization list, and `doseprep day`."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import printed
import pytest
from conftest import VECTORS

import doseprep as dp

DAYS: list[dict[str, Any]] = json.loads((VECTORS / "days.json").read_text())
DOSEPREP = Path(sys.executable).with_name("doseprep")


def _plan(case: dict[str, Any]) -> dp.DayPlan:
    protocol = dp.Protocol.care_ssc()
    randomization = dp.Randomization.from_csv_text(case["randomization"], protocol=protocol)
    lots = [dp.Lot(**lot) for lot in case["lots"]]
    orders = [dp.DayOrder(**order) for order in case["orders"]]
    return dp.plan_day(protocol, orders, lots=lots, randomization=randomization)


@pytest.mark.parametrize("case", DAYS, ids=[c["name"][:40] for c in DAYS])
def test_day_vector(case: dict[str, Any]) -> None:
    plan = _plan(case)
    expected = case["expected"]
    thaws = [
        {
            "thawed_at": t.thawed_at.isoformat(),
            "lot_id": t.lot_id,
            "containers": t.containers,
        }
        for t in plan.thaws
    ]
    assert thaws == [{**t, "thawed_at": t["thawed_at"].split("[")[0]} for t in expected["thaws"]]
    assert plan.remaining == expected["remaining"]
    assert plan.held_for_blinding == expected["held_for_blinding"]
    bags = plan.bags
    assert len(bags) == len(expected["bags"])
    ids = set()
    for bag, want in zip(bags, expected["bags"], strict=True):
        if "error" in want:
            assert isinstance(bag, dp.DoseError)
            assert bag.kind == want["error"]
            continue
        assert isinstance(bag, dp.Preparation)
        assert bag.content == want["content"]
        assert bag.draw_volume_ml == want["draw_volume_ml"]
        assert bag.draws == [tuple(d) for d in want["draws"]]
        assert bag.bag_id is not None
        assert len(bag.bag_id) == 11
        ids.add(bag.bag_id)
        for field in ("thawed_at", "start_by", "infuse_by"):
            if field in want:
                assert getattr(bag, field).isoformat() == want[field].split("[")[0], field
        assert bag.thaw_session == bag.thawed_at
        # Each bag's record carries its bag id, session and draws, and verifies.
        record = bag.record()
        assert dp.verify(record).ok
        assert record.to_dict()["order"]["bag_id"] == bag.bag_id
    assert len(ids) == sum(1 for b in bags if isinstance(b, dp.Preparation))


def test_an_edited_allocation_does_not_verify() -> None:
    bag = next(b for b in _plan(DAYS[0]).bags if isinstance(b, dp.Preparation) and b.draws)
    text = bag.record().to_json()
    edited = text.replace('"volume_ml": 5.8', '"volume_ml": 5.9', 1)
    assert edited != text
    verification = dp.verify(edited)
    assert not verification.ok
    fields = [d[0] for d in verification.differences]
    assert "preparation.draws.total" in fields


def test_the_randomization_list_is_read_as_saved(tmp_path: Path) -> None:
    path = tmp_path / "randomization.csv"
    path.write_bytes("participant,arm\r\nP1,A\r\nP2,C\r\n".encode("utf-8-sig"))
    protocol = dp.Protocol.care_ssc()
    randomization = dp.Randomization.from_csv(path, protocol=protocol)
    assert (len(randomization), randomization.arm("P2"), randomization.arm("P3")) == (2, "C", None)
    path.write_text("participant,arm\nP1,A\nP1,B\n")
    with pytest.raises(dp.RandomizationError, match="row 3: participant P1 is listed again"):
        dp.Randomization.from_csv(path)
    path.write_text("participant,arm\nP1,D\n")
    with pytest.raises(dp.RandomizationError, match='row 2: arm "D" of P1 is not in protocol'):
        dp.Randomization.from_csv(path, protocol=protocol)


def _write_day(tmp_path: Path, case: dict[str, Any]) -> list[str]:
    orders = tmp_path / "orders.csv"
    rows = ["participant,visit,weight,infusion_at"] + [
        f"{o['participant']},{o['visit']},{o['weight']},{o['infusion_at']}" for o in case["orders"]
    ]
    orders.write_text("\n".join(rows) + "\n")
    (tmp_path / "randomization.csv").write_text(case["randomization"])
    lots = "".join(
        f'[[lot]]\nlot_id = "{lot["lot_id"]}"\n'
        f'viable_cells_per_ml = "{lot["viable_cells_per_ml"]} cells/mL"\n'
        f'viability = {lot["viability"]}\ncontainer_volume = "{lot["container_volume_ml"]} mL"\n'
        f"containers = {lot['containers']}\ndmso_fraction = {lot['dmso_fraction']}\n\n"
        for lot in case["lots"]
    )
    (tmp_path / "lots.toml").write_text(lots)
    return [
        "day", str(orders),
        "--randomization", str(tmp_path / "randomization.csv"),
        "--lots", str(tmp_path / "lots.toml"),
        "--out", str(tmp_path / "day"), "--pdf",
    ]  # fmt: skip


def test_the_day_command_writes_every_document(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(DOSEPREP), *_write_day(tmp_path, DAYS[0])],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "day"
    assert result.stdout.startswith("CARE-SSc day plan: 6 order rows, 6 planned, 0 not planned\n")
    pick = (out / "pick-list.txt").read_text()
    assert "2026-11-25 08:30 EST  thaw lot UC-0042  containers 1, 2" in pick
    day_csv = (out / "day.csv").read_text()
    assert day_csv.startswith("# UNBLINDED pharmacy document")
    rows = list(csv.DictReader(day_csv.splitlines()[1:]))
    assert [r["status"] for r in rows] == ["planned"] * 6
    assert [r["arm"] for r in rows] == ["A", "B", "C", "B", "A", "C"]
    for row in rows:
        assert re.fullmatch("[0-9A-HJKMNP-TV-Z]{11}", row["bag_id"])
        stem = out / "bags" / row["bag_id"]
        label = Path(f"{stem}.label.txt").read_text()
        assert f"Bag / Poche: {row['bag_id']}" in label
        assert Path(f"{stem}.worksheet.txt").read_text().startswith("UNBLINDED")
        assert dp.verify(Path(f"{stem}.record.json").read_text()).ok
    # What goes to the ward names no arm, content or lot (the blinded
    # product text, the same on every bag, aside).
    # The blinded product text, in both label languages, says "placebo" on
    # every bag; nothing else may.
    products = (
        "UCMSC 1 million cells/kg or placebo",
        "CSM de cordon ombilical 1 million de cellules/kg ou placebo",
    )
    ward = [
        (out / "summary.txt").read_text(),
        *(p.read_text() for p in out.glob("bags/*.label.txt")),
    ]
    # The printed labels, a page per bag in the order of the CSV, say no more.
    labels_pdf = out / "labels.pdf"
    ward.append(printed.text(labels_pdf))
    for text in ward:
        text = " ".join(text.split())  # a printed line may wrap anywhere
        for product in products:
            text = text.replace(product, "")
        words = set(re.findall(r"[\w-]+", text.lower()))
        assert not words & {"arm", "active", "placebo", "uc-0042"}, text
    pages = printed.render(labels_pdf, 300)
    assert [printed.barcodes(page) for page in pages] == [
        {("DataMatrix", row["bag_id"]), ("Code128", row["bag_id"])} for row in rows
    ]
    sheets = printed.text(out / "worksheets.pdf")
    assert sheets.count("UNBLINDED PREPARATION WORKSHEET") == 6


def test_the_day_command_exits_1_when_orders_are_not_planned(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(DOSEPREP), *_write_day(tmp_path, DAYS[1])],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "2 of 6 order rows not planned (see day.csv)" in result.stderr
    rows = list(csv.DictReader((tmp_path / "day" / "day.csv").read_text().splitlines()[1:]))
    assert [r["status"] for r in rows][-2:] == ["NOT PLANNED: not_enough_containers"] * 2
    assert "Traceback" not in result.stderr


def test_every_row_of_a_french_excel_file_reaches_the_ward_sheet(tmp_path: Path) -> None:
    """Semicolons, a decimal comma, grams, a time without its offset and a
    visit ordered twice: every row is in summary.txt and day.csv, with its
    number and its participant as written."""
    orders = tmp_path / "excel.csv"
    orders.write_text(
        "\ufeffparticipant;visit;weight;infusion_at\r\n"
        "CARE-001;month-0;72.4 kg;2026-11-25T09:00:00-05:00\r\n"
        "CARE-002;month-0;72,4 kg;2026-11-25T09:30:00-05:00\r\n"
        "CARE-003;month-3;72400 g;2026-11-25T10:00:00-05:00\r\n"
        "CARE-004;month-3;91.2 kg;2026-11-25T11:30:00\r\n"
        "CARE-001;month-0;80 kg;2026-11-25T12:00:00-05:00\r\n",
        encoding="utf-8",
    )
    args = _write_day(tmp_path, DAYS[0])
    args[1] = str(orders)
    args.remove("--pdf")
    result = subprocess.run(
        [str(DOSEPREP), *args], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert "4 of 5 order rows not planned (see day.csv)" in result.stderr
    summary = (tmp_path / "day" / "summary.txt").read_text()
    assert summary == result.stdout.split("written to")[0]
    lines = summary.splitlines()
    assert lines[0] == "CARE-SSc day plan: 5 order rows, 1 planned, 4 not planned"
    assert lines[2:5] == [
        "--:--  row 3  CARE-002 month-0  NOT PLANNED: unit",
        "--:--  row 4  CARE-003 month-3  NOT PLANNED: unit",
        "--:--  row 5  CARE-004 month-3  NOT PLANNED: invalid time",
    ]
    assert lines[5].startswith("09:00 EST  row 2  CARE-001 month-0  bag ")
    assert lines[6] == "12:00 EST  row 6  CARE-001 month-0  NOT PLANNED: duplicate order"
    rows = list(csv.DictReader((tmp_path / "day" / "day.csv").read_text().splitlines()[1:]))
    assert [(r["row"], r["participant"], r["status"]) for r in rows] == [
        ("2", "CARE-001", "planned"),
        ("3", "CARE-002", "NOT PLANNED: unit"),
        ("4", "CARE-003", "NOT PLANNED: unit"),
        ("5", "CARE-004", "NOT PLANNED: invalid_time"),
        ("6", "CARE-001", "NOT PLANNED: duplicate_order"),
    ]


def test_plan_day_keeps_every_row_from_python(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "participant,visit,weight,infusion_at\n"
        "CARE-001,month-0,72.4 kg,2026-11-25T09:00:00-05:00\n"
        "CARE-002,month-0,160,2026-11-25T09:30:00-05:00\n"
        "CARE-001,month-0,72.4 kg,2026-11-25T10:00:00-05:00\n"
    )
    rows = dp.DayOrder.from_csv(path)
    assert [(r.row, r.participant, r.visit) for r in rows] == [
        (2, "CARE-001", "month-0"),
        (3, "CARE-002", "month-0"),
        (4, "CARE-001", "month-0"),
    ]
    assert isinstance(rows[0].order, dp.DayOrder)
    assert isinstance(rows[1].order, dp.UnitError)
    protocol = dp.Protocol.care_ssc()
    plan = dp.plan_day(
        protocol,
        rows,
        lots=[dp.Lot(**DAYS[0]["lots"][0])],
        randomization=dp.Randomization.from_csv_text(DAYS[0]["randomization"]),
    )
    assert plan.rows == [(2, "CARE-001", "month-0"), (3, "CARE-002", "month-0"),
                         (4, "CARE-001", "month-0")]  # fmt: skip
    first, unreadable, again = plan.bags
    assert isinstance(first, dp.Preparation)
    assert isinstance(unreadable, dp.UnitError)
    assert isinstance(again, dp.DuplicateOrderError)
    assert (again.field, again.value, again.limit) == (
        "participant",
        "CARE-001 month-0",
        "one bag per visit (first ordered on row 2)",
    )
    assert again.fix == "delete the row that is wrong and plan the day again"
