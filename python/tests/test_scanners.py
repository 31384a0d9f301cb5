"""Every printed symbol reads on scanners other than the project's own:
labels and worksheets rendered by poppler and by MuPDF at the two
resolutions of pharmacy label printers, 8 dots/mm (203 dpi) and 12 dots/mm
(300 dpi), each with and without anti-aliasing, and again after one dot of
print gain is added to the image; then decoded by zxing-cpp, by zbar (Code
128) and by libdmtx (Data Matrix). The resolutions are the printers' exact
dot pitches, 203.2 and 304.8 dpi. ZPL labels are drawn by zplkit at the
printer's own resolution and decoded the same way."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest
import zplkit
from conftest import VECTORS, worked_bag
from PIL import Image, ImageChops
from printed import barcodes, render
from pylibdmtx import pylibdmtx
from pyzbar import pyzbar

import doseprep as dp

BAG_ID = "014D2PF2DBR"
DOTS_PER_INCH = (203.2, 304.8)  # 8 and 12 dots/mm exactly


def _poppler(mono: bool) -> Callable[[Path, float], list[Image.Image]]:
    def rendered(pdf: Path, dpi: float) -> list[Image.Image]:
        return [page.convert("L") for page in render(pdf, dpi, mono=mono)]

    return rendered


def _mupdf(antialias: bool) -> Callable[[Path, float], list[Image.Image]]:
    def rendered(pdf: Path, dpi: float) -> list[Image.Image]:
        # MuPDF's anti-aliasing level is process-wide: set it, then restore it.
        pymupdf.TOOLS.set_aa_level(8 if antialias else 0)
        try:
            with pymupdf.open(pdf) as document:
                zoom = dpi / 72
                pages = []
                for page in document:
                    pixels = page.get_pixmap(
                        matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY, alpha=False
                    )
                    pages.append(
                        Image.frombytes("L", (pixels.width, pixels.height), pixels.samples)
                    )
                return pages
        finally:
            pymupdf.TOOLS.set_aa_level(8)

    return rendered


# Without anti-aliasing, poppler paints every dot a shape touches (bars
# come out widest) and MuPDF only dots it covers from their left edge
# (thinnest): the two bracket what a printer driver does.
RENDERERS = {
    "poppler-mono": _poppler(mono=True),
    "poppler-gray": _poppler(mono=False),
    "mupdf-aa0": _mupdf(antialias=False),
    "mupdf-aa8": _mupdf(antialias=True),
}


def one_dot_of_gain(image: Image.Image) -> Image.Image:
    """Every dark area one dot wider to the right and one taller downwards,
    as a hot print head or soft media prints it."""
    binary = image.convert("L").point(lambda v: 0 if v < 128 else 255)
    grown = binary
    for dx, dy in ((1, 0), (0, 1), (1, 1)):
        moved = Image.new("L", binary.size, 255)
        moved.paste(binary, (dx, dy))
        grown = ImageChops.darker(grown, moved)
    return grown


def test_one_dot_of_gain_grows_each_bar_by_one_dot() -> None:
    row = Image.frombytes("L", (10, 1), bytes([255, 255, 0, 0, 255, 255, 0, 255, 255, 255]))
    assert list(one_dot_of_gain(row).tobytes()) == [255, 255, 0, 0, 0, 255, 0, 0, 255, 255]


def read_by_every_decoder(image: Image.Image) -> dict[str, set[tuple[str, str]]]:
    """What zxing-cpp, zbar and libdmtx each read in `image`."""
    return {
        "zxing-cpp": barcodes(image),
        "zbar": {
            (symbol.type, symbol.data.decode("ascii"))
            for symbol in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.CODE128])
        },
        "libdmtx": {
            ("DATAMATRIX", symbol.data.decode("ascii"))
            # One Data Matrix per page: stop at it, the rest of the search is slow.
            for symbol in pylibdmtx.decode(image, timeout=20_000, max_count=1)
        },
    }


def expected(code128: set[str], datamatrix: set[str]) -> dict[str, set[tuple[str, str]]]:
    return {
        "zxing-cpp": {("Code128", t) for t in code128} | {("DataMatrix", t) for t in datamatrix},
        "zbar": {("CODE128", t) for t in code128},
        "libdmtx": {("DATAMATRIX", t) for t in datamatrix},
    }


@pytest.fixture(scope="module")
def isbt128_label(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The CARE-SSc label with ISBT 128 codes: a Data Matrix and a Code 128
    of the bag id, and a Code 128 of the DIN."""
    protocol = dp.Protocol.from_file(VECTORS / "protocols" / "care-ssc-isbt128.toml")
    prep = worked_bag(protocol, "A", BAG_ID, din_sequence=4096)
    pdf = tmp_path_factory.mktemp("label") / "label.pdf"
    pdf.write_bytes(dp.labels_pdf([prep]))
    din_line = next(line for line in prep.blinded_label().splitlines() if line.startswith("DIN"))
    din = din_line.split()[1]
    return pdf, f"={din}00"


@pytest.mark.parametrize("gain", [False, True], ids=["as-drawn", "one-dot-gain"])
@pytest.mark.parametrize("dpi", DOTS_PER_INCH, ids=["8-dots-per-mm", "12-dots-per-mm"])
@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_every_label_symbol_reads_on_every_decoder(
    isbt128_label: tuple[Path, str], renderer: str, dpi: float, gain: bool
) -> None:
    pdf, din_data = isbt128_label
    [page] = RENDERERS[renderer](pdf, dpi)
    if gain:
        page = one_dot_of_gain(page)
    assert read_by_every_decoder(page) == expected({BAG_ID, din_data}, {BAG_ID})


@pytest.mark.parametrize("gain", [False, True], ids=["as-drawn", "one-dot-gain"])
@pytest.mark.parametrize("dpi", [203, 300])
def test_every_zpl_label_symbol_reads_on_every_decoder(dpi: int, gain: bool) -> None:
    toml = (VECTORS / "protocols" / "care-ssc-isbt128.toml").read_text(encoding="utf-8")
    zone = 'time_zone = "America/Toronto"'
    protocol = dp.Protocol.from_toml(toml.replace(zone, f"{zone}\nlabel_printer_dpi = {dpi}", 1))
    prep = worked_bag(protocol, "A", BAG_ID, din_sequence=4096)
    zpl = prep.label_zpl()
    # zplkit's captured printer font has no degree sign (a printer's CG
    # Triumvirate has); it stands in the storage line's text field only.
    assert "°" in zpl
    assert "°" not in "".join(re.findall(r"\^B[CX][^\^]*\^FD([^\^]*)", zpl))
    drawn = zplkit.render(
        zpl.replace("°", "o").encode(), zplkit.Options(profile="specification", dpi=dpi)
    )
    [label] = drawn.labels
    dots_per_mm = {203: 8, 300: 12}[dpi]
    assert (label.width, label.height) == (100 * dots_per_mm, 60 * dots_per_mm)
    page = Image.open(io.BytesIO(label.png())).convert("L")
    if gain:
        page = one_dot_of_gain(page)
    din_data = "=A99992600409600"  # FIN A9999, 2026, the counter's 4096, flags 00
    assert read_by_every_decoder(page) == expected({BAG_ID, din_data}, {BAG_ID})


@pytest.fixture(scope="module")
def worksheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    prep = worked_bag(dp.Protocol.care_ssc(), "A", BAG_ID)
    pdf = tmp_path_factory.mktemp("worksheet") / "worksheet.pdf"
    pdf.write_bytes(dp.worksheets_pdf([prep]))
    return pdf, prep.record().fingerprint


@pytest.mark.parametrize("gain", [False, True], ids=["as-drawn", "one-dot-gain"])
@pytest.mark.parametrize("dpi", DOTS_PER_INCH, ids=["8-dots-per-mm", "12-dots-per-mm"])
@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_every_worksheet_symbol_reads_on_every_decoder(
    worksheet: tuple[Path, str], renderer: str, dpi: float, gain: bool
) -> None:
    pdf, fingerprint = worksheet
    page = RENDERERS[renderer](pdf, dpi)[0]
    # The symbols sit in the top 50 mm; libdmtx searches a whole Letter page
    # slowly, so it is given that band.
    band = page.crop((0, 0, page.width, round(50 * dpi / 25.4)))
    if gain:
        band = one_dot_of_gain(band)
    assert read_by_every_decoder(band) == expected({BAG_ID}, {fingerprint})
