"""The installed ``doseprep`` command, run in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# The console script installed beside this interpreter (the venv need not be activated).
DOSEPREP = Path(sys.executable).with_name("doseprep")
LOT_TOML = """
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 4
dmso_fraction = 0.05
"""
T = "2026-11-25T09:00:00-05:00"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert DOSEPREP.exists(), f"the doseprep command is not installed at {DOSEPREP}"
    return subprocess.run(
        [str(DOSEPREP), *args], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture
def lot_file(tmp_path: Path) -> Path:
    path = tmp_path / "lot.toml"
    path.write_text(LOT_TOML)
    return path


def test_demo_prints_every_arm_and_visit() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for arm, visit, content in [
        ("A", "month-0", "active"),
        ("A", "month-3", "active"),
        ("B", "month-0", "active"),
        ("B", "month-3", "placebo"),
        ("C", "month-0", "placebo"),
        ("C", "month-3", "placebo"),
    ]:
        assert any(
            line.startswith(f"arm {arm}") and visit in line and content in line for line in lines
        ), (arm, visit)
    assert "5.8 mL" in result.stdout
    assert "44.2 mL" in result.stdout


def test_prepare_json(lot_file: Path) -> None:
    result = run(
        "prepare",
        "--participant", "CARE-012",
        "--weight", "160 lb",
        "--arm", "A",
        "--visit", "month-0",
        "--lot", str(lot_file),
        "--thawed-at", T,
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["preparation"]["body_weight_kg"] == 72.5747792
    assert record["preparation"]["dose"]["draw_volume_ml"] == 5.8
    # The weight is kept once, as typed; its kilograms are read from it.
    assert record["order"]["weight"] == "160 lb"
    assert "weight_kg" not in record["order"]
    assert len(record["trial_fingerprint"]) == len(record["site_fingerprint"]) == 64


def test_a_user_mistake_is_one_line_on_stderr(lot_file: Path) -> None:
    result = run(
        "prepare",
        "--participant", "CARE-012",
        "--weight", "352 kg",
        "--arm", "A",
        "--visit", "month-0",
        "--lot", str(lot_file),
        "--thawed-at", T,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "'352 lb'" in result.stderr


def test_a_missing_lot_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run(
        "prepare", "--participant", "P", "--weight", "70 kg", "--arm", "A", "--visit", "month-0",
        "--lot", str(missing), "--thawed-at", T,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == f"doseprep: no such file: {missing}; check the path\n"


def test_the_thaw_time_is_required(lot_file: Path) -> None:
    result = run(
        "prepare", "--participant", "P", "--weight", "70 kg", "--arm", "C", "--visit", "month-0",
        "--lot", str(lot_file),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--thawed-at" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_keeps_every_row(tmp_path: Path, lot_file: Path) -> None:
    orders = tmp_path / "orders.csv"
    t = T
    orders.write_text(
        "participant,weight,arm,visit,thawed_at\n"
        f"P1,72.4 kg,A,month-0,{t}\n"
        f"P2,352 kg,A,month-0,{t}\n"
        f"P3,160 lb,C,month-3,{t}\n"
        f"P4,72.4,A,month-0,{t}\n"
        f"P5,80 kg,Z,month-0,{t}\n"
    )
    result = run("batch", str(orders), "--lot", str(lot_file))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5]
    assert [line["ok"] for line in lines] == [True, False, True, False, False]
    assert [line.get("error") for line in lines] == [
        None,
        "implausible_weight",
        None,
        "unit",
        "unknown_arm",
    ]
    assert lines[0]["preparation"]["participant"] == "P1"
    assert (lines[1]["field"], lines[1]["value"], lines[1]["limit"]) == (
        "weight",
        "352 kg",
        "30-250 kg",
    )
    assert lines[1]["fix"] == "if it was measured in pounds, pass '352 lb' (159.66 kg)"
    assert lines[2]["preparation"]["content"] == "placebo"
    assert "3 of 5 orders failed" in result.stderr


def test_batch_all_good_exits_zero(tmp_path: Path, lot_file: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(f"participant,weight,arm,visit,thawed_at\nP1,72.4 kg,A,month-0,{T}\n")
    result = run("batch", str(orders), "--lot", str(lot_file))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_batch_with_a_wrong_header_is_one_line(tmp_path: Path, lot_file: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("who,weight\nP1,72 kg\n")
    result = run("batch", str(orders), "--lot", str(lot_file))
    assert result.returncode == 2
    assert 'column "who" is not one this file takes' in result.stderr


def test_batch_reads_a_byte_order_mark_and_refuses_an_unknown_column(
    tmp_path: Path, lot_file: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_bytes(
        f"participant,weight,arm,visit,thawed_at\r\nP1,72.4 kg,A,month-0,{T}\r\n".encode(
            "utf-8-sig"
        )
    )
    result = run("batch", str(orders), "--lot", str(lot_file))
    assert result.returncode == 0, result.stderr
    orders.write_text(
        f"participant,weight,arm,visit,thawed_at,prepard_at\nP1,72.4 kg,A,month-0,{T},{T}\n"
    )
    result = run("batch", str(orders), "--lot", str(lot_file))
    assert result.returncode == 2
    # One line: the file's path, then what is wrong in it and the fix.
    assert result.stderr.startswith(
        f'doseprep: {orders}: orders file: column "prepard_at" is not one'
    )
    assert result.stderr.count("\n") == 1
    assert "prepared_at (optional)" in result.stderr
