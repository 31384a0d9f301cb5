"""Runs every row of docs/bad-inputs.md: the error kind, and that the message
names the value and the fix."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import CARE_SSC_TOML, PROTOCOLS, REPO
from postgres_server import new_database, psql

import doseprep as dp

DOC = (REPO / "docs" / "bad-inputs.md").read_text()
LOT_TOML = (
    'lot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\nviability = 0.93\n'
    'container_volume = "10 mL"\ncontainers = 4\ndmso_fraction = 0.05\n'
)


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


def _replace(text: str, given: str) -> str:
    old, new = (part.strip().strip("`") for part in given.split("→"))
    old, new = old.replace("\\n", "\n"), new.replace("\\n", "\n")
    assert old in text, old
    return text.replace(old, new, 1)


def _not_planned(plan: dp.DayPlan) -> None:
    """Raise the error of the first row of `plan` that is not planned."""
    for outcome in plan.bags:
        if isinstance(outcome, dp.DoseError):
            raise outcome


def _staff(ledger: dp.Ledger) -> None:
    """The users of the signature rows: administrator admin, then pharmacist
    mh registered by them, who changed the first passphrase they gave; mh
    signed in."""
    admin = "correct horse battery staple"
    first = "mh's first passphrase, from admin"
    ledger.register_user(
        "admin", full_name="Ada Admin", initials="AA", role="administrator", passphrase=admin
    )
    ledger.sign_in("admin", passphrase=admin)
    ledger.register_user("mh", full_name="Marie Hébert", initials="MH", role="pharmacist",
                         passphrase=first, signature=admin)  # fmt: skip
    ledger.change_passphrase("mh", current=first, new="mh's own long passphrase")
    ledger.sign_in("mh", passphrase="mh's own long passphrase")


def _shortest_20_min() -> dp.Protocol:
    """CARE-SSc at a site that holds infusions to 20 min at the shortest."""
    line = 'infusion_duration = "30 min"'
    assert line in CARE_SSC_TOML
    return dp.Protocol.from_toml(
        CARE_SSC_TOML.replace(line, 'shortest_infusion = "20 min"\n' + line)
    )


def _ledger_call(given: str, tmp_path: Path) -> None:
    """The row's call on a ledger where lot UC-0042 (4 containers) was
    received, container 1 thawed, and CARE-012's bag 014D2PF2DBR prepared
    from it (5.8 mL)."""
    t = "2026-11-25T09:00:00-05:00"
    lot = dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10,
        containers=4,
        dmso_fraction=0.05,
    )

    def bag_for(
        participant: str, bag_id: str | None, protocol: dp.Protocol | None = None, arm: str = "A"
    ) -> dp.Preparation:
        return dp.prepare(
            protocol or dp.Protocol.care_ssc(),
            participant=participant,
            weight="72.4 kg",
            arm=arm,
            visit="month-0",
            lot=lot,
            thawed_at="2026-11-25T08:30:00-05:00",
            bag_id=bag_id,
        )

    ledger = dp.Ledger.create(tmp_path / "ledger.db")
    ledger.receive(lot, at="2026-11-20T10:00:00-05:00", initials="MH")
    ledger.thaw("UC-0042", [1], at="2026-11-25T08:30:00-05:00", initials="MH")
    bag = bag_for("CARE-012", "014D2PF2DBR")
    ledger.prepare(bag, at=t, initials="MH", draws=[("UC-0042", 1, 5.8)])

    def planned(ledger: dp.Ledger) -> str:
        protocol = dp.Protocol.care_ssc()
        order = dp.DayOrder(participant="CARE-016", visit="month-0", weight="72.4 kg",
                            infusion_at="2026-11-25T09:00:00-05:00")  # fmt: skip
        arms = dp.Randomization.from_csv_text("participant,arm\nCARE-016,A\n", protocol=protocol)
        stock = lot.with_container_numbers(ledger.in_stock("UC-0042"))
        plan = dp.plan_day(protocol, [order], lots=[stock], randomization=arms)
        ledger.record_day(plan, initials="MH")
        [made] = plan.bags
        assert isinstance(made, dp.Preparation)
        assert made.bag_id is not None
        return made.bag_id

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    names = {
        "dp": dp,
        "ledger": ledger,
        "lot": lot,
        "bag": bag,
        "T": t,
        "NOW": datetime.now(timezone.utc),
        "other": bag_for("CARE-013", "22222222226"),
        "remake": bag_for("CARE-012", "1Z00000000F"),
        "unnamed": bag_for("CARE-014", None),
        "brief": bag_for("CARE-015", "0000000015E", _shortest_20_min(), arm="C"),
        "foreign": foreign,
        "isbt": dp.Protocol.from_file(
            REPO / "tests" / "vectors" / "protocols" / "care-ssc-isbt128.toml"
        ),
        "tmp_path": tmp_path,
        "not_planned": _not_planned,
        "staff": _staff,
        "planned": planned,
        "new_database": new_database,
        "psql": psql,
    }
    eval(_unquote(given), names)


def _call(target: str, given: str, tmp_path: Path) -> None:
    if target == "ledger":
        _ledger_call(given, tmp_path)
        return
    if target == "protocol":
        dp.Protocol.from_toml(_replace(CARE_SSC_TOML, given))
        return
    if target == "print label":
        protocol = dp.Protocol.from_toml(_replace(CARE_SSC_TOML, given))
        lot = dp.Lot(
            lot_id="UC-0042",
            viable_cells_per_ml=12.5e6,
            viability=0.93,
            container_volume_ml=10,
            containers=4,
            dmso_fraction=0.05,
        )
        bag = dp.prepare(
            protocol,
            participant="CARE-012",
            weight="72.4 kg",
            arm="A",
            visit="month-0",
            lot=lot,
            thawed_at="2026-11-25T09:00:00-05:00",
            prepared_at="2026-11-25T09:30:00-05:00",
            bag_id="014D2PF2DBR",
        )
        dp.labels_pdf([bag])
        return
    if target == "example protocol":
        name, replacement = given.strip("`").split(": ", 1)
        text = (PROTOCOLS / "examples" / name).read_text()
        dp.Protocol.from_toml(_replace(text, "`" + replacement))
        return
    if target == "lot file":
        dp.Lot.from_toml(_replace(LOT_TOML, given))
        return
    if target == "day orders csv":
        path = tmp_path / "orders.csv"
        path.write_text(_unquote(given).replace("\\n", "\n"), encoding="utf-8")
        protocol = dp.Protocol.care_ssc()
        plan = dp.plan_day(
            protocol,
            dp.DayOrder.from_csv(path),
            lots=[
                dp.Lot(lot_id="UC-0042", viable_cells_per_ml=12.5e6, viability=0.93,
                       container_volume_ml=10, containers=12, dmso_fraction=0.05)
            ],
            randomization=dp.Randomization.from_csv_text(
                "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\n"
                "CARE-004,B\nCARE-005,A\nCARE-006,C\n"
            ),
        )  # fmt: skip
        for outcome in plan.bags:
            if isinstance(outcome, dp.DoseError):
                raise outcome
        return
    if target in ("day orders xlsx", "day orders xlsx, site clock"):
        import openpyxl  # type: ignore[import-untyped]

        workbook = openpyxl.Workbook()
        for row in eval(_unquote(given), {"datetime": datetime}):
            workbook.active.append(row)
        path = tmp_path / "orders.xlsx"
        workbook.save(path)
        protocol = dp.Protocol.care_ssc()
        if target.endswith("site clock"):
            protocol = dp.Protocol.from_toml(
                CARE_SSC_TOML.replace(
                    'time_zone = "America/Toronto"',
                    'time_zone = "America/Toronto"\nspreadsheet_times = "site clock"',
                )
            )
        plan = dp.plan_day(
            protocol,
            dp.DayOrder.from_xlsx(path, protocol=protocol),
            lots=[
                dp.Lot(lot_id="UC-0042", viable_cells_per_ml=12.5e6, viability=0.93,
                       container_volume_ml=10, containers=12, dmso_fraction=0.05)
            ],
            randomization=dp.Randomization.from_csv_text("participant,arm\nCARE-001,A\n"),
        )  # fmt: skip
        for outcome in plan.bags:
            if isinstance(outcome, dp.DoseError):
                raise outcome
        return
    if target == "orders csv":
        path = tmp_path / "orders.csv"
        text = _unquote(given).replace("\\n", "\n").replace("\\ufeff", "\ufeff")
        path.write_text(text, encoding="utf-8")
        dp.Order.from_csv(path)
        return
    lot_args: dict[str, Any] = {
        "lot_id": "UC-0042",
        "viable_cells_per_ml": 12.5e6,
        "viability": 0.93,
        "container_volume_ml": 10,
        "containers": 4,
        "dmso_fraction": 0.05,
    }
    args: dict[str, Any] = {
        "participant": "CARE-012",
        "weight": "72.4 kg",
        "arm": "A",
        "visit": "month-0",
        "thawed_at": "2026-11-25T09:00:00-05:00",
        "prepared_at": "2026-11-25T09:30:00-05:00",
    }
    protocol = dp.Protocol.care_ssc()
    weigh: dict[str, Any] = {}
    for key, value in _kwargs(_unquote(given)).items():
        if key == "protocol":
            protocol = dp.Protocol.from_file(PROTOCOLS / value)
            continue
        if target == "weigh":
            weigh[key] = value
            continue
        if target == "lot":
            lot_args[key] = value
        elif key.startswith("lot_"):
            lot_args[key.removeprefix("lot_")] = value
        else:
            args[key] = value
    prep = dp.prepare(protocol, lot=dp.Lot(**lot_args), **args)
    if target == "weigh":
        dp.check_weighed(prep, **weigh)


def test_the_table_covers_what_was_asked() -> None:
    assert len(ROWS) >= 80
    inputs = {row[1] for row in ROWS}
    for needed in ("weight (kg)", "viability", "containers", "DMSO fraction", "unknown arm"):
        assert needed in inputs
    numbers = [int(row[0]) for row in ROWS]
    assert numbers == list(range(1, len(ROWS) + 1))
    # The README's count is this table's.
    assert f"lists {len(ROWS)} bad\ninputs" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_bad_input_row(row: list[str], tmp_path: Path) -> None:
    _, _, target, given, kind, value, fix = row
    if kind == "accepted":
        _call(target, given, tmp_path)
        return
    # A wrong path or a call of the wrong shape is Python's own class.
    expected: type[Exception] = {
        "FileNotFoundError": FileNotFoundError,
        "FileExistsError": FileExistsError,
        "TypeError": TypeError,
        "FaultError": dp.FaultError,
    }.get(kind, dp.DoseError)
    with pytest.raises(expected) as caught:
        _call(target, given, tmp_path)
    message = str(caught.value)
    if expected is not dp.DoseError:
        # A fault of the system is never reported as bad input.
        assert not isinstance(caught.value, dp.DoseError), message
        assert _unquote(value) in message, message
        assert fix in message, message
        return
    assert isinstance(caught.value, dp.DoseError)
    assert type(caught.value).kind == kind, message
    # One source: the message ends with the very fix the parts give.
    assert caught.value.fix, message
    assert message.endswith(caught.value.fix), (message, caught.value.fix)
    assert _unquote(value) in message, message
    assert fix in message, message
