"""Users and electronic signatures (21 CFR 11.50, 11.100, 11.200): a ledger
with users signs every event, a second user checks each bag before it is
dispensed, failed sign-ins are recorded; from Python, from the command (a
real process, its passphrase piped on standard input), and read back by the
archive's own standard-library verifier."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from postgres_server import stored_events
from test_ledger import (
    DOSEPREP,
    RECEIVED_AT,
    TWELVE_CONTAINERS_TOML,
    _hash,
    plan,
    twelve_containers,
)

import doseprep as dp

ADMIN = "correct horse battery staple"
MH = "mh's own long passphrase"
JD = "jd checks every single bag"
THAWED = "2026-11-25T08:30:00-05:00"


def _staffed(db: Path | str) -> dp.Ledger:
    """A new ledger at `db` with an administrator, pharmacist mh and checker
    jd, each of whom changed the first passphrase the administrator gave."""
    ledger = dp.Ledger.create(db)
    ledger.register_user(
        "admin", full_name="Ada Admin", initials="AA", role="administrator", passphrase=ADMIN
    )
    ledger.sign_in("admin", passphrase=ADMIN)
    for user_id, name, initials, role, passphrase in [
        ("mh", "Marie Hébert", "MH", "pharmacist", MH),
        ("jd", "Jean Dubois", "JD", "checker", JD),
    ]:
        ledger.register_user(
            user_id,
            full_name=name,
            initials=initials,
            role=role,  # type: ignore[arg-type]
            passphrase=f"{user_id}'s first passphrase, from admin",
            signature=ADMIN,
        )
        ledger.change_passphrase(
            user_id, current=f"{user_id}'s first passphrase, from admin", new=passphrase
        )
    return ledger


def test_a_bag_is_prepared_checked_by_another_user_and_dispensed_signed(
    store: Callable[[str], str], protocol: dp.Protocol
) -> None:
    ledger = _staffed(store("pharmacy"))
    ledger.sign_in("mh", passphrase=MH)
    assert ledger.signed_in == "mh"
    ledger.receive(twelve_containers(), at=RECEIVED_AT, passphrase=MH)
    ledger.thaw("UC-0042", [1], at=THAWED, passphrase=MH)
    bag = dp.prepare(protocol, participant="CARE-001", weight="72.4 kg", arm="A",
                     visit="month-0", lot=twelve_containers(), thawed_at=THAWED,
                     bag_id="00000000012")  # fmt: skip
    ledger.prepare(bag, at="2026-11-25T09:00:00-05:00", passphrase=MH, draws=[("UC-0042", 1, 5.8)])
    with pytest.raises(dp.LedgerError) as refused:
        ledger.dispense("00000000012", to="ward 4", at="2026-11-25T09:40:00-05:00", initials="MH")
    assert refused.value.code == "signature_required"
    with pytest.raises(dp.LedgerError) as refused:
        ledger.check("00000000012", at="2026-11-25T09:20:00-05:00", passphrase=MH)
    assert refused.value.code == "same_checker"
    assert str(refused.value) == (
        "check: bag 00000000012 was prepared by mh, who cannot also check it; "
        "a second user (a checker or another pharmacist) signs the check"
    )
    ledger.sign_in("jd", passphrase=JD)
    ledger.check("00000000012", at="2026-11-25T09:20:00-05:00", passphrase=JD)
    ledger.sign_in("mh", passphrase=MH)
    with pytest.raises(TypeError, match="one of them"):
        ledger.dispense("00000000012", to="ward 4", at="2026-11-25T09:40:00-05:00",
                        initials="MH", passphrase=MH)  # fmt: skip
    ledger.dispense("00000000012", to="ward 4", at="2026-11-25T09:40:00-05:00", passphrase=MH)
    events = ledger.events()
    assert [(e["kind"], e["initials"], e["signer"], e["meaning"]) for e in events[1:]] == [
        ("register_user", "AA", "admin", "registered"),
        ("change_passphrase", "MH", None, None),
        ("register_user", "AA", "admin", "registered"),
        ("change_passphrase", "JD", None, None),
        ("receive", "MH", "mh", "received"),
        ("thaw", "MH", "mh", "thawed"),
        ("prepare", "MH", "mh", "prepared"),
        ("check", "JD", "jd", "checked"),
        ("dispense", "MH", "mh", "dispensed"),
    ]
    # The hash formula of the README, computed here on the stored rows.
    for event in stored_events(ledger.location):
        assert _hash(event) == event["hash"]
    assert [u["user_id"] for u in ledger.users()] == ["admin", "mh", "jd"]
    assert ledger.verify().ok


def test_a_signed_ledger_archives_and_its_verifier_recomputes_every_signature(
    tmp_path: Path, store: Callable[[str], str]
) -> None:
    import jsonschema

    ledger = _staffed(store("pharmacy"))
    ledger.sign_in("mh", passphrase=MH)
    ledger.receive(twelve_containers(), at=RECEIVED_AT, passphrase=MH)
    with pytest.raises(dp.LedgerError):
        ledger.sign_in("mh", passphrase="a wrong passphrase")
    folder = tmp_path / "archive"
    taken = ledger.archive(folder)
    bare = [sys.executable, "-I", "-S"]
    run = subprocess.run([*bare, str(folder / "verify.py")], capture_output=True, text=True)
    assert run.stdout == f"archive verified: 7 events, head {taken.head}, 1 checkpoints held\n"
    event_schema = json.loads((folder / "event.schema.json").read_text("utf-8"))
    body_schema = json.loads((folder / "body.schema.json").read_text("utf-8"))
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    for line in lines:
        event = json.loads(line)
        jsonschema.validate(event, event_schema)
        jsonschema.validate(json.loads(event["body"]), body_schema)
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == ["register_user"] + ["register_user", "change_passphrase"] * 2 + [
        "receive",
        "sign_in_failed",
    ]
    # No passphrase, nor its hash, travels with the archive.
    text = "".join(p.read_text("utf-8") for p in folder.iterdir())
    assert MH not in text
    assert "$argon2id$" not in text
    review = ledger.audit(late_after="30000 h")
    assert [f["kind"] for f in review["findings"]] == ["access_change"] * 5 + ["failed_sign_in"]
    # A signature a person reads names the signer, as the registry does, and
    # what it means (21 CFR 11.50): in the review and the accountability log.
    assert [(f["signed_by"], f["signer_name"], f["meaning"]) for f in review["findings"]] == [
        (None, None, None),
        ("admin", "Ada Admin", "registered"),
        (None, None, None),
        ("admin", "Ada Admin", "registered"),
        (None, None, None),
        (None, None, None),
    ]
    assert "(signed by Ada Admin (admin) as registered)" in review["text"]
    rows = list(csv.DictReader(io.StringIO(ledger.export_csv())))
    assert [(r["event"], r["signed_by"], r["signer_name"], r["meaning"]) for r in rows][-2:] == [
        ("receive", "mh", "Marie Hébert", "received"),
        ("sign_in_failed", "", "", ""),
    ]


def _command(*args: str, passphrases: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOSEPREP), *args], input=passphrases, capture_output=True, text=True, timeout=60
    )


def test_the_command_registers_users_and_signs_with_a_passphrase_on_standard_input(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "pharmacy.db")
    lots = tmp_path / "lots.toml"
    lots.write_text(TWELVE_CONTAINERS_TOML)
    assert _command("ledger", "init", db).returncode == 0
    first = _command("ledger", "add-user", db, "admin", "--full-name", "Ada Admin",
                     "--initials", "AA", "--role", "administrator",
                     passphrases=ADMIN + "\n")  # fmt: skip
    assert (first.returncode, first.stdout) == (
        0,
        "event 1: user admin (Ada Admin, administrator) registered\n",
    )
    first_mh = "mh's first passphrase, from admin"
    added = _command("ledger", "add-user", db, "mh", "--full-name", "Marie Hébert",
                     "--initials", "MH", "--role", "pharmacist", "--signer", "admin",
                     passphrases=f"{ADMIN}\n{first_mh}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    # The passphrase the administrator set signs nothing: mh makes their own.
    unchanged = _command("ledger", "receive", db, str(lots), "--at", RECEIVED_AT, "--user", "mh",
                         passphrases=first_mh + "\n")  # fmt: skip
    assert unchanged.returncode == 2
    assert "change it first" in unchanged.stderr, unchanged.stderr
    changed = _command("ledger", "change-passphrase", db, "mh", passphrases=f"{first_mh}\n{MH}\n")
    assert changed.stdout == "event 3: user mh changed their passphrase\n", changed.stderr
    users = _command("ledger", "users", db)
    assert users.stdout.splitlines() == [
        "admin\tAda Admin\tAA\tadministrator\tregistered at event 1",
        "mh\tMarie Hébert\tMH\tpharmacist\tregistered at event 2",
    ]
    initials = _command("ledger", "receive", db, str(lots), "--at", RECEIVED_AT, "--initials", "MH")
    assert initials.returncode == 2
    assert "signature_required" not in initials.stderr  # the message, not the code
    assert "every event is signed (here: received)" in initials.stderr
    wrong = _command("ledger", "receive", db, str(lots), "--at", RECEIVED_AT, "--user", "mh",
                     passphrases="not it at all, sorry\n")  # fmt: skip
    assert wrong.returncode == 2
    assert "the failed attempt is recorded as event 4" in wrong.stderr
    signed = _command("ledger", "receive", db, str(lots), "--at", RECEIVED_AT, "--user", "mh",
                      passphrases=MH + "\n")  # fmt: skip
    assert signed.stdout == "event 5: received lot UC-0042, containers 1 to 12\n", signed.stderr
    rows = sqlite3.connect(db).execute("SELECT seq, kind, signer, meaning FROM event").fetchall()
    assert rows == [
        (1, "register_user", None, None),
        (2, "register_user", "admin", "registered"),
        (3, "change_passphrase", None, None),
        (4, "sign_in_failed", None, None),
        (5, "receive", "mh", "received"),
    ]
    review = _command("ledger", "audit", db, "--late-after", "30000 h")
    assert "event 4 sign_in_failed [failed_sign_in]" in review.stdout, review.stdout
    # A checkpoint taken signed in names who took it.
    taken = _command("ledger", "checkpoint", db, "--user", "mh", passphrases=MH + "\n")
    checkpoint = dp.Checkpoint.from_json(taken.stdout)
    assert (checkpoint.seq, checkpoint.taken_by) == (5, "mh")
    assert json.loads(taken.stdout)["taken_by"] == "mh"


def test_the_command_changes_a_passphrase_and_disables_a_user(tmp_path: Path) -> None:
    db = tmp_path / "pharmacy.db"
    _staffed(db)
    new = "a brand new long passphrase"
    changed = _command("ledger", "change-passphrase", str(db), "jd", passphrases=f"{JD}\n{new}\n")
    assert changed.stdout == "event 6: user jd changed their passphrase\n", changed.stderr
    disabled = _command("ledger", "disable-user", str(db), "jd", "--reason", "left the pharmacy",
                        "--user", "admin", passphrases=ADMIN + "\n")  # fmt: skip
    assert disabled.stdout == "event 7: user jd disabled (left the pharmacy)\n", disabled.stderr
    assert _command("ledger", "users", str(db)).stdout.splitlines()[2] == (
        "jd\tJean Dubois\tJD\tchecker\tregistered at event 4, disabled at event 7"
    )
    reset = _command("ledger", "reset-passphrase", str(db), "mh", "--user", "admin",
                     passphrases=f"{ADMIN}\nmh's passphrase, reset\n")  # fmt: skip
    assert reset.stdout == "event 8: passphrase of user mh reset\n", reset.stderr
    ledger = dp.Ledger(db)
    # A reset passphrase, which the administrator knows, signs nothing: mh
    # changes it first.
    with pytest.raises(dp.LedgerError) as refused:
        ledger.sign_in("mh", passphrase="mh's passphrase, reset")
    assert refused.value.code == "passphrase_not_changed"
    ledger.change_passphrase("mh", current="mh's passphrase, reset", new=MH)
    ledger.sign_in("mh", passphrase=MH)
    ledger.sign_in("admin", passphrase=ADMIN)
    ledger.reset_passphrase("mh", new="mh's second reset one", signature=ADMIN)
    ledger.change_passphrase("mh", current="mh's second reset one", new=MH + " again")
    ledger.sign_in("mh", passphrase=MH + " again")
    with pytest.raises(dp.LedgerError) as refused:
        ledger.sign_in("jd", passphrase=new)
    assert refused.value.code == "sign_in_failed"
    assert ledger.users()[2]["disabled_seq"] == 7
    assert ledger.verify().ok


def test_a_day_published_with_a_wrong_passphrase_records_the_failure_and_nothing_else(
    tmp_path: Path, store: Callable[[str], str], protocol: dp.Protocol
) -> None:
    ledger = _staffed(store("pharmacy"))
    ledger.sign_in("mh", passphrase=MH)
    ledger.receive(twelve_containers(), at=RECEIVED_AT, passphrase=MH)
    day = plan(protocol)
    with pytest.raises(dp.LedgerError) as refused:
        day.publish(tmp_path / "day", ledger=ledger, passphrase="not mh's passphrase")
    assert refused.value.code == "sign_in_failed"
    assert not (tmp_path / "day").exists()
    assert [e["kind"] for e in ledger.events()[-2:]] == ["receive", "sign_in_failed"]
    assert ledger.signed_in is None
    ledger.sign_in("mh", passphrase=MH)
    recorded = day.publish(tmp_path / "day", ledger=ledger, passphrase=MH)
    assert [(e["kind"], e["signer"], e["meaning"]) for e in ledger.events()[-len(recorded) :]] == [
        ("plan", "mh", "planned")
    ] * 3


def test_past_the_late_entry_limit_an_event_gives_its_reason_from_python_and_the_command(
    tmp_path: Path,
) -> None:
    db = tmp_path / "pharmacy.db"
    ledger = _staffed(db)
    assert ledger.late_entry_after_min is None
    ledger.configure(late_entry_after="4 h", signature=ADMIN)
    assert ledger.late_entry_after_min == 240
    ledger.sign_in("mh", passphrase=MH)
    # Received on 2026-11-20, written now: far past 4 h.
    with pytest.raises(dp.LedgerError) as refused:
        ledger.receive(twelve_containers(), at=RECEIVED_AT, passphrase=MH)
    assert refused.value.code == "late_entry"
    seq = ledger.receive(twelve_containers(), at=RECEIVED_AT, passphrase=MH,
                         late_reason="transcribed from the paper log")  # fmt: skip
    assert ledger.events()[seq - 1]["late_reason"] == "transcribed from the paper log"
    lots = tmp_path / "lots.toml"
    lots.write_text(TWELVE_CONTAINERS_TOML.replace("UC-0042", "UC-0043"))
    late = _command("ledger", "receive", str(db), str(lots), "--at", RECEIVED_AT, "--user", "mh",
                    "--late-reason", "shipment logged on paper", passphrases=MH + "\n")  # fmt: skip
    assert late.returncode == 0, late.stderr
    csv_text = ledger.export_csv()
    assert "shipment logged on paper" in csv_text
    assert ledger.verify().ok
    configured = _command("ledger", "configure", str(db), "--late-entry-after", "90 s",
                          "--user", "admin", passphrases=ADMIN + "\n")  # fmt: skip
    assert configured.returncode == 2
    assert "1m 30s is not a whole number of minutes" in configured.stderr, configured.stderr
