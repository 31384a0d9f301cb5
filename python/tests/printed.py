"""Reading printed output back as a person and a scanner would: poppler
renders a PDF to pixels and extracts its text, Chromium prints HTML to PDF,
zxing-cpp decodes the barcodes from the pixels. `make test` installs
poppler-utils and chromium where they are missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed: `make test` installs it (apt-get)"
    return path


def render(pdf: Path, dpi: float, *, mono: bool = False) -> list[Image.Image]:
    """Each page of `pdf` at `dpi`: greyscale, or black and white dots as a
    thermal printer prints them (`mono`)."""
    prefix = pdf.with_name(f"{pdf.stem}-{dpi}{'-mono' if mono else ''}")
    subprocess.run(
        [
            _tool("pdftoppm"),
            "-r",
            str(dpi),
            "-mono" if mono else "-gray",
            "-png",
            str(pdf),
            str(prefix),
        ],
        check=True,
        timeout=120,
    )
    pages = sorted(
        pdf.parent.glob(f"{prefix.name}-[0-9]*.png"), key=lambda p: int(p.stem.rsplit("-")[-1])
    )
    return [Image.open(page) for page in pages]


def barcodes(image: Image.Image) -> set[tuple[str, str]]:
    """The (symbology, text) of every barcode zxing-cpp finds in `image`."""
    return {(code.format.name, code.text) for code in zxingcpp.read_barcodes(image) if code.valid}


def text(pdf: Path) -> str:
    """The text of `pdf` as pdftotext reads it, page by page."""
    result = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


def words(lines: str) -> list[str]:
    """The words of `lines`, for comparing text whatever its spacing."""
    return lines.split()


def page_sizes_pt(pdf: Path) -> list[tuple[float, float]]:
    """Each page's width and height in points, as pdfinfo reports them."""
    result = subprocess.run(
        [_tool("pdfinfo"), "-f", "1", "-l", "9999", str(pdf)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", result.stdout)
    ]


def chromium_pdf(html: str, directory: Path) -> Path:
    """`html` printed to PDF by headless Chromium, as a browser user would."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: `make test` installs it (apt-get)"
    page = directory / "page.html"
    page.write_text(html, encoding="utf-8")
    out = directory / "page.pdf"
    subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--print-to-pdf={out}", page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    return out
