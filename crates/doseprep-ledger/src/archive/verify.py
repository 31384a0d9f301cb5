#!/usr/bin/env python3
"""Verify a doseprep ledger archive with nothing but Python's standard library.

Usage: python3 verify.py [ARCHIVE_FOLDER]   (default: the folder of this file)

Checks, in order: every file against SHA256SUMS; every line of events.jsonl
(its fields, numbered 1, 2, 3, ... without a gap, linked to the hash of the
line before, its hash recomputed by the formula in FORMAT.md); and every line
of checkpoints.jsonl against the event it names. Prints "archive verified: ..."
and exits 0, or "archive does NOT verify: ..." naming the first problem and
exits 1. It imports nothing from doseprep, so it reads an archive for as long
as Python 3 runs.
"""

import hashlib
import json
import sys
from pathlib import Path

GENESIS = "0" * 64
FIELDS = ["seq", "kind", "at", "initials", "comment", "body", "prev_hash", "hash", "recorded_at"]


class Problem(Exception):
    """The first thing that does not verify."""


def event_hash(event):
    """SHA-256 of the compact JSON array of the hashed fields, UTF-8."""
    hashed = [event[name] for name in FIELDS[:7]]
    if event["recorded_at"] is not None:
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
    previous, timed_from = GENESIS, None
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except ValueError as error:
            raise Problem(f"events.jsonl line {number} is not JSON ({error})") from None
        if not isinstance(event, dict) or sorted(event) != sorted(FIELDS):
            raise Problem(f"events.jsonl line {number} does not have the fields {FIELDS}")
        seq = event["seq"]
        if seq != number:
            raise Problem(f"events.jsonl line {number} is event {seq}: an event is missing or moved")
        if event["prev_hash"] != previous:
            raise Problem(f"event {seq} does not link to the hash of event {seq - 1}")
        if event_hash(event) != event["hash"]:
            raise Problem(f"event {seq} was changed: its hash does not match its contents")
        if event["recorded_at"] is not None and timed_from is None:
            timed_from = seq
        if event["recorded_at"] is None and timed_from is not None:
            raise Problem(
                f"event {seq} has no recorded_at, but every event from event {timed_from} has one"
            )
        previous = hashes[seq] = event["hash"]
    return len(lines), previous, hashes


def check_checkpoints(folder, hashes):
    lines = [line for line in (folder / "checkpoints.jsonl").read_text("utf-8").splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        checkpoint = json.loads(line)
        seq, head = checkpoint["seq"], checkpoint["head"]
        if seq not in hashes:
            raise Problem(f"checkpoint line {number} names event {seq}, which the archive does not hold")
        if hashes[seq] != head:
            raise Problem(f"checkpoint line {number}: event {seq} hashes differently than when checkpointed")
    return len(lines)


def main(argv):
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    try:
        check_sums(folder)
        events, head, hashes = check_events(folder)
        checkpoints = check_checkpoints(folder, hashes)
    except (Problem, OSError, KeyError, TypeError, ValueError) as problem:
        print(f"archive does NOT verify: {problem}")
        return 1
    print(f"archive verified: {events} events, head {head}, {checkpoints} checkpoints held")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
