"""The Python package's ``doseprep`` entry point and the Rust binary
(``cargo install --path crates/doseprep-cli``) are one command: the same day
run through each gives the same files and the same output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

ENTRY_POINT = Path(sys.executable).with_name("doseprep")
# Built by `make python-test` (cargo build -p doseprep-cli) before the suite runs.
RUST_BINARY = Path(os.environ.get("DOSEPREP_RUST_COMMAND", REPO / "target/debug/doseprep"))
BAG_ID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{11}\b")
LOTS = """[[lot]]
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"""
ORDERS = (
    "participant,visit,weight,infusion_at\n"
    "CARE-001,month-0,72.4 kg,2026-11-25T09:00:00-05:00\n"
    "CARE-002,month-0,160 lb,2026-11-25T09:30:00-05:00\n"
    'CARE-003,month-3,"58,0 kg",2026-11-25T10:00:00-05:00\n'
    "CARE-004,month-3,91.2 kg,2026-11-25T11:30:00-05:00\n"
    "CARE-001,month-0,72.4 kg,2026-11-25T12:00:00-05:00\n"
)
ARMS = "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\nCARE-004,B\n"


def _blind_ids(text: str, ids: dict[str, str]) -> str:
    """Bag ids (random) replaced by their places in the summary."""
    return BAG_ID.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def _day(command: Path, folder: Path) -> tuple[str, str, int, dict[str, str]]:
    """Stdout, stderr, exit status and every file of a day, bag ids blinded."""
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS)
    (folder / "randomization.csv").write_text(ARMS)
    (folder / "lots.toml").write_text(LOTS)
    result = subprocess.run(
        [str(command), "day", "orders.csv", "--randomization", "randomization.csv",
         "--lots", "lots.toml", "--out", "day", "--pdf"],
        cwd=folder, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    summary = (folder / "day" / "summary.txt").read_text()
    ids = {bag_id: f"<bag {n}>" for n, bag_id in enumerate(dict.fromkeys(BAG_ID.findall(summary)))}
    files = {
        _blind_ids(str(path.relative_to(folder / "day")), ids): (
            _blind_ids(path.read_text(), ids) if path.suffix != ".pdf" else "a PDF"
        )
        for path in (folder / "day").rglob("*")
        if path.is_file() and (path.suffix != ".pdf" or path.stat().st_size > 0)
    }
    return _blind_ids(result.stdout, ids), result.stderr, result.returncode, files


def test_the_entry_point_and_the_rust_binary_make_the_same_day(tmp_path: Path) -> None:
    assert RUST_BINARY.exists(), f"build it first: cargo build -p doseprep-cli ({RUST_BINARY})"
    python = _day(ENTRY_POINT, tmp_path / "python")
    rust = _day(RUST_BINARY, tmp_path / "rust")
    stdout, stderr, status, files = rust
    assert status == 1
    assert stderr == "doseprep: 2 of 5 order rows not planned (see day.csv)\n"
    assert "bag <bag 2>  50 mL" in stdout
    assert "written to day/: pick-list.txt, summary.txt, day.csv, labels.pdf" in stdout
    assert sorted(name for name in files if name.startswith("bags/")) == [
        f"bags/<bag {n}>.{kind}"
        for n in range(3)
        for kind in ("label.txt", "record.json", "worksheet.txt")
    ]
    # Ids aside, the output and every file are the same, byte for byte.
    assert python == rust


def test_python_m_doseprep_is_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "doseprep", "--version"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("doseprep ")
