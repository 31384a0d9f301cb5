"""Orders and the randomization list read from .xlsx as from CSV: the same
rows, the same plan, the same errors naming the sheet and cell; the command
takes a workbook where it takes a CSV file. The workbooks are written by
openpyxl (a test dependency), which saves dates as serials and formulas
with no value."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from conftest import CARE_SSC_TOML
from test_command import ARMS, BAG_ID, LOTS, ORDERS, RUST_BINARY

import doseprep as dp

SITE_CLOCK = dp.Protocol.from_toml(
    CARE_SSC_TOML.replace(
        'time_zone = "America/Toronto"',
        'time_zone = "America/Toronto"\nspreadsheet_times = "site clock"',
    )
)


def _workbook(path: Path, rows: list[list[Any]], *, title: str = "Orders") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _csv_rows(text: str) -> list[list[Any]]:
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _plan(protocol: dp.Protocol, rows: list[dp.DayRow], arms: dp.Randomization) -> dp.DayPlan:
    lot = dp.Lot(lot_id="UC-0042", viable_cells_per_ml=12.5e6, viability=0.93,
                 container_volume_ml=10, containers=12, dmso_fraction=0.05)  # fmt: skip
    return dp.plan_day(protocol, rows, lots=[lot], randomization=arms)


def test_a_workbook_reads_as_its_csv(tmp_path: Path) -> None:
    protocol = dp.Protocol.care_ssc()
    (tmp_path / "orders.csv").write_text(ORDERS)
    from_csv = dp.DayOrder.from_csv(tmp_path / "orders.csv")
    book = _workbook(tmp_path / "orders.xlsx", _csv_rows(ORDERS))
    from_xlsx = dp.DayOrder.from_xlsx(book, protocol=protocol)
    assert [(r.row, r.participant, r.visit) for r in from_xlsx] == [
        (r.row, r.participant, r.visit) for r in from_csv
    ]
    arms = dp.Randomization.from_xlsx(
        _workbook(tmp_path / "arms.xlsx", _csv_rows(ARMS), title="Arms"), protocol=protocol
    )
    assert arms == dp.Randomization.from_csv_text(ARMS)
    by_csv = _plan(protocol, from_csv, arms)
    by_xlsx = _plan(protocol, from_xlsx, arms)
    # The same sheet, but for the bag ids (random, drawn for each plan).
    assert BAG_ID.sub("<id>", by_xlsx.day_csv()) == BAG_ID.sub("<id>", by_csv.day_csv())
    assert [type(b).__name__ for b in by_xlsx.bags] == [type(b).__name__ for b in by_csv.bags]
    # The comma decimal of row 4 is that row's error, as in the CSV.
    assert isinstance(by_xlsx.bags[2], dp.UnitError)
    assert str(by_xlsx.bags[2]) == str(by_csv.bags[2])


def test_a_date_cell_is_read_on_the_site_clock_only_where_the_site_says_so(
    tmp_path: Path,
) -> None:
    header = ["participant", "visit", "weight", "infusion_at"]
    book = _workbook(
        tmp_path / "orders.xlsx",
        [header, ["CARE-001", "month-0", "72.4 kg", datetime(2026, 11, 25, 9, 0)]],
    )
    [row] = dp.DayOrder.from_xlsx(book, protocol=SITE_CLOCK)
    plan = _plan(SITE_CLOCK, [row], dp.Randomization.from_csv_text("participant,arm\nCARE-001,A\n"))
    [bag] = plan.bags
    assert isinstance(bag, dp.Preparation)
    # 09:00 on Montreal's clock in November is 14:00 UTC (EST, -05:00).
    assert bag.infusion_at is not None
    assert bag.infusion_at.isoformat() == "2026-11-25T09:00:00-05:00"
    with pytest.raises(dp.InvalidInputError) as refused:
        dp.DayOrder.from_xlsx(book, protocol=dp.Protocol.care_ssc())
    assert str(refused.value).startswith(
        f'{book}: orders file: sheet "Orders", cell D2: 2026-11-25T09:00:00 is a date and'
        " time without its zone"
    )
    # The spring-forward night: 02:30 never shows on the clock.
    gap = _workbook(
        tmp_path / "gap.xlsx",
        [header, ["CARE-001", "month-0", "72.4 kg", datetime(2026, 3, 8, 2, 30)]],
    )
    with pytest.raises(dp.InvalidInputError, match="shown twice or never"):
        dp.DayOrder.from_xlsx(gap, protocol=SITE_CLOCK)


LOT_ROWS: list[list[Any]] = [
    ["lot_id", "viable_cells_per_ml", "viability", "container_volume", "containers",
     "dmso_fraction"],
    ["UC-0042", "12.5 million cells/mL", 0.93, "10 mL", 12, 0.05],
]  # fmt: skip


def test_lots_read_from_a_workbook_as_from_their_file(tmp_path: Path) -> None:
    (tmp_path / "lots.toml").write_text(LOTS)
    book = _workbook(tmp_path / "lots.xlsx", LOT_ROWS, title="Lots")
    assert dp.Lot.many_from_file(book) == dp.Lot.many_from_file(tmp_path / "lots.toml")
    # A container volume without its unit is refused as in the file.
    bare = _workbook(tmp_path / "bare.xlsx", [LOT_ROWS[0], [*LOT_ROWS[1][:3], 10, 12, 0.05]])
    with pytest.raises(dp.DoseError) as refused:
        dp.Lot.many_from_file(bare)
    assert "10" in str(refused.value)
    with pytest.raises(dp.InvalidInputError, match=r"row 2: containers \"twelve\" is not a whole"):
        dp.Lot.many_from_file(
            _workbook(tmp_path / "count.xlsx", [LOT_ROWS[0], [*LOT_ROWS[1][:4], "twelve", 0.05]])
        )


def test_the_command_plans_a_day_from_workbooks(tmp_path: Path) -> None:
    assert RUST_BINARY.exists(), f"build it first: cargo build -p doseprep-cli ({RUST_BINARY})"
    _workbook(tmp_path / "orders.xlsx", _csv_rows(ORDERS))
    _workbook(tmp_path / "arms.xlsx", _csv_rows(ARMS), title="Arms")
    _workbook(tmp_path / "lots.xlsx", LOT_ROWS, title="Lots")
    (tmp_path / "lots.toml").write_text(LOTS)
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "arms.csv").write_text(ARMS)
    days = {}
    for orders, arms, lots, out in [
        ("orders.xlsx", "arms.xlsx", "lots.xlsx", "xlsx"),
        ("orders.csv", "arms.csv", "lots.toml", "csv"),
    ]:
        result = subprocess.run(
            [str(RUST_BINARY), "day", orders, "--randomization", arms, "--lots", lots,
             "--out", out],
            cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        # Two rows are not planned (a comma decimal, a visit ordered twice):
        # the day is made, and the command says so by its status.
        assert (tmp_path / out / "day.csv").exists(), result.stderr
        days[out] = (
            result.returncode,
            BAG_ID.sub("<id>", (tmp_path / out / "day.csv").read_text()),
        )
    assert days["xlsx"] == days["csv"]
    missing = subprocess.run(
        [str(RUST_BINARY), "day", "nowhere.xlsx", "--randomization", "arms.xlsx", "--lots",
         "lots.toml", "--out", "none"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert missing.returncode != 0
    assert "nowhere.xlsx" in missing.stderr


def test_a_workbook_is_read_from_its_one_visible_sheet_and_in_its_own_calendar(
    tmp_path: Path,
) -> None:
    header = ["participant", "visit", "weight", "infusion_at"]
    row = ["CARE-001", "month-0", "72.4 kg", datetime(2026, 11, 25, 9, 0)]
    # A workbook of the 1904 calendar (old Mac Excel): the same instant.
    workbook = openpyxl.Workbook()
    workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for line in (header, row):
        workbook.active.append(line)
    workbook.save(tmp_path / "mac.xlsx")
    [read] = dp.DayOrder.from_xlsx(tmp_path / "mac.xlsx", protocol=SITE_CLOCK)
    plan = _plan(
        SITE_CLOCK, [read], dp.Randomization.from_csv_text("participant,arm\nCARE-001,A\n")
    )
    [bag] = plan.bags
    assert isinstance(bag, dp.Preparation)
    assert bag.infusion_at is not None
    assert bag.infusion_at.isoformat() == "2026-11-25T09:00:00-05:00"
    # Rows on a second sheet would be left out: refused.
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    workbook.create_sheet("More").append(["CARE-002", "month-0", "80 kg", "x"])
    workbook.save(tmp_path / "two.xlsx")
    with pytest.raises(dp.InvalidInputError, match='its sheet "More" holds cells besides'):
        dp.DayOrder.from_xlsx(tmp_path / "two.xlsx", protocol=SITE_CLOCK)
    # A hidden first sheet is not the one the pharmacist sees: refused.
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    workbook.active.sheet_state = "hidden"
    workbook.create_sheet("Shown")
    workbook.save(tmp_path / "hidden.xlsx")
    with pytest.raises(dp.InvalidInputError, match="is hidden"):
        dp.DayOrder.from_xlsx(tmp_path / "hidden.xlsx", protocol=SITE_CLOCK)
    # A time of day without its date is not an instant.
    time_only = _workbook(
        tmp_path / "time.xlsx",
        [header, ["CARE-001", "month-0", "72.4 kg", datetime(2026, 11, 25, 9, 0).time()]],
    )
    with pytest.raises(dp.InvalidInputError, match="a time of day without its date"):
        dp.DayOrder.from_xlsx(time_only, protocol=SITE_CLOCK)
