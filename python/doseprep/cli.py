"""The ``doseprep`` command: the library's API for the pharmacy bench.

User mistakes print one line to stderr and exit with status 2 (1 for a batch
with failed rows, or a record that does not verify); never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import doseprep as dp

DEMO_THAWED_AT = "2026-11-25T09:00:00+00:00"
DEMO_LOT = {
    "lot_id": "UC-0042",
    "viable_cells_per_ml": 12.5e6,
    "viability": 0.93,
    "container_volume_ml": 10.0,
    "containers": 4,
    "dmso_fraction": 0.05,
}
DEMO_PARTICIPANT = "CARE-012"
DEMO_WEIGHT = "72.4 kg"


class UsageError(Exception):
    """A mistake in the command line or an input file."""


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {what} {path!r}: {error.strerror}") from None


def _protocol(path: str | None) -> dp.Protocol:
    return dp.Protocol.care_ssc() if path is None else dp.Protocol.from_file(path)


def _lot(path: str) -> dp.Lot:
    return dp.Lot.from_toml(_read_text(path, "lot file"))


def _rule(title: str) -> str:
    return f"--- {title} " + "-" * max(0, 72 - len(title))


def cmd_demo(_: argparse.Namespace) -> int:
    protocol = dp.Protocol.care_ssc()
    lot = dp.Lot(**DEMO_LOT)  # type: ignore[arg-type]
    print(f"{protocol.name}: participant {DEMO_PARTICIPANT}, {DEMO_WEIGHT}, lot {lot.lot_id}")
    print(
        f"lot: {lot.viable_cells_per_ml / 1e6:g} million viable cells/mL,"
        f" viability {lot.viability:g}, {lot.containers} x {lot.container_volume_ml:g} mL,"
        f" thawed {DEMO_THAWED_AT}"
    )
    print()
    bags: dict[tuple[str, str], dp.Preparation] = {}
    for arm in protocol.arms:
        for visit in protocol.visits:
            prep = dp.prepare(
                protocol,
                participant=DEMO_PARTICIPANT,
                weight=DEMO_WEIGHT,
                arm=arm,
                visit=visit,
                lot=lot,
                thawed_at=DEMO_THAWED_AT,
            )
            bags[arm, visit] = prep
            print(prep.summary())
    active, twin = bags["B", "month-0"], bags["C", "month-0"]
    print()
    print(_rule("worksheet: arm B, month-0 (active)"))
    print(active.worksheet())
    print(_rule("worksheet: arm C, month-0 (its matched placebo)"))
    print(twin.worksheet())
    print(_rule("blinded label: arm B, month-0 (active)"))
    print(active.blinded_label())
    print(_rule("blinded label: arm C, month-0 (placebo)"))
    print(twin.blinded_label())
    same = active.blinded_label() == twin.blinded_label()
    print(f"labels byte-identical: {'yes' if same else 'NO'}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    thawed_at = args.thawed_at or datetime.now().astimezone().isoformat()
    prep = dp.prepare(
        _protocol(args.protocol),
        participant=args.participant,
        weight=args.weight,
        arm=args.arm,
        visit=args.visit,
        lot=_lot(args.lot),
        thawed_at=thawed_at,
        prepared_at=args.prepared_at,
    )
    if args.json:
        print(prep.record().to_json())
    elif args.label_only:
        print(prep.blinded_label(), end="")
    elif args.worksheet_only:
        print(prep.worksheet(), end="")
    else:
        print(prep.worksheet())
        print(_rule("blinded label"))
        print(prep.blinded_label(), end="")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    verification = dp.verify(_read_text(args.record, "record"))
    if verification.verified_with_other_version:
        print(
            f"note: verified with doseprep {verification.verified_with_other_version},"
            " not the version that made the record"
        )
    if verification.ok:
        print(f"{args.record}: OK, every field recomputes to the recorded value")
        return 0
    for field, recorded, recomputed in verification.differences:
        print(f"{field}: recorded {recorded}, recomputed {recomputed}")
    print(f"{args.record}: {len(verification.differences)} difference(s)", file=sys.stderr)
    return 1


def _error_line(row: int, error: dp.DoseError | UsageError) -> str:
    kind = getattr(error, "kind", "usage")
    return json.dumps({"row": row, "ok": False, "error": kind, "message": str(error)})


def cmd_batch(args: argparse.Namespace) -> int:
    protocol = _protocol(args.protocol)
    lot = _lot(args.lot)
    text = _read_text(args.orders, "orders file")
    reader = csv.DictReader(text.splitlines())
    required = {"participant", "weight", "arm", "visit", "thawed_at"}
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise UsageError(
            f"orders file {args.orders!r} lacks the column(s) {', '.join(sorted(missing))};"
            " the header must name participant, weight, arm, visit, thawed_at"
            " (and optionally prepared_at)"
        )
    rows = list(reader)
    orders = [
        {key: value for key, value in row.items() if key in required or key == "prepared_at"}
        for row in rows
    ]
    for order in orders:
        if not order.get("prepared_at"):
            order.pop("prepared_at", None)
    failed = 0
    for row, result in enumerate(dp.prepare_many(protocol, orders, lot=lot), start=1):
        if isinstance(result, dp.DoseError):
            failed += 1
            print(_error_line(row, result))
        else:
            print(json.dumps({"row": row, "ok": True, "preparation": result.to_dict()}))
    if failed:
        print(f"doseprep: {failed} of {len(rows)} orders failed", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doseprep",
        description="Weight-based cell-therapy doses and matched placebo bags.",
    )
    parser.add_argument("--version", action="version", version=f"doseprep {dp.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="every arm and visit of CARE-SSc for an example")
    demo.set_defaults(run=cmd_demo)

    prepare = commands.add_parser("prepare", help="prepare one bag")
    prepare.add_argument("--participant", required=True)
    prepare.add_argument("--weight", required=True, help="with its unit: '72.4 kg' or '160 lb'")
    prepare.add_argument("--arm", required=True)
    prepare.add_argument("--visit", required=True)
    prepare.add_argument("--lot", required=True, help="lot TOML file")
    prepare.add_argument("--protocol", help="protocol TOML or JSON file (default: CARE-SSc)")
    prepare.add_argument(
        "--thawed-at", help="ISO 8601 time with offset (default: now, local offset)"
    )
    prepare.add_argument("--prepared-at", help="ISO 8601 time with offset (default: thaw time)")
    output = prepare.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the preparation record (JSON)")
    output.add_argument("--label-only", action="store_true", help="print only the blinded label")
    output.add_argument("--worksheet-only", action="store_true", help="print only the worksheet")
    prepare.set_defaults(run=cmd_prepare)

    batch = commands.add_parser("batch", help="a day's orders from CSV to JSON lines")
    batch.add_argument("orders", help="CSV: participant,weight,arm,visit,thawed_at[,prepared_at]")
    batch.add_argument("--lot", required=True, help="lot TOML file")
    batch.add_argument("--protocol", help="protocol TOML or JSON file (default: CARE-SSc)")
    batch.set_defaults(run=cmd_batch)

    verify = commands.add_parser("verify", help="recompute a preparation record and compare")
    verify.add_argument("record", help="a record written by 'doseprep prepare --json'")
    verify.set_defaults(run=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except (dp.DoseError, UsageError) as error:
        print(f"doseprep: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
