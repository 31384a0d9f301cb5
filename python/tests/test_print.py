"""Printed labels and worksheets, read back as the ward and a scanner would:
rendered by poppler (and the HTML printed by Chromium), barcodes decoded by
zxing-cpp, text extracted by pdftotext."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CARE_SSC_TOML, VECTORS, worked_bag
from printed import barcodes, chromium_pdf, page_sizes_pt, render, text, words

import doseprep as dp

BAG_ID = "014D2PF2DBR"
# 2222222222 is 2 x (32^10 - 1) / 31; mod 37 that is 15, check symbol "F".
SECOND_ID = "22222222226"
# 100 x 60 mm in points (72 / 25.4 per mm).
LABEL_PT = (100 * 72 / 25.4, 60 * 72 / 25.4)
A4_PT = (210 * 72 / 25.4, 297 * 72 / 25.4)
LETTER_PT = (8.5 * 72, 11 * 72)
ISO7064 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def bag(protocol: dp.Protocol, lot: dp.Lot, arm: str = "A", bag_id: str = BAG_ID) -> dp.Preparation:
    return worked_bag(protocol, arm, bag_id, lot)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_label_prints_at_its_size_and_reads_back(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    prep = bag(protocol, lot)
    pdf = write(tmp_path / "label.pdf", dp.labels_pdf([prep]))
    [(width, height)] = page_sizes_pt(pdf)
    assert (width, height) == pytest.approx(LABEL_PT, abs=0.01)
    # A thermal label printer's 203 dpi, black or white dots, and an office
    # printer's 300 dpi.
    for dpi, mono in ((203, True), (300, True), (300, False)):
        [page] = render(pdf, dpi, mono=mono)
        assert barcodes(page) == {("DataMatrix", BAG_ID), ("Code128", BAG_ID)}
    # Every word of the text label, in order, and nothing else.
    assert words(text(pdf)) == words(prep.blinded_label())
    # One bag's methods print what the functions for many print.
    assert prep.label_pdf() == pdf.read_bytes()
    assert prep.label_html() == dp.labels_html([prep])
    assert prep.worksheet_pdf() == dp.worksheets_pdf([prep])
    assert prep.worksheet_html() == dp.worksheet_html(prep)


def test_an_active_bag_and_its_placebo_print_the_same_label(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    active, placebo = bag(protocol, lot, "A"), bag(protocol, lot, "C")
    assert (active.content, placebo.content) == ("active", "placebo")
    assert dp.labels_pdf([active]) == dp.labels_pdf([placebo])
    assert dp.labels_html([active]) == dp.labels_html([placebo])
    printed = text(write(tmp_path / "label.pdf", dp.labels_pdf([active])))
    # The blinded product text names both; take it out and no word says
    # which bag this is, which lot it came from or how much was drawn.
    rest = (
        " ".join(printed.split())
        .replace("UCMSC 1 million cells/kg or placebo", "")
        .replace("CSM de cordon ombilical 1 million de cellules/kg ou placebo", "")
        .lower()
    )
    giveaways = ("active", "placebo", "arm", "uc-0042", "5.8", "44.2", "72.5", "72,500,000")
    for giveaway in (*giveaways, "million cells/ml", "viab", "dmso"):
        assert giveaway not in rest, giveaway


def test_a_worksheet_carries_its_record_fingerprint(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    prep = bag(protocol, lot)
    record = prep.record()
    # The fingerprint, computed here from the record's JSON independently.
    compact = json.dumps(json.loads(record.to_json()), separators=(",", ":"), ensure_ascii=False)
    fingerprint = hashlib.sha256(compact.encode("utf-8")).hexdigest()
    assert record.fingerprint == fingerprint
    pdf = write(tmp_path / "worksheet.pdf", dp.worksheets_pdf([prep]))
    # The CARE-SSc default site (Montreal) prints on Letter.
    [size] = page_sizes_pt(pdf)
    assert size == pytest.approx(LETTER_PT, abs=0.01)
    [page] = render(pdf, 200)
    assert barcodes(page) == {("DataMatrix", fingerprint), ("Code128", BAG_ID)}
    printed = text(pdf)
    title, rest = prep.worksheet().split("\n", 1)
    assert words(printed) == words(f"{title}\nRecord fingerprint: {fingerprint}\n{rest}")
    # The "UNBLINDED" title is the first thing read.
    assert printed.lstrip().startswith("UNBLINDED PREPARATION WORKSHEET")


def test_a_worksheet_prints_on_the_sites_paper_and_names_the_masking(
    lot: dp.Lot, tmp_path: Path
) -> None:
    masking = "cover every bag with an opaque sleeve before it leaves the pharmacy"
    protocol = dp.Protocol.from_toml(
        CARE_SSC_TOML.replace('worksheet_paper = "Letter"', 'worksheet_paper = "A4"').replace(
            "blinded_product = {", f'masking = "{masking}"\nblinded_product = {{', 1
        )
    )
    placebo = bag(protocol, lot, "C")
    pdf = write(tmp_path / "worksheet.pdf", dp.worksheets_pdf([placebo]))
    [size] = page_sizes_pt(pdf)
    assert size == pytest.approx(A4_PT, abs=0.01)
    sheet = placebo.worksheet()
    assert f"   Mask the bag: {masking}\n" in sheet
    assert sheet.endswith(
        "Prepared by: ________ at ____-__-__ __:__   Checked by: ________ at ____-__-__ __:__\n"
    )


def test_a_day_of_worksheets_breaks_across_pages(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    bags = [bag(protocol, lot, arm, dp_id) for arm, dp_id in (("A", BAG_ID), ("B", SECOND_ID))]
    pdf = write(tmp_path / "worksheets.pdf", dp.worksheets_pdf(bags))
    # At a label printer's 8 dots/mm: the bag id's 0.25 mm modules are 2 dots.
    pages = render(pdf, 203.2)
    assert len(pages) == 2
    assert [{t for f, t in barcodes(p) if f == "Code128"} for p in pages] == [
        {BAG_ID},
        {SECOND_ID},
    ]


def _iso7064_mod37_2(text: str) -> str:
    """The check character by the standard's sum form: sum of value x 2^(n-i+1)."""
    n = len(text)
    total = sum(ISO7064.index(c) * pow(2, n - i, 37) for i, c in enumerate(text))
    return ISO7064[(38 - total % 37) % 37]


def test_isbt128_din_is_printed_and_encoded(lot: dp.Lot, tmp_path: Path) -> None:
    protocol = dp.Protocol.from_file(VECTORS / "protocols" / "care-ssc-isbt128.toml")
    assert _iso7064_mod37_2("G123498654321") == "H"  # the ICCBBA worked example
    # FIN A9999, the year 2026, the facility counter's number 4096.
    din = "A999926004096"
    prep = worked_bag(protocol, "A", BAG_ID, lot, din_sequence=4096)
    pdf = write(tmp_path / "label.pdf", dp.labels_pdf([prep]))
    [page] = render(pdf, 300)
    assert barcodes(page) == {
        ("DataMatrix", BAG_ID),
        ("Code128", BAG_ID),
        ("Code128", f"={din}00"),
    }
    # Expiry (data structure 005, &>cyyjjjhhmm): infuse by 2026-11-25 12:00
    # EST, day 329 of 2026 (304 days to the end of October, + 25).
    expected = (
        f"DIN: {din} {_iso7064_mod37_2(din)} Product / Produit: S1234V00"
        " Expiry / Péremption: 2026-11-25 12:00 EST (&>0263291200)"
    )
    assert expected in " ".join(words(text(pdf)))


def test_the_html_label_prints_from_a_browser(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    prep = bag(protocol, lot)
    pdf = chromium_pdf(dp.labels_html([prep]), tmp_path)
    # Chromium rounds the page to whole CSS pixels (1/96 in): within 1 pt.
    [size] = page_sizes_pt(pdf)
    assert size == pytest.approx(LABEL_PT, abs=1.0)
    [page] = render(pdf, 300)
    assert barcodes(page) == {("DataMatrix", BAG_ID), ("Code128", BAG_ID)}
    assert words(text(pdf)) == words(prep.blinded_label())


def test_the_html_worksheet_prints_from_a_browser(
    protocol: dp.Protocol, lot: dp.Lot, tmp_path: Path
) -> None:
    prep = bag(protocol, lot)
    pdf = chromium_pdf(dp.worksheet_html(prep), tmp_path)
    [page] = render(pdf, 200)
    assert barcodes(page) == {("DataMatrix", prep.record().fingerprint), ("Code128", BAG_ID)}


def test_a_label_too_narrow_for_its_barcode_is_refused(lot: dp.Lot, tmp_path: Path) -> None:
    source = CARE_SSC_TOML
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(source.replace("width_mm = 100 ", "width_mm = 45  ", 1))
    protocol = dp.Protocol.from_file(narrow)
    with pytest.raises(dp.PrintError) as caught:
        dp.labels_pdf([bag(protocol, lot)])
    error = caught.value
    assert isinstance(error, dp.DoseError)
    assert (error.kind, error.field, error.value, error.limit) == (
        "print",
        "label.width_mm",
        "45 mm",
        "at least 47.0 mm",  # 3 mm margin + (156 + 2 x 10) modules x 0.25 mm
    )


def test_the_commands_write_pdfs(lot: dp.Lot, tmp_path: Path) -> None:
    lot_file = tmp_path / "lot.toml"
    lot_file.write_text(
        'lot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\nviability = 0.93\n'
        'container_volume = "10 mL"\ncontainers = 4\ndmso_fraction = 0.05\n'
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("doseprep")), "prepare",
            "--participant", "CARE-012", "--weight", "72.4 kg", "--arm", "B",
            "--visit", "month-0", "--lot", str(lot_file),
            "--thawed-at", "2026-11-25T09:00:00-05:00", "--bag-id", BAG_ID,
            "--pdf", str(tmp_path / "out"),
        ],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [label] = render(tmp_path / "out" / "label.pdf", 300)
    assert barcodes(label) == {("DataMatrix", BAG_ID), ("Code128", BAG_ID)}
    [sheet] = render(tmp_path / "out" / "worksheet.pdf", 200)
    assert ("Code128", BAG_ID) in barcodes(sheet)
