#!/usr/bin/env python3
"""Verify a doseprep ledger archive with nothing but Python's standard library.

Usage: python3 verify.py [ARCHIVE_FOLDER] [--checkpoints FILE]
       (default folder: the folder of this file)

Checks, in order: every file against SHA256SUMS; every line of events.jsonl
(its fields and their types, numbered 1, 2, 3, ... without a gap, linked to
the hash of the line before, its hash recomputed by the formula in
FORMAT.md); every line of checkpoints.jsonl against the event it names, the
last one naming the last event; and every line of FILE, checkpoints kept
outside the archive. Everything in the folder can be rewritten together by
someone who has it: only a checkpoint kept elsewhere (FILE) shows that the
events up to it are the ones first recorded. Prints "archive verified: ..."
and exits 0, or "archive does NOT verify: ..." naming the first problem and
exits 1. It imports nothing from doseprep, so it reads an archive for as long
as Python 3 runs.
"""

import hashlib
import json
import sys
from pathlib import Path

GENESIS = "0" * 64
FIELDS = [
    "seq", "kind", "at", "initials", "comment", "body", "prev_hash", "hash", "recorded_at",
    "signer", "meaning", "late_reason", "site", "workstation",
]
# The type each field must have: text, or text or null; seq an integer.
TEXT = ["kind", "at", "initials", "body", "prev_hash", "hash"]
TEXT_OR_NULL = [
    "comment", "recorded_at", "signer", "meaning", "late_reason", "site", "workstation",
]


class Problem(Exception):
    """The first thing that does not verify."""


def event_hash(event):
    """SHA-256 of the compact JSON array of the hashed fields, UTF-8."""
    hashed = [event[name] for name in FIELDS[:7]]
    if event["site"] is not None:
        hashed += [event[name] for name in FIELDS[8:]]
    elif event["late_reason"] is not None:
        hashed += [event["recorded_at"], event["signer"], event["meaning"], event["late_reason"]]
    elif event["signer"] is not None or event["meaning"] is not None:
        hashed += [event["recorded_at"], event["signer"], event["meaning"]]
    elif event["recorded_at"] is not None:
        hashed.append(event["recorded_at"])
    text = json.dumps(hashed, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_sums(folder):
    listed = set()
    for number, line in enumerate((folder / "SHA256SUMS").read_text("utf-8").splitlines(), 1):
        digest, _, name = line.partition("  ")
        data = (folder / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise Problem(f"SHA256SUMS line {number}: {name} was changed since it was archived")
        listed.add(name)
    for required in ("events.jsonl", "checkpoints.jsonl"):
        if required not in listed:
            raise Problem(f"SHA256SUMS does not list {required}")


def check_events(folder):
    hashes = {0: GENESIS}
    previous, timed_from, site_from, ledger_site = GENESIS, None, None, None
    # Split at "\n" only: a comment may hold U+2028 and the like, which
    # str.splitlines() would also split at.
    text = (folder / "events.jsonl").read_text("utf-8")
    lines = text.split("\n")
    if lines[-1] != "":
        raise Problem("events.jsonl does not end with a newline: it was cut short")
    lines = lines[:-1]
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise Problem(f"events.jsonl line {number} is not JSON ({error})") from None
        if not isinstance(event, dict) or sorted(event) != sorted(FIELDS):
            raise Problem(f"events.jsonl line {number} does not have the fields {FIELDS}")
        typed = (
            type(event["seq"]) is int
            and all(isinstance(event[name], str) for name in TEXT)
            and all(event[name] is None or isinstance(event[name], str) for name in TEXT_OR_NULL)
        )
        if not typed:
            raise Problem(f"events.jsonl line {number}: a field has the wrong type")
        seq = event["seq"]
        if seq != number:
            raise Problem(f"events.jsonl line {number} is event {seq}: an event is missing or moved")
        if event["prev_hash"] != previous:
            raise Problem(f"event {seq} does not link to the hash of event {seq - 1}")
        if event["late_reason"] is not None and event["signer"] is None:
            raise Problem(f"event {seq} gives a late_reason but is not signed")
        if (event["site"] is None) != (event["workstation"] is None):
            raise Problem(f"event {seq} names a site or a workstation without the other")
        # The hash before the event's site is read: an event changed is
        # named as changed, not as naming the wrong site.
        if event_hash(event) != event["hash"]:
            raise Problem(f"event {seq} was changed: its hash does not match its contents")
        if event["kind"] == "set_site":
            if ledger_site is not None:
                raise Problem(f"event {seq} sets the site again; a ledger's site is set once")
            try:
                body = json.loads(event["body"])
            except (ValueError, RecursionError):
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("site"), str):
                raise Problem(f"event {seq} sets the site, but its body names no site")
            ledger_site = body["site"]
        if event["site"] != ledger_site:
            raise Problem(
                f"event {seq} names the site {event['site']!r}; the ledger's site then is"
                f" {ledger_site!r}"
            )
        if event["site"] is not None and site_from is None:
            site_from = seq
        if event["site"] is None and site_from is not None:
            raise Problem(f"event {seq} names no site, but every event from event {site_from} does")
        if event["recorded_at"] is not None and timed_from is None:
            timed_from = seq
        if event["recorded_at"] is None and timed_from is not None:
            raise Problem(
                f"event {seq} has no recorded_at, but every event from event {timed_from} has one"
            )
        previous = hashes[seq] = event["hash"]
    return len(lines), previous, hashes


def check_checkpoints(path, hashes, last_is_head):
    lines = [line for line in path.read_text("utf-8").split("\n") if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            checkpoint = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise Problem(f"{path.name} line {number} is not JSON ({error})") from None
        if not isinstance(checkpoint, dict) or not {"seq", "head"} <= checkpoint.keys():
            raise Problem(f"{path.name} line {number} does not give seq and head")
        seq, head = checkpoint["seq"], checkpoint["head"]
        if type(seq) is not int or seq not in hashes:
            raise Problem(f"{path.name} line {number} names event {seq}, which the archive does not hold")
        if hashes[seq] != head:
            raise Problem(f"{path.name} line {number}: event {seq} hashes differently than when checkpointed")
    if last_is_head:
        last = json.loads(lines[-1])["seq"] if lines else None
        if last != max(hashes):
            raise Problem(
                f"{path.name} ends at event {last}, the archive at event {max(hashes)}: "
                "events were added after it was archived"
            )
    return len(lines)


def main(argv):
    arguments = argv[1:]
    kept = None
    if "--checkpoints" in arguments:
        at = arguments.index("--checkpoints")
        kept = Path(arguments[at + 1])
        del arguments[at : at + 2]
    folder = Path(arguments[0]) if arguments else Path(__file__).resolve().parent
    try:
        check_sums(folder)
        events, head, hashes = check_events(folder)
        checkpoints = check_checkpoints(folder / "checkpoints.jsonl", hashes, True)
        if kept is not None:
            checkpoints += check_checkpoints(kept, hashes, False)
    except (Problem, OSError, KeyError, TypeError, ValueError, IndexError, RecursionError) as problem:
        print(f"archive does NOT verify: {problem}")
        return 1
    print(f"archive verified: {events} events, head {head}, {checkpoints} checkpoints held")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
