"""Sites and shipments: each site's ledger names its site and workstation
on every event from its set_site on, lots ship from one site's ledger to
another's, and the sponsor sums every site from the central ledger."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from postgres_server import new_database, psql
from test_ledger import UNGUARD, _hash, _rows, _sql

import doseprep as dp

DOSEPREP = Path(__import__("sys").executable).with_name("doseprep")
LOT = """
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = {containers}
dmso_fraction = 0.05
"""


def _lot(containers: int) -> dp.Lot:
    return dp.Lot.from_toml(LOT.format(containers=containers))


def _doseprep(*args: str | Path) -> str:
    done = subprocess.run(
        [str(DOSEPREP), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _site(tmp_path: Path, name: str, site: str, workstation: str) -> dp.Ledger:
    ledger = dp.Ledger.create(tmp_path / name, workstation=workstation)
    ledger.set_site(site, name=f"{site} hospital", initials="MH")
    return ledger


def test_every_event_from_set_site_names_its_site_and_workstation(tmp_path: Path) -> None:
    ledger = dp.Ledger.create(tmp_path / "jgh.db")
    ledger.receive(_lot(4), at="2026-12-01T10:00:00-05:00", initials="MH")
    with pytest.raises(dp.LedgerError) as refused:
        ledger.set_site("JGH", name="Jewish General Hospital", initials="MH")
    assert refused.value.code == "no_workstation"
    bench = dp.Ledger(tmp_path / "jgh.db", workstation="bench-1")
    assert (bench.site, bench.workstation) == (None, "bench-1")
    assert bench.set_site("JGH", name="Jewish General Hospital", initials="MH") == 2
    assert bench.ship("UC-0042", [3, 4], to_site="CHUM", at="2026-12-02T10:00:00-05:00",
                      initials="MH") == 3  # fmt: skip
    # Another workstation of the same site names itself.
    other = dp.Ledger(tmp_path / "jgh.db", workstation="bench-2")
    other.thaw("UC-0042", [1], at="2026-12-02T11:00:00-05:00", initials="AB")
    events = other.events()
    assert [(e["kind"], e["site"], e["workstation"]) for e in events] == [
        ("receive", None, None),
        ("set_site", "JGH", "bench-1"),
        ("ship", "JGH", "bench-1"),
        ("thaw", "JGH", "bench-2"),
    ]
    # Each hash is the README's formula, the thirteen-element form from set_site on.
    assert all(_hash(row) == row["hash"] for row in _rows(tmp_path / "jgh.db"))
    balance = other.balance("UC-0042")
    assert (balance.received, balance.thawed, balance.shipped, balance.on_hand) == (4, 1, 2, 1)
    assert other.verify().ok
    # The accountability CSV names them; the blinded CSV does not.
    csv = other.export_csv()
    assert csv.splitlines()[0].endswith(",comment,site,workstation")
    assert csv.splitlines()[4].endswith(",JGH,bench-2")
    assert "bench" not in other.export_blinded_csv()
    # The archive carries them, and its verifier recomputes the hashes.
    other.archive(tmp_path / "archive")
    said = subprocess.run(
        ["python3", str(tmp_path / "archive" / "verify.py")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert said.returncode == 0, said.stdout
    lines = (tmp_path / "archive" / "events.jsonl").read_text("utf-8").splitlines()
    assert json.loads(lines[3])["workstation"] == "bench-2"
    # A set_site body that names no site (the chain re-hashed from it, its
    # sums made again to match) is named, not a Python traceback.
    archive = tmp_path / "archive"
    rehash = _archive_hash(archive)
    # Changed and not re-hashed: named as changed, before its body is read.
    edited = [*lines]
    edited[1] = json.dumps({**json.loads(lines[1]), "body": "[]"})
    (archive / "events.jsonl").write_text("\n".join(edited) + "\n", "utf-8")
    _sums_again(archive)
    said = subprocess.run(["python3", str(archive / "verify.py")],
                          capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
    assert said.stdout == (
        "archive does NOT verify: event 2 was changed: its hash does not match its contents\n"
    )
    for body in ("[]", '{"kind":"set_site","site":7}', "not json", "[" * 100_000):
        edited = [*lines]
        edited[1] = json.dumps({**json.loads(lines[1]), "body": body})
        previous = json.loads(edited[0])["hash"]
        for index in range(1, len(edited)):
            event = {**json.loads(edited[index]), "prev_hash": previous}
            previous = event["hash"] = rehash(event)
            edited[index] = json.dumps(event)
        (archive / "events.jsonl").write_text("\n".join(edited) + "\n", "utf-8")
        _sums_again(archive)
        said = subprocess.run(["python3", str(archive / "verify.py")],
                              capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
        assert (said.returncode, said.stdout, said.stderr) == (
            1,
            "archive does NOT verify: event 2 sets the site, but its body names no site\n",
            "",
        )


def _sums_again(archive: Path) -> None:
    """The archive's SHA256SUMS made again to match its files (a forger's step)."""
    sums = [
        f"{hashlib.sha256((archive / name).read_bytes()).hexdigest()}  {name}"
        for name in [line.split("  ")[1] for line in
                     (archive / "SHA256SUMS").read_text("utf-8").splitlines()]
    ]  # fmt: skip
    (archive / "SHA256SUMS").write_text("\n".join(sums) + "\n", "utf-8")


def _archive_hash(archive: Path) -> Callable[[dict[str, object]], str]:
    """The archive's own verifier's hash of an event (a forger's tool)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("archive_verify", archive / "verify.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event_hash: Callable[[dict[str, object]], str] = module.event_hash
    return event_hash


def test_a_site_or_workstation_rewritten_with_its_hash_is_named(tmp_path: Path) -> None:
    ledger = _site(tmp_path, "jgh.db", "JGH", "bench-1")
    ledger.receive(_lot(4), at="2026-12-01T10:00:00-05:00", initials="MH")
    path = tmp_path / "jgh.db"
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        last = dict(db.execute("SELECT * FROM event WHERE seq = 2").fetchone())
    # The last event moved to another site, its hash and the head recomputed.
    last["site"] = "CHUM"
    forged = _hash(last)
    _sql(path, UNGUARD + f"UPDATE event SET site = 'CHUM', hash = '{forged}' WHERE seq = 2;"
         f" UPDATE head SET hash = '{forged}';")  # fmt: skip
    verification = dp.Ledger(path).verify()
    assert verification.problem_seq == 2
    assert verification.problem == (
        "event 2 was changed: it was written at site CHUM, but the ledger is site JGH's"
    )
    # Its site taken away: the eight-element form, hashed again.
    del last["site"]
    last["workstation"] = None
    forged = _hash({**last, "site": None})
    _sql(path, f"UPDATE event SET site = NULL, workstation = NULL, hash = '{forged}' WHERE seq = 2;"
         f" UPDATE head SET hash = '{forged}';")  # fmt: skip
    verification = dp.Ledger(path).verify()
    assert verification.problem == (
        "event 2 was changed: it names no site, but the ledger is site JGH's"
        " (every event of a site names it)"
    )


def test_a_lot_shipped_between_sites_is_counted_once_at_the_centre(tmp_path: Path) -> None:
    """The README's commands: two sites, a shipment, both pushed, the
    sponsor's view; and the view before the receiving site pushes."""
    (tmp_path / "lot.toml").write_text(LOT.format(containers=4))
    (tmp_path / "shipped-lot.toml").write_text(LOT.format(containers=2))
    jgh, chum = tmp_path / "jgh.db", tmp_path / "chum.db"
    centre = new_database()
    _doseprep("ledger", "init", jgh)
    bench = ("ledger", "--workstation", "bench-1")
    _doseprep(*bench, "set-site", jgh, "JGH", "--name", "Jewish General Hospital",
              "--initials", "MH")  # fmt: skip
    _doseprep(*bench, "receive", jgh, tmp_path / "lot.toml",
              "--at", "2026-12-01T10:00:00-05:00", "--initials", "MH")  # fmt: skip
    said = _doseprep(*bench, "ship", jgh, "UC-0042", "--containers", "3,4", "--to-site", "CHUM",
                     "--at", "2026-12-02T10:00:00-05:00", "--initials", "MH")  # fmt: skip
    assert said == "event 3: lot UC-0042 containers 3, 4 shipped to CHUM\n"
    _doseprep("ledger", "init-central", centre)
    _doseprep("ledger", "push", jgh, centre, "--site", "JGH")
    # Shipped, not received yet: in transit.
    view = dp.Ledger.central_view(centre)
    assert view["in_transit"] == [
        {
            "from_site": "JGH", "seq": 3, "at": "2026-12-02T10:00:00-05:00",
            "to_site": "CHUM", "lot_id": "UC-0042", "containers": [3, 4],
        }
    ]  # fmt: skip
    assert view["lots"] == [
        {
            "lot_id": "UC-0042", "received": 4, "on_hand": 2, "in_transit": 2,
            "thawed": 0, "destroyed": 0, "returned": 0,
        }
    ]  # fmt: skip
    assert _doseprep("ledger", "central", centre).splitlines()[-2:] == [
        "lot UC-0042 over all sites: received 4, on hand 2, in transit 2, thawed 0,"
        " destroyed 0, returned 0",
        "in transit: lot UC-0042 containers 3, 4 from JGH (its event 3,"
        " 2026-12-02T10:00:00-05:00) to CHUM",
    ]
    _doseprep("ledger", "init", chum)
    pharm = ("ledger", "--workstation", "pharm-a")
    _doseprep(*pharm, "set-site", chum, "CHUM", "--name", "CHUM", "--initials", "AB")
    said = _doseprep(*pharm, "receive", chum, tmp_path / "shipped-lot.toml", "--from-site", "JGH",
                     "--shipment", "3", "--shipped-containers", "3,4",
                     "--at", "2026-12-02T15:00:00-05:00", "--initials", "AB")  # fmt: skip
    assert said == "event 2: received lot UC-0042 from JGH (its event 3), containers 1 to 2\n"
    _doseprep("ledger", "push", chum, centre, "--site", "CHUM")
    # The README's lines, as printed.
    assert _doseprep("ledger", "central", centre) == (
        "site CHUM: 2 events; bags made 0, administered 0, destroyed 0\n"
        "  lot UC-0042: received 2, thawed 0, destroyed 0 (and 0 after thaw), returned 0,"
        " shipped 0, on hand 2\n"
        "site JGH: 3 events; bags made 0, administered 0, destroyed 0\n"
        "  lot UC-0042: received 4, thawed 0, destroyed 0 (and 0 after thaw), returned 0,"
        " shipped 2, on hand 2\n"
        "lot UC-0042 over all sites: received 4, on hand 4, in transit 0, thawed 0,"
        " destroyed 0, returned 0\n"
    )
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    for line in _doseprep("ledger", "central", centre).splitlines():
        assert f"# {line}\n" in readme, line
    view = json.loads(_doseprep("ledger", "central", centre, "--json"))
    assert view == dp.Ledger.central_view(centre)
    assert (view["in_transit"], view["unmatched_receipts"]) == ([], [])
    assert [site["site"] for site in view["sites"]] == ["CHUM", "JGH"]


def test_a_receipt_naming_a_shipment_the_centre_lacks_is_listed(tmp_path: Path) -> None:
    centre = new_database()
    dp.Ledger.create_central(centre)
    chum = _site(tmp_path, "chum.db", "CHUM", "pharm-a")
    chum.receive_shipment(_lot(2), from_site="JGH", shipment_seq=7, shipped_containers=[1, 2],
                          at="2026-12-02T15:00:00-05:00", initials="AB")  # fmt: skip
    chum.push(centre, site="CHUM")
    view = dp.Ledger.central_view(centre)
    assert view["unmatched_receipts"] == [
        {"site": "CHUM", "seq": 2, "lot_id": "UC-0042", "from_site": "JGH", "shipment_seq": 7}
    ]
    # Received from another site: not counted as received from outside.
    assert view["lots"][0]["received"] == 0
    assert view["lots"][0]["on_hand"] == 2


def test_a_receipt_from_a_shipment_is_of_one_lot(tmp_path: Path) -> None:
    (tmp_path / "lots.toml").write_text(
        "[[lot]]"
        + LOT.format(containers=2)
        + "\n[[lot]]"
        + LOT.format(containers=2).replace("UC-0042", "UC-0043")
    )
    _site(tmp_path, "chum.db", "CHUM", "pharm-a")
    done = subprocess.run(
        [str(DOSEPREP), "ledger", "--workstation", "pharm-a", "receive", str(tmp_path / "chum.db"),
         str(tmp_path / "lots.toml"), "--from-site", "JGH", "--shipment", "3",
         "--shipped-containers", "3,4", "--at", "2026-12-02T15:00:00-05:00", "--initials", "AB"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "holds 2 lots; a receipt from a shipment is of one lot" in done.stderr


def test_a_site_ledger_without_a_workstation_tries_no_passphrase(tmp_path: Path) -> None:
    """A failed sign-in is recorded with the workstation it came from: a
    site's ledger opened without one refuses before any passphrase is tried,
    so no guess goes unrecorded."""
    from test_bad_inputs import _staff

    _staff(dp.Ledger.create(tmp_path / "jgh.db"))
    # The administrator signs in at the bench and sets the site.
    ledger = dp.Ledger(tmp_path / "jgh.db", workstation="bench-1")
    ledger.sign_in("admin", passphrase="correct horse battery staple")
    ledger.set_site("JGH", name="Jewish General Hospital",
                    passphrase="correct horse battery staple")  # fmt: skip
    before = len(ledger.events())
    anonymous = dp.Ledger(tmp_path / "jgh.db")
    for passphrase in ("a wrong guess", "mh's own long passphrase"):
        with pytest.raises(dp.LedgerError) as refused:
            anonymous.sign_in("mh", passphrase=passphrase)
        assert refused.value.code == "no_workstation"
    assert len(ledger.events()) == before
    # At a workstation, a wrong one is recorded there.
    with pytest.raises(dp.LedgerError) as refused:
        dp.Ledger(tmp_path / "jgh.db", workstation="bench-2").sign_in(
            "mh", passphrase="a wrong guess"
        )
    assert refused.value.code == "sign_in_failed"
    last = ledger.events()[-1]
    assert (last["kind"], last["site"], last["workstation"]) == ("sign_in_failed", "JGH", "bench-2")


def test_a_ledger_is_pushed_as_the_site_its_chain_names(tmp_path: Path) -> None:
    """A ledger without a site is not pushed (it could be pushed under two
    names, its stock counted twice); two sites whose ledgers were copied
    from one template of users and settings share their first events, and
    both push."""
    from test_bad_inputs import _staff

    centre = new_database()
    dp.Ledger.create_central(centre)
    template = dp.Ledger.create(tmp_path / "template.db")
    _staff(template)
    setup = len(template.events())
    admin = "correct horse battery staple"
    with pytest.raises(dp.LedgerError) as unsited:
        template.push(centre, site="CHUM")
    assert unsited.value.code == "no_site"
    assert "a ledger is pushed as the site its own events name" in str(unsited.value)

    def copy_of(name: str) -> dp.Ledger:
        with sqlite3.connect(tmp_path / "template.db") as source, \
                sqlite3.connect(tmp_path / f"{name}.db") as copy:  # fmt: skip
            source.backup(copy)
        return dp.Ledger(tmp_path / f"{name}.db", workstation="bench-1")

    for site in ("CHUM", "JGH"):
        ledger = copy_of(site)
        ledger.sign_in("admin", passphrase=admin)
        ledger.set_site(site, name=f"{site} hospital", passphrase=admin)
        assert ledger.push(centre, site=site)["sent"] == setup + 1
    first = psql("SELECT DISTINCT hash FROM site_event WHERE seq = 1", centre).stdout.split()
    assert len(first) == 1  # the same first event, at both sites
    with pytest.raises(dp.LedgerError) as other_site:
        ledger.push(centre, site="CHUM")
    assert other_site.value.code == "push_site_differs"


def _stocked_template_copies(tmp_path: Path, sites: tuple[str, ...]) -> int:
    """Copies of one ledger that received lot L (600 containers) and thawed
    each before any site was set, each copy then set to one of `sites`;
    the events each copy holds before its set_site."""
    from test_store_postgres import WRITER

    template = tmp_path / "stocked.db"
    dp.Ledger.create(template)
    made = subprocess.run([sys.executable, str(WRITER), str(template), "thaws", "L", "600"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr
    for site in sites:
        with sqlite3.connect(template) as source, \
                sqlite3.connect(tmp_path / f"{site}.db") as copy:  # fmt: skip
            source.backup(copy)
        dp.Ledger(tmp_path / f"{site}.db", workstation="bench-1").set_site(
            site, name=f"{site} hospital", initials="MH"
        )
    return 601


def test_a_template_that_kept_stock_is_pushed_by_one_site_only(tmp_path: Path) -> None:
    """Its receipt and thaws (more than a batch) counted at the first site
    to push; the second is refused at the receipt, and sends nothing."""
    centre = new_database()
    dp.Ledger.create_central(centre)
    unsited = _stocked_template_copies(tmp_path, ("MUHC", "MUSC"))
    assert dp.Ledger(tmp_path / "MUHC.db").push(centre, site="MUHC")["sent"] == unsited + 1
    with pytest.raises(dp.LedgerError) as twice:
        dp.Ledger(tmp_path / "MUSC.db").push(centre, site="MUSC")
    assert twice.value.code == "push_refused"
    assert str(twice.value).startswith(
        "push refused at event 1 of site MUSC: the centre holds this receive event,"
        " written before the ledger's site was set, for another site:"
    )
    assert "this push sent nothing from event 1 on" in str(twice.value)
    held = psql("SELECT count(*) FROM site_event WHERE site = 'MUSC'", centre).stdout
    assert held.strip() == "0"


def test_a_centre_that_holds_twins_already_counts_them_once_and_migrates(
    tmp_path: Path,
) -> None:
    """A centre of central version 4 that took both template copies (no
    check then): migrated to version 5, its views count the twins at the
    site that pushed them first only."""
    centre = new_database()
    dp.Ledger.create_central(centre)
    unsited = _stocked_template_copies(tmp_path, ("MUHC", "MUSC"))
    dp.Ledger(tmp_path / "MUHC.db").push(centre, site="MUHC")
    # Pushed with no check of unsited events, as version 4 took it.
    psql("ALTER TABLE site_event DISABLE TRIGGER site_event_unsited_once", centre)
    assert dp.Ledger(tmp_path / "MUSC.db").push(centre, site="MUSC")["sent"] == unsited + 1
    # Version 4, as it was: no check of unsited events, no counted views.
    psql(
        "DROP VIEW site_event_count, site_stock_event, site_event_counted;"
        " DROP TRIGGER site_event_unsited_once ON site_event;"
        " DROP FUNCTION doseprep_check_unsited(), doseprep_jsonb_or_null(text),"
        " doseprep_setup_kind(text);"
        " DROP INDEX site_event_unsited;"
        " CREATE VIEW site_stock_event AS SELECT site, seq, kind FROM site_event;"
        " UPDATE doseprep_central SET schema_version = 4;",
        centre,
    )
    view = dp.Ledger.central_view(centre)  # migrates to version 5
    version = psql("SELECT schema_version FROM doseprep_central", centre).stdout.strip()
    assert version == "5"
    [lot] = view["lots"]
    assert (lot["lot_id"], lot["received"], lot["thawed"]) == ("L", 600, 600)
    by_site = {s["site"]: s for s in view["sites"]}
    assert [b["received"] for b in by_site["MUHC"]["lots"]] == [600]
    assert by_site["MUSC"]["lots"] == []
    counted = psql(
        "SELECT site, n FROM site_event_count WHERE kind = 'thaw' ORDER BY site", centre
    ).stdout.split()
    assert counted == ["MUHC|600"]


def test_a_read_only_copy_of_a_site_ledger_is_signed_in_to_without_a_workstation(
    tmp_path: Path,
) -> None:
    """An auditor's write-protected copy: nothing is recorded there, so no
    workstation is asked for; a failed sign-in says it was not recorded."""
    from test_bad_inputs import _staff

    path = tmp_path / "jgh.db"
    _staff(dp.Ledger.create(path))
    ledger = dp.Ledger(path, workstation="bench-1")
    admin = "correct horse battery staple"
    ledger.sign_in("admin", passphrase=admin)
    ledger.set_site("JGH", name="Jewish General Hospital", passphrase=admin)
    copy = dp.Ledger.open_read_only(path)
    events = len(copy.events())
    copy.sign_in("mh", passphrase="mh's own long passphrase")
    assert copy.checkpoint().taken_by == "mh"
    with pytest.raises(dp.LedgerError) as failed:
        copy.sign_in("mh", passphrase="a guess")
    assert failed.value.code == "sign_in_failed"
    assert str(failed.value).startswith(
        'sign-in as "mh" failed: unknown user id or wrong passphrase; nothing was signed, and the'
        " ledger, open to read only, could not record the attempt;"
    )
    assert len(dp.Ledger(path).events()) == events
    # The bench without a workstation still tries no passphrase.
    with pytest.raises(dp.LedgerError) as no_bench:
        dp.Ledger(path).sign_in("mh", passphrase="a guess")
    assert no_bench.value.code == "no_workstation"


def test_the_review_lists_shipments_and_receipts_from_them(tmp_path: Path) -> None:
    jgh = _site(tmp_path, "jgh.db", "JGH", "bench-1")
    jgh.receive(_lot(4), at="2026-12-01T10:00:00-05:00", initials="MH")
    jgh.ship("UC-0042", [3, 4], to_site="CHUM", at="2026-12-02T10:00:00-05:00", initials="MH")
    chum = _site(tmp_path, "chum.db", "CHUM", "pharm-a")
    chum.receive_shipment(_lot(2), from_site="JGH", shipment_seq=3, shipped_containers=[3, 4],
                          at="2026-12-02T15:00:00-05:00", initials="AB")  # fmt: skip
    with pytest.raises(dp.LedgerError) as twice:
        chum.receive_shipment(_lot(1), from_site="JGH", shipment_seq=3, shipped_containers=[4],
                              at="2026-12-02T15:00:00-05:00", initials="AB")  # fmt: skip
    assert twice.value.code == "shipment_received"
    # The same container again under another lot id: still received once.
    renamed = dp.Lot.from_toml(LOT.format(containers=1).replace("UC-0042", "UC-0043"))
    with pytest.raises(dp.LedgerError) as again:
        chum.receive_shipment(renamed, from_site="JGH", shipment_seq=3, shipped_containers=[4],
                              at="2026-12-02T15:00:00-05:00", initials="AB")  # fmt: skip
    assert again.value.code == "shipment_received"
    assert "container 4 of JGH's shipment (its event 3) was received already, at event 2" in str(
        again.value
    )
    shipped = [
        (f["kind"], f["detail"])
        for review in (jgh.audit(late_after="30000 h"), chum.audit(late_after="30000 h"))
        for f in review["findings"]
        if f["kind"] in ("shipment", "access_change")
    ]
    assert shipped == [
        ("access_change", "the ledger's site set to JGH (JGH hospital)"),
        ("shipment", "lot UC-0042, containers 3, 4 shipped to CHUM"),
        ("access_change", "the ledger's site set to CHUM (CHUM hospital)"),
        ("shipment", "lot UC-0042 received from JGH (its event 3, its containers 3, 4)"),
    ]


def test_the_sponsor_reads_a_corrected_shipment_time_and_no_reason_or_bag_number(
    tmp_path: Path,
) -> None:
    """The sponsor's view: a shipment's time as corrected; a destruction's
    or correction's reason withheld (free text may name a participant),
    whatever characters it holds; bag events counted, never listed (a row's
    number or place would tell where it fell among thaws), nor the
    correction of one."""
    import datetime

    from test_ledger import do_the_day, plan

    centre = new_database()
    dp.Ledger.create_central(centre)
    jgh = _site(tmp_path, "jgh.db", "JGH", "bench-1")
    jgh.receive(_lot(12), at="2026-11-20T10:00:00-05:00", initials="MH")
    do_the_day(jgh, plan(dp.Protocol.care_ssc()))
    shipped = jgh.ship("UC-0042", [11], to_site="CHUM", at="2026-11-26T10:00:00-05:00",
                       initials="MH")  # fmt: skip
    jgh.destroy_containers("UC-0042", [12], reason="dropped by CARE-001's \"nurse\" \\ bench",
                           at="2026-11-26T11:00:00-05:00", initials="MH")  # fmt: skip
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    jgh.correct(shipped, reason="shipped at 9, not 10", at=now,
                corrected_at="2026-11-26T09:00:00-05:00", initials="MH")  # fmt: skip
    bag = next(e for e in jgh.events() if e["kind"] == "prepare_planned")
    jgh.correct(bag["seq"], reason="CARE-001's bag made at 10:15", at=now,
                corrected_at="2026-11-25T10:15:00-05:00", initials="MH")  # fmt: skip
    jgh.push(centre, site="JGH")
    view = dp.Ledger.central_view(centre)
    assert [(t["seq"], t["at"]) for t in view["in_transit"]] == [
        (shipped, "2026-11-26T09:00:00-05:00")
    ]
    assert view["sites"][0]["events"] == len(jgh.events())
    shown = psql(
        "SELECT kind, seq, body FROM site_stock_event WHERE site = 'JGH' ORDER BY seq", centre
    ).stdout
    assert "CARE-001" not in shown
    assert "shipped at 9" not in shown
    assert "nurse" not in shown
    assert '"reason":""' in shown
    stock = {"receive", "thaw", "ship", "return", "destroy_containers", "count"}
    rows = [line.split("|", 2) for line in shown.splitlines()]
    assert {kind for kind, _, _ in rows} == stock - {"return", "count"} | {"correct"}
    assert all(seq != "" and body != "" for kind, seq, body in rows)
    corrected = [body for kind, _, body in rows if kind == "correct"]
    assert len(corrected) == 1  # the shipment's, not the bag's
    assert f'"seq":{shipped},' in corrected[0]
    counted = dict(
        line.rsplit("|", 1)
        for line in psql(
            "SELECT kind, n FROM site_event_count WHERE site = 'JGH'", centre
        ).stdout.splitlines()
    )
    events = jgh.events()
    for kind in ("prepare_planned", "plan", "correct", "thaw"):
        assert int(counted[kind]) == sum(e["kind"] == kind for e in events), kind
    # A destruction whose reason is not written as a ledger writes it (put
    # in by the centre's owner, past the checks): its body is not shown,
    # and the central view stops, naming it.
    seq = len(events) + 1
    body = (
        '{"kind":"destroy_containers","lot_id":"UC-0042","containers":[10],"reason" : "CARE-001"}'
    )
    psql(
        "ALTER TABLE site_event DISABLE TRIGGER USER;"
        " INSERT INTO site_event (site, seq, kind, at, initials, body, prev_hash, hash)"
        f" VALUES ('JGH', {seq}, 'destroy_containers',"
        f" '2026-11-27T10:00:00-05:00[America/Toronto]', 'MH', $b${body}$b$, 'x', 'y');"
        " ALTER TABLE site_event ENABLE TRIGGER USER;",
        centre,
    )
    shown = psql(
        f"SELECT body IS NULL FROM site_stock_event WHERE site = 'JGH' AND seq = {seq}", centre
    ).stdout.strip()
    assert shown == "t"
    with pytest.raises(dp.FaultError) as withheld:
        dp.Ledger.central_view(centre)
    assert f"site JGH: event {seq} does not read as a destroy_containers event" in str(
        withheld.value
    )
