"""The accountability ledger from Python, on real SQLite files: a day
recorded, refusals, the hash chain recomputed here, tampering with the
sqlite3 shell, and the exports read by a FHIR library and a UCUM parser."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import THAWED_AT
from postgres_server import stored_events

import doseprep as dp

DOSEPREP = Path(sys.executable).with_name("doseprep")
RECEIVED_AT = "2026-11-20T10:00:00-05:00"
ARMS = "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\n"
DAY = [
    ("CARE-001", "72.4 kg", "2026-11-25T09:00:00-05:00"),
    ("CARE-002", "80 kg", "2026-11-25T09:30:00-05:00"),
    ("CARE-003", "58 kg", "2026-11-25T10:00:00-05:00"),
]


def twelve_containers() -> dp.Lot:
    return dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10.0,
        containers=12,
        dmso_fraction=0.05,
    )


# twelve_containers() as a lots file, for the command.
TWELVE_CONTAINERS_TOML = (
    '[[lot]]\nlot_id = "UC-0042"\nviable_cells_per_ml = "12.5 million cells/mL"\n'
    'viability = 0.93\ncontainer_volume = "10 mL"\ncontainers = 12\ndmso_fraction = 0.05\n'
)


def _stocked_ledger(folder: Path) -> Path:
    """A new ledger file in `folder` that has received twelve_containers()."""
    db = folder / "pharmacy.db"
    ledger = dp.Ledger.create(db)
    ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    return db


def plan(protocol: dp.Protocol) -> dp.DayPlan:
    orders = [
        dp.DayOrder(participant=p, visit="month-0", weight=w, infusion_at=t) for p, w, t in DAY
    ]
    randomization = dp.Randomization.from_csv_text(ARMS, protocol=protocol)
    return dp.plan_day(protocol, orders, lots=[twelve_containers()], randomization=randomization)


def bags(day: dp.DayPlan) -> list[dp.Preparation]:
    found = [bag for bag in day.bags if isinstance(bag, dp.Preparation)]
    assert len(found) == len(day.bags)
    return found


def do_the_day(ledger: dp.Ledger, day: dp.DayPlan, *, initials: str = "MH") -> list[int]:
    """Record the plan, then the day as it was done: each thaw at its session's time, each bag
    made at its preparation time (its thaw plus CARE-SSc's site preparation_time, 30 min)."""
    numbers = ledger.record_day(day, initials=initials)
    for thaw in day.thaws:
        numbers.append(
            ledger.thaw(thaw.lot_id, thaw.containers, at=thaw.thawed_at, initials=initials)
        )
    for bag in bags(day):
        made = bag.prepared_at or bag.thawed_at + timedelta(minutes=30)
        numbers.append(ledger.prepare_planned(bag.bag_id or "", at=made, initials=initials))
    return numbers


def _recorded_at(
    location: str | Path, protocol: dp.Protocol
) -> tuple[dp.Ledger, list[dp.Preparation]]:
    ledger = dp.Ledger.create(location)
    ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    day = plan(protocol)
    # Three bags planned, one thaw, the three bags made.
    assert do_the_day(ledger, day) == [2, 3, 4, 5, 6, 7, 8]
    return ledger, bags(day)


@pytest.fixture
def recorded(
    store: Callable[[str], str], protocol: dp.Protocol
) -> tuple[dp.Ledger, list[dp.Preparation]]:
    """A day recorded in a new ledger, on each store in turn."""
    return _recorded_at(store("pharmacy"), protocol)


@pytest.fixture
def recorded_file(tmp_path: Path, protocol: dp.Protocol) -> tuple[dp.Ledger, list[dp.Preparation]]:
    """A day recorded in a new ledger file, for the tests of the file itself
    (edited with the sqlite3 shell, write-protected, archived by path)."""
    return _recorded_at(tmp_path / "pharmacy.db", protocol)


def test_a_recorded_day_balances_and_traces(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (first, second, third) = recorded
    assert (first.arm, second.arm, third.arm) == ("A", "B", "C")
    # Draws of 5.8 and 6.4 mL (12.2 mL) take two 10 mL containers.
    balance = ledger.balance("UC-0042")
    assert (balance.received, balance.thawed, balance.on_hand) == (12, 2, 10)
    # The second active bag takes what is left of #1 (10 - 5.8 = 4.2 mL) and 2.2 mL of #2.
    chain = ledger.chain_of_identity(second.bag_id or "")
    assert chain["draws_are"] == "drawn"
    assert [(d["container"], d["volume_ml"], d["thaw_seq"]) for d in chain["draws"]] == [
        (1, 4.2, 5),
        (2, 2.2, 5),
    ]
    assert chain["lots"][0]["received_seq"] == 1
    assert ledger.chain_of_identity(third.bag_id or "")["draws"] == []
    assert ledger.record(first.bag_id or "") == first.record()
    verification = ledger.verify()
    assert verification.ok
    assert verification.events == 8
    assert verification.head == ledger.events()[-1]["hash"]


def _hash(event: dict[str, Any]) -> str:
    """The event hash, computed here from the definition in the README."""
    canonical = [
        event["seq"],
        event["kind"],
        event["at"],
        event["initials"],
        event["comment"],
        event["body"],
        event["prev_hash"],
    ]
    if event.get("site") is not None:
        canonical += [
            event["recorded_at"], event["signer"], event["meaning"], event["late_reason"],
            event["site"], event["workstation"],
        ]  # fmt: skip
    elif event.get("signer") is not None or event.get("meaning") is not None:
        canonical += [event["recorded_at"], event["signer"], event["meaning"]]
        if event.get("late_reason") is not None:
            canonical.append(event["late_reason"])
    elif event["recorded_at"] is not None:
        canonical.append(event["recorded_at"])
    text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(path: Path) -> list[dict[str, Any]]:
    """The event table as stored, read with the sqlite3 shell."""
    result = subprocess.run(
        ["sqlite3", "-json", str(path), "SELECT * FROM event ORDER BY seq"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return rows


def test_the_chain_recomputes_outside_the_library(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded
    previous = "0" * 64
    rows = stored_events(ledger.location)
    assert len(rows) == 8
    for row in rows:
        assert row["prev_hash"] == previous
        assert _hash(row) == row["hash"]
        previous = row["hash"]


def _sql(path: Path, statements: str) -> None:
    """Edit the file behind the library's back, as someone with the file could."""
    subprocess.run(["sqlite3", str(path), statements], check=True, timeout=30)


UNGUARD = "DROP TRIGGER event_append_only_update; DROP TRIGGER event_append_only_delete;"


@pytest.mark.parametrize(
    ("edit", "seq", "says"),
    [
        # A number changed in a body.
        (
            "UPDATE event SET body = replace(body, '\"final_ul\":50000', '\"final_ul\":60000')"
            " WHERE seq = 4;",
            4,
            "event 4 was changed after it was recorded",
        ),
        ("UPDATE event SET initials = 'XX' WHERE seq = 2;", 2, "event 2 was changed"),
        ("DELETE FROM event WHERE seq = 3;", 3, "event 3 is missing"),
        # The last event removed, and the head with it left alone.
        ("DELETE FROM event WHERE seq = 5;", 5, "event 5 is missing"),
        # Two events swapped.
        (
            "UPDATE event SET seq = 100 WHERE seq = 3; UPDATE event SET seq = 3 WHERE seq = 4;"
            " UPDATE event SET seq = 4 WHERE seq = 100;",
            3,
            "event 3 was deleted or moved",
        ),
        # Event 3 deleted and the later ones renumbered to close the gap.
        (
            "DELETE FROM event WHERE seq = 3; UPDATE event SET seq = seq - 1 WHERE seq > 3;",
            3,
            "event 3 was deleted or moved: the event now numbered 3 was recorded as event 4",
        ),
    ],
)
def test_verify_names_the_event_edited_with_sqlite3(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]], edit: str, seq: int, says: str
) -> None:
    ledger, _ = recorded_file
    path = ledger.path
    del ledger
    _sql(path, UNGUARD + edit)
    # The quick chain check names the same event as the full replay.
    for scope in ("full", "chain"):
        verification = dp.Ledger(path).verify(scope=scope)
        assert (verification.scope, verification.ok) == (scope, False)
        assert verification.problem_seq == seq
        assert says in (verification.problem or "")


def test_a_rewritten_and_rehashed_event_is_named(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded_file
    path = ledger.path
    row = _rows(path)[2]
    row["initials"] = "XX"
    forged = _hash(row)
    _sql(path, UNGUARD + f"UPDATE event SET initials = 'XX', hash = '{forged}' WHERE seq = 3;")
    verification = dp.Ledger(path).verify()
    assert verification.problem_seq == 3
    assert (verification.problem or "").startswith(
        "event 3 was changed and its hash recomputed: event 4 links to the hash event 3 had"
    )


def _forged_count(seq: int, prev_hash: str) -> dict[str, Any]:
    """A count event someone writes with the ledger's own hash formula."""
    body = '{"kind":"count","lot_id":"UC-0042","counted":10,"expected":10}'
    event = {
        "seq": seq,
        "kind": "count",
        "at": "2026-11-25T10:00:00-05:00",
        "initials": "XX",
        "comment": None,
        "body": body,
        "prev_hash": prev_hash,
        "recorded_at": "2026-11-25T15:00:00Z",
    }
    event["hash"] = _hash(event)
    return event


def _insert(path: Path, event: dict[str, Any]) -> None:
    _sql(
        path,
        "INSERT INTO event (seq, kind, at, initials, comment, body, prev_hash, hash, recorded_at)"
        f" VALUES ({event['seq']}, 'count', '{event['at']}', 'XX', NULL, '{event['body']}',"
        f" '{event['prev_hash']}', '{event['hash']}', '{event['recorded_at']}');",
    )


def test_an_event_inserted_in_the_middle_is_named(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded_file
    path = ledger.path
    rows = _rows(path)
    # Room made at 3 (events 3 to 5 become 4 to 6), and a well-formed event
    # linked to event 2 put there.
    _sql(
        path,
        UNGUARD + "UPDATE event SET seq = seq + 100 WHERE seq >= 3;"
        " UPDATE event SET seq = seq - 99 WHERE seq >= 103;",
    )
    _insert(path, _forged_count(3, rows[1]["hash"]))
    verification = dp.Ledger(path).verify()
    assert verification.problem_seq == 3
    assert (verification.problem or "").startswith("event 3 was inserted or moved")


def test_an_event_appended_behind_the_ledgers_back_is_named(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded_file
    path = ledger.path
    _insert(path, _forged_count(9, _rows(path)[-1]["hash"]))
    verification = dp.Ledger(path).verify()
    assert verification.problem_seq == 9
    assert (verification.problem or "").startswith("event 9 was added behind the ledger's back")


def test_an_edited_state_table_is_found(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded_file
    _sql(ledger.path, "UPDATE container SET state = 'in stock' WHERE number = 1;")
    verification = dp.Ledger(ledger.path).verify()
    assert verification.problem_seq is None
    assert (verification.problem or "").startswith(
        'the state tables were edited: stored "container UC-0042 #1: in stock'
    )
    # The chain check does not compare the state tables, and says so.
    chain = dp.Ledger(ledger.path).verify(scope="chain")
    assert (chain.scope, chain.ok, chain.events) == ("chain", True, 8)
    printed = subprocess.run(
        [str(DOSEPREP), "ledger", "verify", str(ledger.path), "--scope", "chain"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert printed.stdout.startswith(
        "ledger chain verified (hashes, links and head; events not replayed through the rules):"
        " 8 events, head "
    )


def test_the_file_refuses_edits_through_sql(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded_file
    result = subprocess.run(
        ["sqlite3", str(ledger.path), "DELETE FROM event WHERE seq = 5;"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode != 0
    assert "the ledger is append-only" in result.stderr
    assert ledger.verify().ok


def test_refusals_name_the_event_the_item_and_the_fix(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (first, _, third) = recorded
    with pytest.raises(dp.LedgerError) as caught:
        ledger.thaw("UC-0042", [1], at=THAWED_AT, initials="MH")
    assert caught.value.code == "container_state"
    assert str(caught.value) == (
        'thaw: container 1 of lot "UC-0042" is thawed; a container is thawed once; thaw another'
    )
    assert (caught.value.field, caught.value.value, caught.value.fix) == (
        "containers",
        "1",
        "a container is thawed once; thaw another",
    )
    bag_id = first.bag_id or ""
    given = {"started_at": "2026-11-25T11:00:00-05:00", "initials": "RN"}
    with pytest.raises(dp.LedgerError, match="is for participant CARE-001, not CARE-003"):
        ledger.administer(
            bag_id, participant="CARE-003", ended_at="2026-11-25T11:30:00-05:00", **given
        )
    # The bag's infuse-by time is 11:30 (thawed 08:30, 3 h window).
    assert first.infuse_by.isoformat() == "2026-11-25T11:30:00-05:00"
    with pytest.raises(dp.LedgerError) as late:
        ledger.administer(
            bag_id, participant="CARE-001", ended_at="2026-11-25T11:31:00-05:00", **given
        )
    assert late.value.code == "past_infuse_by"
    ledger.administer(
        bag_id,
        participant="CARE-001",
        ended_at="2026-11-25T11:31:00-05:00",
        override_reason="pump alarm, restarted after a minute",
        **given,
    )
    with pytest.raises(dp.LedgerError, match="administered already"):
        ledger.administer(
            bag_id, participant="CARE-001", ended_at="2026-11-25T11:30:00-05:00", **given
        )
    with pytest.raises(dp.InvalidTimeError):
        ledger.dispense(third.bag_id or "", to="ward 5", at="09:00", initials="MH")
    with pytest.raises(dp.LedgerError) as initials:
        ledger.dispense(third.bag_id or "", to="ward 5", at=THAWED_AT, initials="M H")
    assert initials.value.code == "initials"


def test_reconcile_records_a_count(recorded: tuple[dp.Ledger, list[dp.Preparation]]) -> None:
    ledger, _ = recorded
    count = ledger.reconcile("UC-0042", counted=9, at="2026-11-25T17:00:00-05:00", initials="MH")
    assert (count.expected, count.difference, count.ok, count.seq) == (10, -1, False, 9)
    assert ledger.events()[-1]["body"] == {
        "kind": "count",
        "lot_id": "UC-0042",
        "counted": 9,
        "expected": 10,
    }


def test_the_review_lists_late_entries_overrides_destructions_and_counts(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (_, _, third) = recorded
    written_from = datetime.now(timezone.utc).replace(microsecond=0)
    ledger.destroy_bag(third.bag_id or "", reason="bag punctured",
                       at="2026-11-25T10:40:00-05:00", initials="MH")  # fmt: skip
    ledger.destroy_containers(
        "UC-0042", [3], reason="cracked", at="2026-11-25T17:00:00-05:00", initials="MH"
    )
    ledger.reconcile("UC-0042", counted=8, at="2026-11-25T17:10:00-05:00", initials="MH")
    report = ledger.audit(late_after="4 h")
    assert report["verification"]["problem"] is None
    assert report["events"] == 11
    # Written now, for days in November: every event is a late entry but the plans (2 to 4),
    # dated when they were written.
    found = [(f["seq"], f["kind"]) for f in report["findings"]]
    assert found == [(seq, "late_entry") for seq in (1, 5, 6, 7, 8)] + [
        (9, "late_entry"),
        (9, "destroyed_bag"),
        (10, "late_entry"),
        (10, "destroyed_containers"),
        (11, "late_entry"),
        (11, "count_difference"),
    ]
    for finding in report["findings"]:
        # Python 3.10 reads no "Z": the offset written out.
        written = datetime.fromisoformat(finding["recorded_at"].replace("Z", "+00:00"))
        assert written_from - timedelta(days=1) <= written <= datetime.now(timezone.utc)
    assert "lot UC-0042: counted 8, the events give 9 (difference -1)" in report["text"]
    assert f"bag {third.bag_id}: bag punctured" in report["text"]
    # The period after now holds nothing.
    later = ledger.audit(late_after="4 h", start=datetime.now(timezone.utc) + timedelta(hours=1))
    assert (later["events"], later["findings"]) == (0, [])
    # The command prints the same report from a read-only opening.
    printed = subprocess.run(
        [str(DOSEPREP), "ledger", "audit", ledger.location, "--late-after", "4 h"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == report["text"]


def test_the_accountability_log_balances_line_by_line(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded
    ledger.destroy_containers(
        "UC-0042", [3], reason="cracked", at="2026-11-25T17:00:00-05:00", initials="MH"
    )
    ledger.return_containers("UC-0042", [4], at="2026-11-25T17:05:00-05:00", initials="MH")
    ledger.reconcile("UC-0042", counted=8, at="2026-11-25T17:10:00-05:00", initials="MH")
    rows = list(csv.DictReader(ledger.export_csv().splitlines()))
    # Every event named as the method that records it.
    assert [r["event"] for r in rows] == [
        "receive",
        "plan",
        "plan",
        "plan",
        "thaw",
        "prepare_planned",
        "prepare_planned",
        "prepare_planned",
        "destroy_containers",
        "return_containers",
        "reconcile",
    ]
    # One ISO 8601 form for every time, whether it was recorded with a zone
    # name (the day's thaw, 08:30 planned in America/Toronto) or an offset.
    assert [rows[0]["date"], rows[4]["date"]] == [RECEIVED_AT, "2026-11-25T08:30:00-05:00"]
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row["date"]), row
    stock = [r for r in rows if r["quantity_received"]]
    assert [(r["balance_forward"], r["balance"]) for r in stock] == [
        ("0", "12"),
        ("12", "10"),
        ("10", "9"),
        ("9", "8"),
    ]
    assert rows[-1]["dose"] == "reconciled: 8 counted, 8 expected, difference 0"
    for row in stock:
        received, out = int(row["quantity_received"]), int(row["quantity_dispensed"])
        assert int(row["balance_forward"]) + received - out == int(row["balance"])
    assert rows[-1]["balance"] == str(ledger.balance("UC-0042").on_hand)


def test_the_blinded_export_holds_bag_ids_and_volumes_only(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, day = recorded
    text = ledger.export_blinded_csv()
    rows = list(csv.DictReader(text.splitlines()))
    # One thaw session: every plan, then every preparation, dated by its thaw, then by bag id,
    # whatever order the bags were made and recorded in.
    thawed_at = {b.thawed_at.isoformat() for b in day}
    assert thawed_at == {"2026-11-25T08:30:00-05:00"}
    session = sorted(("2026-11-25T08:30:00-05:00", b.bag_id, "50") for b in day)
    assert [(r["session"], r["bag_id"], r["volume_ml"]) for r in rows] == session + session
    assert [r["event"] for r in rows] == ["plan"] * 3 + ["prepare_planned"] * 3
    assert set(rows[0]) == {"session", "event", "bag_id", "volume_ml"}
    lowered = text.lower()
    for giveaway in ("active", "placebo", "arm", "cells", "uc-0042", "care-00", "5.8", "6.4"):
        assert giveaway not in lowered, giveaway


def _ucum(code: str) -> None:
    from ucumvert import get_ucum_parser

    get_ucum_parser().parse(code)  # raises on a code that is not UCUM


def _resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


def _validate(bundle: dict[str, Any]) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.medicationadministration import MedicationAdministration
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.observation import Observation

    Bundle.model_validate(bundle)
    models: dict[str, Any] = {
        "Observation": Observation,
        "MedicationRequest": MedicationRequest,
        "MedicationAdministration": MedicationAdministration,
    }
    for kind, resource in _resources(bundle).items():
        models[kind].model_validate(resource)
    # Every quantity's unit is UCUM, and a real UCUM parser reads its code.
    codes = list(_ucum_codes(bundle))
    assert codes
    for code in codes:
        _ucum(code)


def _ucum_codes(value: Any) -> Iterator[str]:
    """The code of every Quantity whose system is UCUM, anywhere in `value`."""
    if isinstance(value, dict):
        if value.get("system") == "http://unitsofmeasure.org":
            yield value["code"]
        for item in value.values():
            yield from _ucum_codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ucum_codes(item)


def test_the_validators_can_fail() -> None:
    """The FHIR models and the UCUM parser refuse what is wrong."""
    from fhir.resources.R4B.observation import Observation
    from lark.exceptions import LarkError
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Observation.model_validate({"resourceType": "Observation", "status": "final"})
    with pytest.raises(ValidationError):
        Observation.model_validate(
            {"resourceType": "Observation", "status": "final", "code": {}, "valueQuantityy": {}}
        )
    with pytest.raises(LarkError):
        _ucum("million cells/kg")


DOSE_RATE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"


def test_fhir_of_an_active_bag_before_and_after_its_infusion(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (first, _, _) = recorded
    bag_id = first.bag_id or ""
    before = json.loads(ledger.export_fhir(bag_id))
    _validate(before)
    resources = _resources(before)
    assert set(resources) == {"Observation", "MedicationRequest"}
    weight = resources["Observation"]
    assert weight["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "29463-7",
        "display": "Body weight",
    }
    # Weighed in kg (a number, as the fixture gives it), no time of weighing
    # on the order: the profile's required time is there as unknown.
    assert weight["valueQuantity"] == {
        "value": 72.4,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    assert "effectiveDateTime" not in weight
    assert weight["_effectiveDateTime"] == {
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                "valueCode": "unknown",
            }
        ]
    }
    request = resources["MedicationRequest"]
    assert request["status"] == "active"
    assert "statusReason" not in request
    ordered, calculated = request["dosageInstruction"][0]["doseAndRate"]
    # HL7 dose-rate-type (R4): `ordered` is "the dose as ordered by the
    # prescriber", CARE-SSc's 1 million cells/kg; `calculated` is
    # "calculated by the prescriber or the system", 72.4 million cells for
    # 72.4 kg, at 50 mL over 30 min (100 mL/h).
    assert ordered["type"]["coding"] == [{"system": DOSE_RATE_TYPE, "code": "ordered"}]
    assert calculated["type"]["coding"] == [{"system": DOSE_RATE_TYPE, "code": "calculated"}]
    assert ordered["doseQuantity"] == {
        "value": 1.0,
        "unit": "million cells/kg",
        "system": "http://unitsofmeasure.org",
        "code": "10*6/kg",
    }
    assert (calculated["doseQuantity"]["value"], calculated["doseQuantity"]["code"]) == (
        72.4,
        "10*6",
    )
    assert calculated["rateQuantity"]["value"] == 100.0
    assert calculated["rateQuantity"]["code"] == "mL/h"
    ledger.dispense(bag_id, to="ward 5", at="2026-11-25T09:00:00-05:00", initials="MH")
    ledger.administer(
        bag_id,
        participant="CARE-001",
        started_at="2026-11-25T09:05:00-05:00",
        ended_at="2026-11-25T09:35:00-05:00",
        initials="RN",
    )
    after = json.loads(ledger.export_fhir(bag_id))
    _validate(after)
    given = _resources(after)["MedicationAdministration"]
    assert given["effectivePeriod"] == {
        "start": "2026-11-25T09:05:00-05:00",
        "end": "2026-11-25T09:35:00-05:00",
    }
    # 5.8 mL x 12.5 million/mL = 72.5 million cells delivered.
    assert given["dosage"]["dose"]["value"] == 72.5
    assert given["dosage"]["rateQuantity"]["code"] == "mL/h"
    assert _resources(after)["MedicationRequest"]["status"] == "completed"


def test_fhir_orders_the_protocols_dose_where_a_cap_lowers_the_target(tmp_path: Path) -> None:
    """The example per-kg rule orders 0.75 million cells/kg with at most 100
    million an infusion: for 150 kg the target is capped at 100 million
    (0.75 x 150 = 112.5), and `ordered` is still the protocol's 0.75
    million/kg, not 100 / 150 = 0.667 worked back from the target."""
    protocol = dp.Protocol.example("per-kg-with-cap")
    lot = dp.Lot(lot_id="UC-0042", viable_cells_per_ml=12.5e6, viability=0.93,
                 container_volume_ml=10, containers=4)  # fmt: skip
    bag = dp.prepare(protocol, participant="P-150", weight="150 kg", arm="active",
                     visit="infusion", lot=lot, thawed_at="2026-11-25T08:30:00-05:00",
                     bag_id="014D2PF2DBR")  # fmt: skip
    assert bag.draw_volume_ml == 8.0  # 100 million / 12.5 million per mL
    ledger = dp.Ledger.create(tmp_path / "capped.db")
    ledger.receive(lot, at="2026-11-20T10:00:00-05:00", initials="MH")
    ledger.thaw("UC-0042", [1], at="2026-11-25T08:30:00-05:00", initials="MH")
    ledger.prepare(bag, at="2026-11-25T08:45:00-05:00", initials="MH",
                   draws=[("UC-0042", 1, 8.0)])  # fmt: skip
    bundle = json.loads(ledger.export_fhir("014D2PF2DBR"))
    _validate(bundle)
    request = _resources(bundle)["MedicationRequest"]
    ordered, calculated = request["dosageInstruction"][0]["doseAndRate"]
    assert ordered["type"]["coding"][0]["code"] == "ordered"
    assert (ordered["doseQuantity"]["value"], ordered["doseQuantity"]["code"]) == (0.75, "10*6/kg")
    assert calculated["type"]["coding"][0]["code"] == "calculated"
    assert (calculated["doseQuantity"]["value"], calculated["doseQuantity"]["code"]) == (
        100.0,
        "10*6",
    )


def test_fhir_of_a_placebo_orders_its_volume(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (_, _, third) = recorded
    bundle = json.loads(ledger.export_fhir(third.bag_id or ""))
    _validate(bundle)
    [ordered] = _resources(bundle)["MedicationRequest"]["dosageInstruction"][0]["doseAndRate"]
    assert ordered["doseQuantity"]["value"] == 50.0
    assert ordered["doseQuantity"]["code"] == "mL"


# Value sets of FHIR R4 (hl7.org/fhir/R4), typed here from the specification:
# the codes each coded element may take where the binding is required (and,
# for the dose-rate type and the category, the codes of the code system).
VALUE_SETS: dict[tuple[str, str], set[str]] = {
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response",
                         "batch", "batch-response", "history", "searchset", "collection"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected",
                                "cancelled", "entered-in-error", "unknown"},
    ("MedicationRequest", "status"): {"active", "on-hold", "cancelled", "completed",
                                      "entered-in-error", "stopped", "draft", "unknown"},
    ("MedicationRequest", "intent"): {"proposal", "plan", "order", "original-order",
                                      "reflex-order", "filler-order", "instance-order", "option"},
    ("MedicationAdministration", "status"): {"in-progress", "not-done", "on-hold", "completed",
                                             "entered-in-error", "stopped", "unknown"},
}  # fmt: skip
DATA_ABSENT_REASONS = {"unknown", "asked-unknown", "temp-unknown", "not-asked", "asked-declined",
                       "masked", "not-applicable", "unsupported", "as-text", "error",
                       "not-a-number", "negative-infinity", "positive-infinity", "not-performed",
                       "not-permitted"}  # fmt: skip
DOSE_RATE_TYPES = {"calculated", "ordered"}
# The vital-signs body weight profile: its code, category and units.
BODY_WEIGHT_UNITS = {"kg", "g", "[lb_av]"}


def _check_value_sets(bundle: dict[str, Any]) -> int:
    """Every code of `bundle` in its value set; how many codes were checked."""
    checked = 0
    assert bundle["type"] in VALUE_SETS[("Bundle", "type")]
    for kind, resource in _resources(bundle).items():
        for (resource_kind, element), codes in VALUE_SETS.items():
            if resource_kind == kind and element in resource:
                assert resource[element] in codes, (kind, element, resource[element])
                checked += 1
        if kind == "Observation":
            assert resource["code"]["coding"] == [
                {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}
            ]
            [category] = resource["category"][0]["coding"]
            assert (category["system"], category["code"]) == (
                "http://terminology.hl7.org/CodeSystem/observation-category",
                "vital-signs",
            )
            assert resource["valueQuantity"]["code"] in BODY_WEIGHT_UNITS
            absent = resource.get("_effectiveDateTime", {}).get("extension", [])
            assert all(e["valueCode"] in DATA_ABSENT_REASONS for e in absent)
            assert ("effectiveDateTime" in resource) != bool(absent)
            checked += 3 + len(absent)
        if kind == "MedicationRequest":
            for dose in resource["dosageInstruction"][0]["doseAndRate"]:
                [coding] = dose["type"]["coding"]
                assert coding["system"] == "http://terminology.hl7.org/CodeSystem/dose-rate-type"
                assert coding["code"] in DOSE_RATE_TYPES
                checked += 1
    return checked


def test_every_fhir_code_is_in_its_value_set(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (first, second, third) = recorded
    given, destroyed, placebo = first.bag_id or "", second.bag_id or "", third.bag_id or ""
    ledger.dispense(given, to="ward 5", at="2026-11-25T09:00:00-05:00", initials="MH")
    ledger.administer(given, participant="CARE-001", started_at="2026-11-25T09:05:00-05:00",
                      ended_at="2026-11-25T09:35:00-05:00", initials="RN")  # fmt: skip
    ledger.destroy_bag(destroyed, reason="punctured", at="2026-11-25T09:40:00-05:00",
                       initials="MH")  # fmt: skip
    statuses = []
    for bag_id in (given, destroyed, placebo):
        bundle = json.loads(ledger.export_fhir(bag_id))
        assert _check_value_sets(bundle) >= 8
        statuses.append(_resources(bundle)["MedicationRequest"]["status"])
    # Each state of a bag, so every status the export writes was checked.
    assert statuses == ["completed", "stopped", "active"]


def test_fhir_gives_the_time_of_weighing_where_the_order_does(
    protocol: dp.Protocol, tmp_path: Path
) -> None:
    ledger = dp.Ledger.create(tmp_path / "pharmacy.db")
    ledger.receive(twelve_containers(), at=RECEIVED_AT, initials="MH")
    ledger.thaw("UC-0042", [1], at="2026-11-25T08:30:00-05:00", initials="MH")
    bag = dp.prepare(
        protocol, participant="CARE-012", weight="160 lb", arm="A", visit="month-0",
        lot=twelve_containers(), thawed_at="2026-11-25T08:30:00-05:00",
        prepared_at="2026-11-25T09:00:00-05:00", weighed_at="2026-11-25T07:45:00-05:00",
        bag_id="014D2PF2DBR",
    )  # fmt: skip
    order = bag.record().to_dict()["order"]
    assert order["weighed_at"] == "2026-11-25T07:45:00-05:00[America/Toronto]"
    assert bag.draw_volume_ml is not None  # an active bag draws
    draw = ("UC-0042", 1, bag.draw_volume_ml)
    ledger.prepare(bag, at="2026-11-25T09:00:00-05:00", initials="MH", draws=[draw])
    bundle = json.loads(ledger.export_fhir("014D2PF2DBR"))
    _validate(bundle)
    _check_value_sets(bundle)
    observation = _resources(bundle)["Observation"]
    assert observation["effectiveDateTime"] == "2026-11-25T07:45:00-05:00"
    assert "_effectiveDateTime" not in observation
    assert observation["note"][0]["text"].endswith("weighed at the time given")
    # A day's orders CSV carries it too, into each bag's record.
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "participant,visit,weight,infusion_at,weighed_at\n"
        "CARE-001,month-0,72.4 kg,2026-11-25T09:00:00-05:00,2026-11-25T08:05:00-05:00\n"
    )
    day = dp.plan_day(
        protocol,
        dp.DayOrder.from_csv(orders),
        lots=[twelve_containers()],
        randomization=dp.Randomization.from_csv_text(ARMS, protocol=protocol),
    )
    [planned] = bags(day)
    weighed = planned.record().to_dict()["order"]["weighed_at"]
    assert weighed == "2026-11-25T08:05:00-05:00[America/Toronto]"
    # A weight taken after the bag was made is refused.
    with pytest.raises(dp.InvalidTimeError, match="taken after the preparation"):
        dp.prepare(
            protocol, participant="CARE-012", weight="160 lb", arm="A", visit="month-0",
            lot=twelve_containers(), thawed_at="2026-11-25T08:30:00-05:00",
            prepared_at="2026-11-25T09:00:00-05:00", weighed_at="2026-11-25T09:30:00-05:00",
        )  # fmt: skip


def test_a_file_that_is_not_a_ledger_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    subprocess.run(["sqlite3", str(other), "CREATE TABLE t (x);"], check=True, timeout=30)
    before = other.read_bytes()
    for open_ledger in (dp.Ledger, dp.Ledger.open_read_only):
        with pytest.raises(dp.LedgerError) as caught:
            open_ledger(other)
        assert caught.value.code == "not_a_ledger"
        # Not switched to WAL (bytes 18-19 would become 2), nothing beside it.
        assert other.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_write_protected_ledger_is_verified_and_exported_read_only(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]], tmp_path: Path
) -> None:
    """An auditor's copy in a read-only folder, opened by a process that
    cannot write it (root writes anything: as root the check runs without
    the capabilities that override file permissions)."""
    ledger, (first, _, _) = recorded_file
    folder = Path(tempfile.mkdtemp(prefix="audit-"))
    try:
        copy = folder / "audit.db"
        # SQLite's backup: the events still in the write-ahead log come too.
        source, target = sqlite3.connect(ledger.path), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        copy.chmod(0o444)
        folder.chmod(0o555)
        before = copy.read_bytes()
        script = (
            "import sys, doseprep as dp\n"
            "l = dp.Ledger.open_read_only(sys.argv[1])\n"
            "v = l.verify()\n"
            "print(v.ok, v.events, len(l.export_csv().splitlines()))\n"
            "try:\n"
            "    t = '2026-11-25T09:00:00-05:00'\n"
            "    l.dispense(sys.argv[2], to='ward 5', at=t, initials='MH')\n"
            "except dp.FaultError as e:\n"
            "    print(e.code)\n"
            "try:\n"
            "    dp.Ledger(sys.argv[1])\n"
            "except (dp.FaultError, OSError) as e:\n"
            "    print(type(e).__name__, getattr(e, 'code', ''))\n"
        )
        caps = "-dac_override,-dac_read_search"
        unprivileged = (
            ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]
            if os.geteuid() == 0
            else []
        )
        done = subprocess.run(
            [*unprivileged, sys.executable, "-c", script, str(copy), first.bag_id or ""],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        events = ledger.verify().events
        lines = len(ledger.export_csv().splitlines())
        assert done.stdout.splitlines()[:2] == [
            f"True {events} {lines}",
            "database_read_only",
        ]
        assert copy.read_bytes() == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_the_ledger_commands(tmp_path: Path) -> None:
    assert shutil.which("sqlite3")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "participant,visit,weight,infusion_at\n"
        + "".join(f"{p},month-0,{w},{t}\n" for p, w, t in DAY)
    )
    (tmp_path / "randomization.csv").write_text(ARMS)
    (tmp_path / "lots.toml").write_text(TWELVE_CONTAINERS_TOML)
    db = tmp_path / "pharmacy.db"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DOSEPREP), *args], capture_output=True, text=True, check=False, timeout=60
        )

    lots = str(tmp_path / "lots.toml")
    # A ledger is started on purpose; a mistyped path is refused, not created.
    typo = run("ledger", "receive", str(tmp_path / "pharmacy.bd"), lots, "--at", RECEIVED_AT,
               "--initials", "MH")  # fmt: skip
    assert typo.returncode == 2
    assert typo.stderr == (
        f"doseprep: no ledger file at {tmp_path / 'pharmacy.bd'}; check the path, or start a new"
        f" ledger with `doseprep ledger init {tmp_path / 'pharmacy.bd'}` (Python: Ledger.create)\n"
    )
    assert not (tmp_path / "pharmacy.bd").exists()
    assert run("ledger", "init", str(db)).returncode == 0
    assert run("ledger", "init", str(db)).returncode == 2  # never over an existing file
    received = run("ledger", "receive", str(db), lots, "--at", RECEIVED_AT, "--initials", "MH")
    assert received.returncode == 0, received.stderr
    assert received.stdout == "event 1: received lot UC-0042, containers 1 to 12\n"
    day = run(
        "day", str(orders), "--randomization", str(tmp_path / "randomization.csv"),
        "--lots", lots, "--out", str(tmp_path / "day"), "--ledger", str(db), "--initials", "MH",
    )  # fmt: skip
    assert day.returncode == 0, day.stderr
    # The plan (three bags); the thaw and each bag are recorded when they are done.
    assert "recorded in the ledger: events 2 to 4" in day.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if ".staging-" in p.name) == []
    day_rows = list(csv.DictReader((tmp_path / "day" / "day.csv").read_text().splitlines()[1:]))
    early = run("ledger", "prepare-planned", str(db), day_rows[0]["bag_id"],
                "--at", "2026-11-25T09:00:00-05:00", "--initials", "MH")  # fmt: skip
    assert early.returncode == 2
    assert "record its session's thaw first (thaw)" in early.stderr
    thawed = run("ledger", "thaw", str(db), "UC-0042", "--containers", "1,2",
                 "--at", "2026-11-25T08:30:00-05:00", "--initials", "MH")  # fmt: skip
    assert thawed.stdout == "event 5: lot UC-0042 containers 1, 2 thawed\n", thawed.stderr
    for seq, row in enumerate(day_rows, start=6):
        made = run("ledger", "prepare-planned", str(db), row["bag_id"],
                   "--at", "2026-11-25T09:00:00-05:00", "--initials", "MH")  # fmt: skip
        assert made.stdout == f"event {seq}: bag {row['bag_id']} prepared as planned\n"
    balance = run("ledger", "balance", str(db), "UC-0042")
    assert balance.stdout == (
        "lot UC-0042: received 12, thawed 2, destroyed 0 (and 0 after thaw), "
        "returned 0, shipped 0, on hand 10\n"
    )
    verified = run("ledger", "verify", str(db))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ledger verified: 8 events, head ")
    count = run(
        "ledger", "reconcile", str(db), "UC-0042", "--counted", "10",
        "--at", "2026-11-25T17:00:00-05:00", "--initials", "MH",
    )  # fmt: skip
    assert count.returncode == 0
    assert count.stdout == "lot UC-0042: counted 10, expected 10: agrees (event 9)\n"
    short = run(
        "ledger", "reconcile", str(db), "UC-0042", "--counted", "9",
        "--at", "2026-11-25T17:05:00-05:00", "--initials", "MH",
    )  # fmt: skip
    assert short.returncode == 1
    assert short.stdout == "lot UC-0042: counted 9, expected 10: 1 missing (event 10)\n"
    exported = run("ledger", "export", str(db), "--csv")
    assert exported.stdout.startswith("seq,date,recorded_at,event,participant,bag_id,dose,lot,")
    bag_id = day_rows[0]["bag_id"]
    fhir = run("ledger", "export", str(db), "--fhir", bag_id)
    assert json.loads(fhir.stdout)["resourceType"] == "Bundle"
    blinded = run("ledger", "export", str(db), "--blinded")
    assert blinded.stdout.startswith("session,event,bag_id,volume_ml\n")
    # The next day, planned from the ledger's stock, thaws #3: the pick list,
    # the worksheets and the ledger say the same container.
    (tmp_path / "orders2.csv").write_text(
        "participant,visit,weight,infusion_at\nCARE-004,month-0,72.4 kg,2026-11-26T09:00:00-05:00\n"
    )
    (tmp_path / "randomization.csv").write_text(ARMS + "CARE-004,A\n")
    randomization = str(tmp_path / "randomization.csv")
    day2 = run(
        "day", str(tmp_path / "orders2.csv"), "--randomization", randomization,
        "--lots", lots, "--out", str(tmp_path / "next"), "--ledger", str(db), "--initials", "MH",
    )  # fmt: skip
    assert day2.returncode == 0, day2.stderr
    assert (
        "the ledger has 10 containers in stock and free to plan, the lots file says 12"
        in day2.stderr
    )
    assert "thaw lot UC-0042  container 3\n" in (tmp_path / "next" / "pick-list.txt").read_text()
    [row] = list(csv.DictReader((tmp_path / "next" / "day.csv").read_text().splitlines()[1:]))
    assert row["containers"] == "UC-0042#3:5.8mL"
    chain = dp.Ledger(db).chain_of_identity(row["bag_id"])
    assert [(d["container"], d["volume_ml"]) for d in chain["draws"]] == [(3, 5.8)]
    negative = run(
        "ledger", "reconcile", str(db), "UC-0042", "--counted", "-1",
        "--at", "2026-11-25T17:05:00-05:00", "--initials", "MH",
    )  # fmt: skip
    assert negative.returncode == 2
    assert "Traceback" not in negative.stderr
    # The same day run again records nothing: each row is already recorded.
    events_before = len(dp.Ledger(db).events())
    again = run(
        "day", str(orders), "--randomization", str(tmp_path / "randomization.csv"),
        "--lots", lots, "--out", str(tmp_path / "day2"), "--ledger", str(db), "--initials", "MH",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    first_ids = [r["bag_id"] for r in day_rows]
    assert again.stdout.startswith(
        "CARE-SSc day plan: 3 order rows, 0 planned, 3 already recorded, 0 not planned\n"
    )
    for bag_id in first_ids:
        assert f"already recorded (bag {bag_id})" in again.stdout
    assert "recorded in the ledger" not in again.stdout
    assert len(dp.Ledger(db).events()) == events_before
    # A row fixed or changed since names the bag its visit has, and its event.
    changed = tmp_path / "changed.csv"
    changed.write_text(orders.read_text().replace("80 kg", "82 kg"))
    differs = run(
        "day", str(changed), "--randomization", str(tmp_path / "randomization.csv"),
        "--lots", lots, "--out", str(tmp_path / "day3"), "--ledger", str(db), "--initials", "MH",
    )  # fmt: skip
    assert differs.returncode == 1
    [row] = [
        r
        for r in csv.DictReader((tmp_path / "day3" / "day.csv").read_text().splitlines()[1:])
        if r["participant"] == "CARE-002"
    ]
    assert row["status"] == "NOT PLANNED: recorded_differently"
    assert row["message"] == (
        f"row 3: CARE-002 at month-0 has bag {first_ids[1]} already (ledger event 3), recorded"
        " for another order (weight 82 kg, recorded 80 kg); if this row replaces that bag, give"
        f" the reason and cancel bag {first_ids[1]} where it is only planned (doseprep ledger"
        " cancel) or destroy it where it was made (doseprep ledger destroy), then plan the row"
        " again; otherwise correct the row"
    )
    assert len(dp.Ledger(db).events()) == events_before
    _sql(db, UNGUARD + "UPDATE event SET initials = 'ZZ' WHERE seq = 4;")
    tampered = run("ledger", "verify", str(db))
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("ledger does NOT verify: event 4 was changed")


def test_a_day_whose_documents_cannot_be_written_is_not_recorded(tmp_path: Path) -> None:
    """The documents are staged before the day is recorded: a folder that
    cannot take them leaves the ledger as it was, and the rerun works."""
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "participant,visit,weight,infusion_at\n"
        + "".join(f"{p},month-0,{w},{t}\n" for p, w, t in DAY)
    )
    (tmp_path / "randomization.csv").write_text(ARMS)
    lots = tmp_path / "lots.toml"
    lots.write_text(TWELVE_CONTAINERS_TOML)
    db = _stocked_ledger(tmp_path)

    def day(out: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DOSEPREP), "day", str(orders), "--randomization",
             str(tmp_path / "randomization.csv"), "--lots", str(lots), "--out", str(out),
             "--ledger", str(db), "--initials", "MH"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    # A folder that already holds files, and one whose parent does not exist.
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("yesterday")
    for out in (tmp_path / "full", tmp_path / "missing" / "day"):
        refused = day(out)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"doseprep: the output folder {out}")
        assert len(dp.Ledger(db).events()) == 1  # the receipt only
    done = day(tmp_path / "day")
    assert done.returncode == 0, done.stderr
    assert "recorded in the ledger: events 2 to 4" in done.stdout  # the three bags' plans
    assert {p.name for p in (tmp_path / "day").iterdir()} == {
        "bags", "day.csv", "pick-list.txt", "summary.txt"
    }  # fmt: skip


def test_the_wards_events_from_the_command(tmp_path: Path) -> None:
    """Dispense, administer, destroy, return and count from the command, with
    the library's rules and messages; a bag id typed as a person would."""
    db = _stocked_ledger(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DOSEPREP), "ledger", *args, "--initials", "MH"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    at = "2026-11-25T16:00:00-05:00"
    returned = run("return", str(db), "UC-0042", "--containers", "11,12", "--at", at)
    assert returned.returncode == 0, returned.stderr
    assert returned.stdout == "event 2: lot UC-0042 containers 11, 12 returned\n"
    destroyed = run(
        "destroy", str(db), "--lot", "UC-0042", "--containers", "10", "--reason", "cracked",
        "--at", at,
    )  # fmt: skip
    assert destroyed.returncode == 0, destroyed.stderr
    assert destroyed.stdout == "event 3: lot UC-0042 containers 10 destroyed (cracked)\n"
    again = run(
        "destroy", str(db), "--lot", "UC-0042", "--containers", "10", "--reason", "cracked",
        "--at", at,
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.startswith("doseprep: ")
    assert 'container 10 of lot "UC-0042" is destroyed' in again.stderr
    bad_list = run("return", str(db), "UC-0042", "--containers", "1,x", "--at", at)
    assert bad_list.returncode == 2
    assert "is not a list of container numbers; give them as 1,2,5" in bad_list.stderr
    counted = run("count", str(db), "UC-0042", "--counted", "9", "--at", at)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout == "lot UC-0042: counted 9, expected 9: agrees (event 4)\n"
    # A bag: recorded with the day, then dispensed and given from the command.
    ledger = dp.Ledger(db)
    day = plan(dp.Protocol.care_ssc())
    numbers = do_the_day(ledger, day)
    first = bags(day)[0]
    assert first.bag_id is not None
    typed = "-".join([first.bag_id[:4].lower(), first.bag_id[4:]]).replace("0", "o")
    mistyped = first.bag_id[:-1] + ("0" if first.bag_id[-1] != "0" else "1")
    wrong = run("dispense", str(db), mistyped, "--to", "ward 5", "--at", at)
    assert wrong.returncode == 2
    assert "misread or mistyped" in wrong.stderr
    given_out = run(
        "dispense", str(db), typed, "--to", "ward 5", "--at", "2026-11-25T10:50:00-05:00"
    )
    assert given_out.returncode == 0, given_out.stderr
    # The id as read, as the label prints it: the typist sees what was taken.
    assert given_out.stdout == (
        f"event {numbers[-1] + 1}: bag {first.bag_id} dispensed to ward 5\n"
    )
    infused = run(
        "administer", str(db), first.bag_id, "--participant", first.participant,
        "--started-at", "2026-11-25T11:00:00-05:00", "--ended-at", "2026-11-25T11:25:00-05:00",
    )  # fmt: skip
    assert infused.returncode == 0, infused.stderr
    assert dp.Ledger(db).verify().ok


def test_a_fixed_row_and_an_add_on_are_recorded_once(tmp_path: Path) -> None:
    """A day with one unreadable row; the same file run again with the row
    fixed records only that row; an add-on order gets a session of its own;
    every bag of the day prints again from the ledger byte for byte."""
    (tmp_path / "randomization.csv").write_text(ARMS + "CARE-004,A\n")
    (tmp_path / "lots.toml").write_text(TWELVE_CONTAINERS_TOML)
    db = _stocked_ledger(tmp_path)
    header = "participant,visit,weight,infusion_at\n"
    rows = [f"{p},month-0,{w},{t}\n" for p, w, t in DAY]

    def day(orders: str, out: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / f"{out}.csv"
        path.write_text(header + orders)
        return subprocess.run(
            [str(DOSEPREP), "day", str(path), "--randomization",
             str(tmp_path / "randomization.csv"), "--lots", str(tmp_path / "lots.toml"),
             "--out", str(tmp_path / out), "--ledger", str(db), "--initials", "MH"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    # CARE-003's weight typed with a decimal comma: not planned. CARE-001
    # takes 5.8 mL of container 1, CARE-002 6.4 mL: 4.2 of #1 and 2.2 of #2.
    first = day(rows[0] + rows[1] + rows[2].replace("58 kg", '"58,0 kg"'), "first")
    assert first.returncode == 1
    assert "row 4  CARE-003 month-0  NOT PLANNED: unit" in first.stdout
    assert "recorded in the ledger: events 2 to 3" in first.stdout  # 2 bags planned
    # The same file, fixed: only CARE-003 (a placebo) is made, in a session
    # of its own (09:30 for its 10:00 infusion): nothing thawed.
    fixed = day("".join(rows), "fixed")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.startswith(
        "CARE-SSc day plan: 3 order rows, 1 planned, 2 already recorded, 0 not planned\n"
    )
    assert "recorded in the ledger: events 4 to 4" in fixed.stdout
    assert "Nothing to thaw." in (tmp_path / "fixed" / "pick-list.txt").read_text()
    # An add-on at 10:00 (60 kg: 4.8 mL) thaws a container of its own at
    # 09:30. Container 2 still holds 7.8 mL from 08:30, but what is left there
    # depends on which of the morning's bags were placebos: a plan that used
    # it would let the add-on's label times depend on other participants' arms.
    add_on = day("CARE-004,month-0,60 kg,2026-11-25T10:00:00-05:00\n", "add-on")
    assert add_on.returncode == 0, add_on.stderr
    pick = (tmp_path / "add-on" / "pick-list.txt").read_text()
    # The ledger as verified before the add-on: event 4, with its hash.
    head = dp.Ledger(db).events()[3]["hash"]
    assert pick == (
        "PICK LIST: CARE-SSc (containers to take from the freezer, in thaw order)\n"
        f"Ledger verified before this day: event 4, head {head}\n"
        "2026-11-25 09:30 EST  thaw lot UC-0042  container 3\n"
        "Lot UC-0042: 9 containers left in the freezer\n"
    )
    summary = (tmp_path / "add-on" / "summary.txt").read_text()
    assert summary.splitlines()[1] == f"Ledger verified before this day: event 4, head {head}"
    [row] = list(csv.DictReader((tmp_path / "add-on" / "day.csv").read_text().splitlines()[1:]))
    assert row["containers"] == "UC-0042#3:4.8mL"
    assert row["thaw_session"] == "2026-11-25T09:30:00-05:00"
    # Planned, not thawed: #1 to #3 are set aside, still in the freezer.
    balance = dp.Ledger(db).balance("UC-0042")
    assert (balance.thawed, balance.on_hand) == (0, 12)
    assert dp.Ledger(db).in_stock("UC-0042") == list(range(4, 13))
    assert dp.Ledger(db).verify().ok
    # Every bag of the day printed again from the ledger alone, byte for
    # byte as the three runs printed them.
    reprinted = subprocess.run(
        [str(DOSEPREP), "reprint", str(db), "--date", "2026-11-25", "--out",
         str(tmp_path / "again")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert reprinted.returncode == 0, reprinted.stderr
    assert reprinted.stdout == f"reprinted 4 bag(s) from the ledger to {tmp_path / 'again'}/\n"
    first_prints = {
        path.name: path.read_bytes()
        for run in ("first", "fixed", "add-on")
        for path in (tmp_path / run / "bags").iterdir()
    }
    again = {path.name: path.read_bytes() for path in (tmp_path / "again" / "bags").iterdir()}
    assert len(again) == 12
    assert again == first_prints
    bag_id = row["bag_id"]
    typed = bag_id[:5].lower() + "-" + bag_id[5:]
    assert (
        dp.Ledger(db).reprint(typed).blinded_label() == first_prints[f"{bag_id}.label.txt"].decode()
    )


def test_a_second_shipment_of_a_lot_is_numbered_on(tmp_path: Path) -> None:
    db = tmp_path / "pharmacy.db"
    (tmp_path / "lots.toml").write_text(TWELVE_CONTAINERS_TOML)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DOSEPREP), "ledger", *args], capture_output=True, text=True, check=False,
            timeout=60,
        )  # fmt: skip

    assert run("init", str(db)).returncode == 0
    lots = str(tmp_path / "lots.toml")
    for at, expected in [
        (RECEIVED_AT, "event 1: received lot UC-0042, containers 1 to 12\n"),
        ("2026-11-27T10:00:00-05:00", "event 2: received lot UC-0042, containers 13 to 24\n"),
    ]:
        received = run("receive", str(db), lots, "--at", at, "--initials", "MH")
        assert received.stdout == expected, received.stderr
    ledger = dp.Ledger(db)
    ledger.thaw("UC-0042", [1, 13], at="2026-11-28T08:30:00-05:00", initials="MH")
    del ledger
    balance = run("balance", str(db))
    assert balance.stdout == (
        "lot UC-0042: received 24, thawed 2, destroyed 0 (and 0 after thaw), returned 0, shipped 0,"
        " on hand 22\n"
        "  receipt of event 1: received 12, thawed 1, destroyed 0 (and 0 after thaw),"
        " returned 0, shipped 0, on hand 11\n"
        "  receipt of event 2: received 12, thawed 1, destroyed 0 (and 0 after thaw),"
        " returned 0, shipped 0, on hand 11\n"
    )


def test_a_checkpoint_kept_elsewhere_catches_a_rehashed_tail(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]], tmp_path: Path
) -> None:
    """A forger with the file and the README rewrites event 3 and re-hashes
    every event after it: the chain verifies alone, not against the
    checkpoint the command wrote before."""
    ledger, _ = recorded_file
    path = ledger.path
    kept = tmp_path / "checkpoints.jsonl"
    written = subprocess.run(
        [str(DOSEPREP), "ledger", "checkpoint", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    kept.write_text(written.stdout)
    checkpoint = dp.Checkpoint.from_json(written.stdout)
    assert (checkpoint.seq, checkpoint.head) == (8, ledger.events()[-1]["hash"])
    assert ledger.checkpoint().head == checkpoint.head
    assert ledger.verify(checkpoints=[checkpoint]).ok
    del ledger
    previous = _rows(path)[1]["hash"]
    statements = [UNGUARD]
    for row in _rows(path)[2:]:
        if row["seq"] == 3:
            row["initials"] = "XX"
        row["prev_hash"] = previous
        row["hash"] = _hash(row)
        statements.append(
            f"UPDATE event SET initials = '{row['initials']}', prev_hash = '{previous}',"
            f" hash = '{row['hash']}' WHERE seq = {row['seq']};"
        )
        previous = row["hash"]
    statements.append(f"UPDATE head SET hash = '{previous}';")
    _sql(path, "".join(statements))
    forged = dp.Ledger(path)
    assert forged.verify().ok  # alone, the forgery holds
    caught = forged.verify(checkpoints=[checkpoint])
    assert caught.problem_seq == 8
    assert (caught.problem or "").startswith("event 8 is not the event the checkpoint taken at")
    command = subprocess.run(
        [str(DOSEPREP), "ledger", "verify", str(path), "--checkpoints", str(kept)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert command.returncode == 1
    assert "ledger does NOT verify: event 8 is not the event the checkpoint" in command.stdout


def test_a_verify_since_a_checkpoint_holds_on_each_store(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, _ = recorded
    checkpoint = ledger.checkpoint()
    ledger.reconcile("UC-0042", counted=10, at="2026-11-25T17:00:00-05:00", initials="MH")
    since = ledger.verify(scope="chain", since=checkpoint)
    assert (since.ok, since.checked_after, since.events) == (True, 8, 9), since.problem
    line = {"seq": 8, "head": "1" * 64, "taken_at": "2026-11-25T16:00:00Z"}
    other = ledger.verify(scope="chain", since=dp.Checkpoint.from_json(json.dumps(line)))
    assert (other.problem_seq, other.checked_after) == (8, 8)
    assert "event 8 hashes differently from when the checkpoint" in (other.problem or "")
    line = {"seq": 12, "head": checkpoint.head, "taken_at": "2026-11-25T16:00:00Z"}
    gone = ledger.verify(scope="chain", since=dp.Checkpoint.from_json(json.dumps(line)))
    assert "event 12, which the checkpoint taken at" in (gone.problem or "")


def test_a_verify_since_a_checkpoint_reads_only_the_events_after_it(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]], tmp_path: Path
) -> None:
    """The daily check from the last checkpoint: the events after it are
    checked (an edit there is found), the ones before it are not read (an
    edit there is left to the full verify), and a rewrite up to it that
    re-hashes its event is caught by the checkpoint's head."""
    ledger, _ = recorded_file
    path = ledger.path
    checkpoint = ledger.checkpoint()
    assert checkpoint.seq == 8

    def checkpoint_of(seq: int, head: str) -> dp.Checkpoint:
        line = {"seq": seq, "head": head, "taken_at": "2026-11-25T16:00:00Z"}
        return dp.Checkpoint.from_json(json.dumps(line))

    # From the start (event 0): the whole chain; from the head: nothing
    # after it, the head still its event's.
    start = ledger.verify(scope="chain", since=checkpoint_of(0, "0" * 64))
    assert (start.ok, start.checked_after, start.events) == (True, 0, 8)
    at_head = ledger.verify(scope="chain", since=checkpoint)
    assert (at_head.ok, at_head.checked_after, at_head.events) == (True, 8, 8)
    earlier = checkpoint_of(5, _rows(Path(path))[4]["hash"])
    ledger.reconcile("UC-0042", counted=10, at="2026-11-25T17:00:00-05:00", initials="MH")
    since = ledger.verify(scope="chain", since=checkpoint)
    assert since.ok, since.problem
    assert (since.scope, since.checked_after, since.events) == ("chain", 8, 9)
    assert ledger.verify(scope="chain").checked_after == 0
    with pytest.raises(dp.InvalidInputError, match='give scope="chain" with since='):
        ledger.verify(since=checkpoint)
    # The command, from the last line of a file of checkpoints.
    kept = tmp_path / "checkpoints.jsonl"
    kept.write_text(ledger.checkpoint().to_json() + "\n" + checkpoint.to_json() + "\n")

    def command(*scope: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DOSEPREP), "ledger", "verify", str(path), *scope, "--since", str(kept)],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    chain = command("--scope", "chain")
    assert chain.returncode == 0, chain.stderr
    assert chain.stdout.startswith("ledger chain verified after event 8 (hashes, links and head;")
    assert ": 9 events, head " in chain.stdout
    full = command()
    assert full.returncode != 0
    assert "cannot start at a checkpoint; give --scope chain with --since" in full.stderr
    del ledger
    # Event 9, after the checkpoint, edited: found.
    _sql(path, UNGUARD + "UPDATE event SET initials = 'XX' WHERE seq = 9;")
    after = dp.Ledger(path).verify(scope="chain", since=checkpoint)
    assert (after.problem_seq, after.checked_after) == (9, 8)
    assert "event 9 was changed after it was recorded" in (after.problem or "")
    _sql(path, "UPDATE event SET initials = 'MH' WHERE seq = 9;")
    assert dp.Ledger(path).verify(scope="chain", since=checkpoint).ok
    # Event 3, before it, edited: not read since the checkpoint; the full
    # verify finds it.
    _sql(path, "UPDATE event SET initials = 'XX' WHERE seq = 3;")
    assert dp.Ledger(path).verify(scope="chain", since=checkpoint).ok
    assert dp.Ledger(path).verify().problem_seq == 3
    # An earlier checkpoint given with it is vouched for as `since` is, its
    # event re-hashed: event 5 edited (its stored hash left) is found.
    assert dp.Ledger(path).verify(scope="chain", since=checkpoint, checkpoints=[earlier]).ok
    _sql(path, "UPDATE event SET initials = 'XX' WHERE seq = 5;")
    held = dp.Ledger(path).verify(scope="chain", since=checkpoint, checkpoints=[earlier])
    assert (held.problem_seq, held.checked_after) == (5, 8)
    assert "event 5, the checkpoint's, was changed" in (held.problem or "")
    # Event 8, the checkpoint's own, rewritten and re-hashed: its hash is
    # not the one the checkpoint saw.
    row = _rows(Path(path))[7]
    row["initials"] = "XY"
    _sql(path, f"UPDATE event SET initials = 'XY', hash = '{_hash(row)}' WHERE seq = 8;")
    rewritten = dp.Ledger(path).verify(scope="chain", since=checkpoint)
    assert rewritten.problem_seq == 8
    assert "event 8 hashes differently from when the checkpoint" in (rewritten.problem or "")
    # Event 8, the checkpoint's own, edited: found.
    _sql(path, "UPDATE event SET initials = 'XX' WHERE seq = 8;")
    own = dp.Ledger(path).verify(scope="chain", since=checkpoint)
    assert own.problem_seq == 8
    assert "event 8, the checkpoint's, was changed" in (own.problem or "")


def test_an_archive_verifies_without_doseprep_and_names_what_was_changed(
    recorded_file: tuple[dp.Ledger, list[dp.Preparation]], tmp_path: Path
) -> None:
    import jsonschema

    ledger, _ = recorded_file
    earlier = ledger.checkpoint()
    # A comment with a line separator (U+2028), which JSON writes as itself.
    ledger.reconcile("UC-0042", counted=10, at="2026-11-25T17:00:00-05:00", initials="MH",
                     comment="counted twice\u2028agrees")  # fmt: skip
    folder = tmp_path / "archive"
    taken = ledger.archive(folder, checkpoints=[earlier])
    assert (taken.seq, taken.head) == (9, ledger.events()[-1]["hash"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "FORMAT.md",
        "SHA256SUMS",
        "body.schema.json",
        "checkpoints.jsonl",
        "event.schema.json",
        "events.jsonl",
        "verify.py",
    ]
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)
    # Python without site-packages: doseprep cannot even be imported there.
    bare = [sys.executable, "-I", "-S"]
    assert subprocess.run([*bare, "-c", "import doseprep"], capture_output=True).returncode == 1

    def verify(*kept: str) -> str:
        run = subprocess.run(
            [*bare, str(folder / "verify.py"), *kept], capture_output=True, text=True
        )
        assert run.returncode == (0 if run.stdout.startswith("archive verified") else 1)
        return run.stdout

    assert verify() == f"archive verified: 9 events, head {taken.head}, 2 checkpoints held\n"
    # Every line, and every body parsed, is what the schemas the archive ships say.
    lines = (folder / "events.jsonl").read_text("utf-8").split("\n")[:-1]
    assert "\u2028" in lines[-1]
    event_schema = json.loads((folder / "event.schema.json").read_text("utf-8"))
    body_schema = json.loads((folder / "body.schema.json").read_text("utf-8"))
    for line in lines:
        event = json.loads(line)
        jsonschema.validate(event, event_schema)
        jsonschema.validate(json.loads(event["body"]), body_schema)
    archived = [json.loads(line) for line in lines]
    assert [{**e, "body": json.loads(e["body"])} for e in archived] == ledger.events()

    # A changed line, with SHA256SUMS made again to match: the chain names it.
    def rewrite(line_number: int, change: dict[str, Any]) -> None:
        edited = [*lines]
        edited[line_number - 1] = json.dumps({**json.loads(lines[line_number - 1]), **change})
        (folder / "events.jsonl").write_text("\n".join(edited) + "\n", "utf-8")

    rewrite(3, {"initials": "XX"})
    assert verify().startswith("archive does NOT verify: SHA256SUMS line 1: events.jsonl was")
    sums = (folder / "SHA256SUMS").read_text("utf-8").splitlines()
    digest = hashlib.sha256((folder / "events.jsonl").read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(
        "\n".join([f"{digest}  events.jsonl", *sums[1:]]) + "\n", "utf-8"
    )
    assert verify() == (
        "archive does NOT verify: event 3 was changed: its hash does not match its contents\n"
    )
    # A forger with the whole folder re-hashes every event from 3 and writes
    # the checkpoints and the sums again: the folder alone verifies, a
    # checkpoint kept elsewhere does not.
    forged, previous = [], archived[1]["hash"]
    for event in archived:
        if event["seq"] >= 3:
            event = {**event, "initials": "XX" if event["seq"] == 3 else event["initials"]}
            event["prev_hash"] = previous
            event["hash"] = _hash(event)
        previous = event["hash"]
        forged.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
    (folder / "events.jsonl").write_text("\n".join(forged) + "\n", "utf-8")
    (folder / "checkpoints.jsonl").write_text(
        json.dumps({"seq": 9, "head": previous, "taken_at": "2026-12-01T00:00:00Z"}) + "\n"
    )
    (folder / "SHA256SUMS").write_text(
        "".join(
            f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n"
            for name in [line.split("  ")[1] for line in sums]
        )
    )
    assert verify() == f"archive verified: 9 events, head {previous}, 1 checkpoints held\n"
    kept = tmp_path / "checkpoints.jsonl"
    for line, says in (("{not json", "is not JSON"), ('{"seq": 8}', "does not give seq and head")):
        kept.write_text(line + "\n", "utf-8")
        assert verify("--checkpoints", str(kept)).startswith(
            f"archive does NOT verify: checkpoints.jsonl line 1 {says}"
        )
    kept.write_text(earlier.to_json() + "\n", "utf-8")
    assert verify("--checkpoints", str(kept)) == (
        "archive does NOT verify: checkpoints.jsonl line 1: event 8 hashes differently than"
        " when checkpointed\n"
    )
    # The command archives the same events, and a checkpoint that does not
    # match the ledger is refused before anything is written.
    again = subprocess.run(
        [str(DOSEPREP), "ledger", "archive", str(ledger.path), str(tmp_path / "again"),
         "--checkpoints", str(kept)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "events.jsonl").read_text("utf-8") == "\n".join(lines) + "\n"
    wrong = dp.Checkpoint.from_json(
        json.dumps({"seq": 3, "head": "f" * 64, "taken_at": "2026-11-25T22:00:00Z"})
    )
    with pytest.raises(dp.FaultError, match="event 3"):
        ledger.archive(tmp_path / "refused", checkpoints=[wrong])
    assert not (tmp_path / "refused").exists()


def test_a_mistyped_date_is_corrected_with_its_reason_from_python_and_the_command(
    recorded: tuple[dp.Ledger, list[dp.Preparation]],
) -> None:
    ledger, (first, _, _) = recorded
    bag_id = first.bag_id or ""
    # 9: dispensed at 09:00 on the 25th, typed as the 26th.
    ledger.dispense(bag_id, to="ward 5", at="2026-11-26T09:00:00-05:00", initials="MH")
    with pytest.raises(dp.LedgerError) as refused:
        ledger.administer(bag_id, participant="CARE-001", started_at="2026-11-25T09:05:00-05:00",
                          ended_at="2026-11-25T09:35:00-05:00", initials="RN")  # fmt: skip
    assert refused.value.code == "out_of_time_order"
    assert "before its dispensing (event 9) at 2026-11-26 09:00 EST" in str(refused.value)
    corrected = subprocess.run(
        [str(DOSEPREP), "ledger", "correct", ledger.location, "9",
         "--reason", "typed the 26th for the 25th",
         "--corrected-at", "2026-11-25T09:00:00-05:00",
         "--at", datetime.now(timezone.utc).isoformat(), "--initials", "MH"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert corrected.returncode == 0, corrected.stderr
    assert corrected.stdout == "event 10: event 9 corrected (typed the 26th for the 25th)\n"
    ledger.administer(bag_id, participant="CARE-001", started_at="2026-11-25T09:05:00-05:00",
                      ended_at="2026-11-25T09:35:00-05:00", initials="RN")  # fmt: skip
    # 12: the recipient corrected from Python.
    # A correction is made after the event it corrects was written: now.
    recipient = ledger.correct(
        9, reason="went to ward 6", to="ward 6", at=datetime.now(timezone.utc), initials="MH"
    )
    assert recipient == 12
    rows = list(csv.DictReader(ledger.export_csv().splitlines()))
    assert (rows[8]["date"], rows[8]["dose"]) == (
        "2026-11-25T09:00:00-05:00",
        "dispensed to ward 6",
    )
    assert rows[9]["dose"] == (
        "corrected event 9: at 2026-11-25T09:00:00-05:00 (was 2026-11-26T09:00:00-05:00): "
        "typed the 26th for the 25th"
    )
    assert rows[11]["dose"] == "corrected event 9: to ward 6 (was ward 5): went to ward 6"
    review = ledger.audit(late_after="30000 h")
    assert [(f["seq"], f["kind"]) for f in review["findings"]] == [
        (10, "correction"),
        (12, "correction"),
    ]
    assert ledger.verify().ok


def test_a_short_infusion_gives_its_reason_from_python_and_the_command(tmp_path: Path) -> None:
    """At a site whose shortest infusion is 20 min, a 12-minute infusion
    is refused without short_reason and recorded with it; the command's
    --short-reason is the same."""
    from conftest import CARE_SSC_TOML

    line = 'infusion_duration = "30 min"'
    protocol = dp.Protocol.from_toml(
        CARE_SSC_TOML.replace(line, 'shortest_infusion = "20 min"\n' + line)
    )
    db = tmp_path / "pharmacy.db"
    ledger = dp.Ledger.create(db)
    for participant, bag_id in (("CARE-015", "0000000015E"), ("CARE-016", "00000000168")):
        bag = dp.prepare(
            protocol, participant=participant, weight="72.4 kg", arm="C", visit="month-0",
            lot=dp.Lot(lot_id="UC-0042", viable_cells_per_ml=12.5e6, viability=0.93,
                       container_volume_ml=10, containers=4, dmso_fraction=0.05),
            thawed_at="2026-11-25T08:30:00-05:00", bag_id=bag_id,
        )  # fmt: skip
        ledger.prepare(bag, at="2026-11-25T09:00:00-05:00", initials="MH")
    times = {"started_at": "2026-11-25T10:00:00-05:00", "ended_at": "2026-11-25T10:12:00-05:00"}
    with pytest.raises(dp.LedgerError) as refused:
        ledger.administer("0000000015E", participant="CARE-015", initials="RN", **times)
    assert refused.value.code == "short_infusion"
    assert refused.value.field == "short_reason"
    reason = "pump at 250 mL/h"
    ledger.administer(
        "0000000015E", participant="CARE-015", initials="RN", short_reason=reason, **times
    )
    command = [str(DOSEPREP), "ledger", "administer", str(db), "00000000168",
               "--participant", "CARE-016", "--started-at", times["started_at"],
               "--ended-at", times["ended_at"], "--initials", "RN"]  # fmt: skip
    without = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert without.returncode == 2
    assert "shorter than its site's shortest infusion of 20 min" in without.stderr
    given = subprocess.run(
        [*command, "--short-reason", "pump at 250 mL/h"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert given.returncode == 0, given.stderr
    assert ledger.verify().ok
    review = ledger.audit(late_after="24 h")
    short = [f for f in review["findings"] if f["kind"] == "short_infusion"]
    assert [f["seq"] for f in short] == [3, 4]
