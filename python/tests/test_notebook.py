"""What a notebook shows (`_repr_html_`): a bag's key numbers beside its
label as printed, a day plan's summary as a table, and a lot's balance,
every text escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from test_ledger import DAY, plan, twelve_containers

import doseprep as dp


class _Table:
    def __init__(self) -> None:
        self.caption = ""
        self.header: list[str] = []
        self.rows: list[list[str]] = []


class _Tables(HTMLParser):
    """The tables of a fragment (caption, header cells, rows of cells) and
    its frames' documents, every text unescaped."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Table] = []
        self.frames: list[str] = []
        self._text: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(_Table())
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append([])
        elif tag in ("td", "th", "caption"):
            self._text = ""
        elif tag == "iframe":
            self.frames.append(dict(attrs)["srcdoc"] or "")

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._text is None or not self.tables:
            return
        table = self.tables[-1]
        if tag == "th":
            table.header.append(self._text)
        elif tag == "td":
            table.rows[-1].append(self._text)
        elif tag == "caption":
            table.caption = self._text
        self._text = None

    def close(self) -> None:
        super().close()
        for table in self.tables:
            table.rows = [row for row in table.rows if row]


def test_a_bag_shows_its_key_numbers_beside_its_label_as_printed() -> None:
    day = plan(dp.Protocol.care_ssc())
    active, _, placebo = day.bags
    assert isinstance(active, dp.Preparation)
    assert isinstance(placebo, dp.Preparation)
    shown = _Tables(active._repr_html_())
    (table,) = shown.tables
    assert table.caption == "preparation (unblinded)"
    assert table.header == ["name", "value"]
    numbers = dict((name, value) for name, value in table.rows)
    # The summary line's own figures (and the hand-worked 72.4 kg x 1e6/kg).
    assert active.summary() == (
        "arm A month-0 active: 50 mL = 44.2 mL PlasmaLyte A + 5.8 mL cells (1 container),"
        " 72.5 million (72,500,000) cells, +0.14%; 100 mL/h; infuse by 11:30 EST"
    )
    assert numbers == {
        "participant": "CARE-001", "arm": "A", "visit": "month-0", "content": "active",
        "bag_id": active.bag_id, "body_weight": "72.4 kg", "final_volume": "50 mL",
        "diluent": "44.2 mL PlasmaLyte A", "lot_id": "UC-0042",
        "target_cells": "72.4 million (72,400,000)", "draw_volume": "5.8 mL",
        "containers_to_thaw": "1", "delivered_cells": "72.5 million (72,500,000)",
        "deviation": "+0.14%", "pump_rate": "100 mL/h",
        "start_by": "2026-11-25 11:00 EST", "infuse_by": "2026-11-25 11:30 EST",
    }  # fmt: skip
    # The label is the printed one, byte for byte, in a frame of its own.
    assert shown.frames == [active.label_html()]
    # A placebo has no dose: its rows are left out, not shown empty.
    names = [name for name, _ in _Tables(placebo._repr_html_()).tables[0].rows]
    assert "draw_volume" not in names
    assert "delivered_cells" not in names
    assert names[:4] == ["participant", "arm", "visit", "content"]


def test_a_day_shows_its_summary_as_a_table_blinded_as_the_summary() -> None:
    protocol = dp.Protocol.care_ssc()
    day = plan(protocol)
    html = day._repr_html_()
    (table,) = _Tables(html).tables
    assert table.caption == "; ".join(day.summary().splitlines()[:2])
    assert table.header == [
        "infusion_at", "row", "participant", "visit", "bag_id", "final_volume", "start_by",
        "infuse_by", "status",
    ]  # fmt: skip
    rows = table.rows
    # Each row is the summary's line of that order row, cell for cell.
    lines = day.summary().splitlines()[2:]
    assert len(rows) == len(DAY) == len(lines)
    for cells, line in zip(rows, lines, strict=True):
        time, row, participant, visit, bag_id, volume, start_by, infuse_by, status = cells
        assert status == "planned"
        assert line == (
            f"{time}  row {row}  {participant} {visit}  bag {bag_id}  {volume}"
            f"  start by {start_by}  infuse by {infuse_by}"
        )
    # Blinded: nothing of arm, content or lot.
    for unblinding in ("active", "placebo", "UC-0042", ">A<", ">B<", ">C<", "mL cells"):
        assert unblinding not in html
    # A row not planned shows its kind only, at its time.
    orders = [dp.DayOrder(participant="CARE-<&>", visit="month-0", weight="70 kg",
                          infusion_at="2026-11-25T08:00:00-05:00")]  # fmt: skip
    randomization = dp.Randomization.from_csv_text(
        "participant,arm\nCARE-001,A\n", protocol=protocol
    )
    failed = dp.plan_day(protocol, orders, lots=[twelve_containers()],
                         randomization=randomization)  # fmt: skip
    html = failed._repr_html_()
    assert "CARE-&lt;&amp;&gt;" in html
    (cells,) = _Tables(html).tables[0].rows
    assert cells[:4] == ["08:00 EST", "1", "CARE-<&>", "month-0"]
    assert cells[4:8] == ["", "", "", ""]
    assert cells[8].startswith("not planned: ")


def test_a_balance_shows_as_a_table(tmp_path: Path) -> None:
    ledger = dp.Ledger.create(tmp_path / "x.db")
    ledger.receive(twelve_containers(), at="2026-11-20T10:00:00-05:00", initials="MH")
    ledger.thaw("UC-0042", [1, 2], at="2026-11-21T10:00:00-05:00", initials="MH")
    (table,) = _Tables(ledger.balance("UC-0042")._repr_html_()).tables
    assert table.caption == "lot UC-0042: containers"
    assert table.header == [
        "received", "thawed", "destroyed", "destroyed_after_thaw", "returned", "shipped",
        "on_hand",
    ]  # fmt: skip
    assert table.rows == [["12", "2", "0", "0", "0", "0", "10"]]
