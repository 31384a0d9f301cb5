"""Labels in ZPL II for the site's thermal printer: the same payloads as the
PDF, sized in the printer's dots, identical for an active bag and its
placebo twin, written by the command to a file as a printer driver would."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CARE_SSC_TOML, VECTORS, worked_bag

import doseprep as dp

BAG_ID = "014D2PF2DBR"
ISBT128_TOML = (VECTORS / "protocols" / "care-ssc-isbt128.toml").read_text()


def printer_line(toml: str, dpi: int) -> str:
    """The protocol text with `label_printer_dpi` in its [site]."""
    zone = 'time_zone = "America/Toronto"'
    return toml.replace(zone, f"{zone}\nlabel_printer_dpi = {dpi}", 1)


def with_printer(toml: str, dpi: int) -> dp.Protocol:
    return dp.Protocol.from_toml(printer_line(toml, dpi))


def bag(protocol: dp.Protocol, arm: str = "A") -> dp.Preparation:
    """The worked example's bag; on a site with ISBT 128 codes, with the
    facility counter's number 4096."""
    return worked_bag(
        protocol, arm, BAG_ID, din_sequence=4096 if "isbt128" in protocol.to_json() else None
    )


def fields(zpl: str) -> list[str]:
    """Each command of a ZPL label, from one caret to the next."""
    return ["^" + part.strip() for part in zpl.split("^") if part.strip()]


def barcode_payloads(zpl: str) -> list[tuple[str, str]]:
    """(command, data) of each barcode field: the ^BC or ^BX and its ^FD."""
    return re.findall(r"\^(BC|BX)[^\^]*\^FD([^\^]*)\^FS", zpl)


@pytest.mark.parametrize(("dpi", "dots_per_mm"), [(203, 8), (300, 12)])
def test_a_zpl_label_is_sized_in_the_printers_dots(dpi: int, dots_per_mm: int) -> None:
    zpl = bag(with_printer(ISBT128_TOML, dpi)).label_zpl()
    assert zpl.startswith("^XA\n^CI28\n")
    assert zpl.endswith("^XZ\n")
    assert f"^PW{100 * dots_per_mm}\n" in zpl  # a 100 x 60 mm label
    assert f"^LL{60 * dots_per_mm}\n" in zpl
    # Code 128 modules of 0.25 mm, Data Matrix modules of 0.5 mm, in dots.
    assert re.findall(r"\^BY(\d+)", zpl) == [str(dots_per_mm // 4)] * 2
    assert re.findall(r"\^BXN,(\d+),200", zpl) == [str(dots_per_mm // 2)]


def test_the_zpl_barcodes_carry_the_bag_id_and_the_din() -> None:
    prep = bag(with_printer(ISBT128_TOML, 203))
    din_line = next(line for line in prep.blinded_label().splitlines() if line.startswith("DIN"))
    din = din_line.split()[1]
    # The bag id's Code 128 is the lowest on the label, the DIN's above it.
    assert barcode_payloads(prep.label_zpl()) == [
        ("BC", BAG_ID),
        ("BC", f"={din}00"),
        ("BX", BAG_ID),
    ]


def test_a_zpl_label_carries_every_line_of_the_label_once_escaped() -> None:
    prep = bag(with_printer(CARE_SSC_TOML, 300))
    zpl = prep.label_zpl()
    commands = fields(zpl)
    text_fields = [
        data.removeprefix("^FD")
        for command, data in itertools.pairwise(commands)
        if command.startswith("^FH") and data.startswith("^FD")
    ]
    # A bold line is struck twice, one dot apart: one of each pair is read.
    read = [line for i, line in enumerate(text_fields) if i == 0 or line != text_fields[i - 1]]
    # The lines are wrapped as on the PDF; their words are the label's.
    assert " ".join(read).split() == prep.blinded_label().split()
    assert "Ne pas réfrigérer." in zpl  # UTF-8 kept, as ^CI28 says
    assert "_5E" not in zpl  # no caret in these texts


def test_twins_give_the_same_zpl_bytes() -> None:
    protocol = with_printer(ISBT128_TOML, 203)
    assert bag(protocol, "A").label_zpl() == bag(protocol, "C").label_zpl()
    assert dp.labels_zpl([bag(protocol, "A"), bag(protocol, "C")]).count("^XA") == 2


def test_zpl_without_a_printer_resolution_names_the_setting() -> None:
    with pytest.raises(dp.PrintError) as refused:
        bag(dp.Protocol.care_ssc()).label_zpl()
    assert refused.value.field == "site.label_printer_dpi"
    assert "label_printer_dpi = 203 or 300" in str(refused.value)


def test_the_command_sends_the_label_to_a_file_as_a_printer_driver_would(
    tmp_path: Path,
) -> None:
    protocol_file = tmp_path / "care-ssc-zpl.toml"
    protocol_file.write_text(printer_line(ISBT128_TOML, 203))
    lot_file = tmp_path / "lot.toml"
    lot_file.write_text(
        'lot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\n'
        'viability = 0.93\ncontainer_volume = "10 mL"\ncontainers = 4\ndmso_fraction = 0.05\n'
    )
    printer = tmp_path / "printer.zpl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "doseprep",
            "prepare",
            "--protocol",
            str(protocol_file),
            "--lot",
            str(lot_file),
            "--participant",
            "CARE-012",
            "--weight",
            "72.4 kg",
            "--arm",
            "A",
            "--visit",
            "month-0",
            "--thawed-at",
            "2026-11-25T09:00:00-05:00",
            "--bag-id",
            BAG_ID,
            "--din-sequence",
            "4096",
            "--zpl",
            str(printer),
            "--label-only",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    expected = bag(dp.Protocol.from_file(protocol_file)).label_zpl()
    assert printer.read_text(encoding="utf-8") == expected
    assert f"label (ZPL) written to {printer}" in done.stderr


def zpl_lint(zpl: str, tmp_path: Path) -> dict[str, object]:
    """What zpl_toolchain_cli's validator (`zpl lint`, from crates.io; `make
    test` installs it and names it in DOSEPREP_ZPL_LINT) says of `zpl`."""
    tool = os.environ.get("DOSEPREP_ZPL_LINT", "")
    assert Path(tool).is_file(), (
        "the ZPL validator is not installed: run the tests with `make test`"
    )
    label = tmp_path / "label.zpl"
    label.write_text(zpl, encoding="utf-8")
    done = subprocess.run(
        [tool, "--output", "json", "lint", str(label)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("languages", ['["en", "fr"]', '["fr"]'])
def test_a_zpl_validator_accepts_every_label(dpi: int, languages: str, tmp_path: Path) -> None:
    text = printer_line(ISBT128_TOML, dpi).replace(
        'languages = ["en", "fr"]', f"languages = {languages}", 1
    )
    zpl = dp.labels_zpl([bag(dp.Protocol.from_toml(text), arm) for arm in ("A", "C")])
    report = zpl_lint(zpl, tmp_path)
    assert report["ok"] is True
    diagnostics = report["diagnostics"]
    assert isinstance(diagnostics, list)
    assert [d for d in diagnostics if d["severity"] == "error"] == []
    # Its only warnings are its estimate of a field's extent (ZPL2311): it
    # takes every character of ^A0 to be as wide as the font is high, and a
    # Data Matrix to be wider than its 14 modules; the PDF's layout, whose
    # text DejaVu Sans measures and ^FB bounds, decides the extents.
    assert {d["id"] for d in diagnostics if d["severity"] == "warn"} <= {"ZPL2311"}
