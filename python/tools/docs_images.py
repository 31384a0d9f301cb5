"""The pictures of a printed label and worksheet shown in the README: the
demo's arm B month-0 bag of the CARE-SSc trial with its default site file
changed to a French-first label and a 203 dpi label printer, printed to PDF
by doseprep and rendered to PNG by poppler's pdftoppm; and the same label
as ZPL (label.zpl). The worksheet is on the default site's Letter paper.

Usage: python python/tools/docs_images.py DIR   (`make docs-images`)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import doseprep as dp

PROTOCOLS = Path(__file__).resolve().parents[2] / "crates" / "doseprep" / "protocols"

LOT = """
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"""


def render(pdf: bytes, dpi: int, png: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "page.pdf"
        source.write_bytes(pdf)
        # -singlefile: the first page, written to exactly PNG.
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-png",
                "-singlefile",
                str(source),
                str(png.with_suffix("")),
            ],
            check=True,
        )


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    site = (PROTOCOLS / "sites" / "care-ssc-default.toml").read_text(encoding="utf-8")
    site = site.replace('languages = ["en", "fr"]', 'languages = ["fr", "en"]', 1).replace(
        'time_zone = "America/Toronto"', 'time_zone = "America/Toronto"\nlabel_printer_dpi = 203', 1
    )
    protocol = dp.Protocol.from_toml(
        (PROTOCOLS / "care-ssc.toml").read_text(encoding="utf-8"), site=site
    )
    bag = dp.prepare(
        protocol,
        participant="CARE-012",
        weight="72.4 kg",
        arm="B",
        visit="month-0",
        lot=dp.Lot.from_toml(LOT),
        thawed_at="2026-11-25T09:00:00-05:00",
        prepared_at="2026-11-25T09:20:00-05:00",
        bag_id="014D2PF2DBR",
    )
    render(dp.labels_pdf([bag]), 200, out / "label.png")
    render(dp.worksheets_pdf([bag]), 80, out / "worksheet.png")
    (out / "label.zpl").write_text(bag.label_zpl(), encoding="utf-8")
    print(f"written {out / 'label.png'}, {out / 'worksheet.png'} and {out / 'label.zpl'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
