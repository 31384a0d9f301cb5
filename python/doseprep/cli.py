"""The ``doseprep`` command: the library's API for the pharmacy bench.

A user mistake (a bad argument, a missing file, a bad header) prints one
line to stderr and exits with status 2; a batch or a day with orders that
cannot be made exits 1, with each one's reason in its output; never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import doseprep as dp

DEMO_THAWED_AT = "2026-11-25T09:00:00-05:00"
DEMO_PREPARED_AT = "2026-11-25T09:20:00-05:00"
DEMO_LOT = """
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"""
DEMO_PARTICIPANT = "CARE-012"
DEMO_WEIGHT = "72.4 kg"
# A clinic morning: six participants, two thaw sessions.
DEMO_RANDOMIZATION = (
    "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\nCARE-004,B\nCARE-005,A\nCARE-006,C\n"
)
DEMO_DAY = [
    ("CARE-001", "month-0", "72.4 kg", "2026-11-25T09:00:00-05:00"),
    ("CARE-002", "month-0", "160 lb", "2026-11-25T09:30:00-05:00"),
    ("CARE-003", "month-3", "58 kg", "2026-11-25T10:00:00-05:00"),
    ("CARE-004", "month-3", "91.2 kg", "2026-11-25T11:30:00-05:00"),
    ("CARE-005", "month-3", "66 kg", "2026-11-25T12:00:00-05:00"),
    ("CARE-006", "month-0", "80 kg", "2026-11-25T12:30:00-05:00"),
]


class UsageError(Exception):
    """A mistake in the command line or an input file."""


def _protocol(path: str | None) -> dp.Protocol:
    return dp.Protocol.care_ssc() if path is None else dp.Protocol.from_file(path)


def _rule(title: str) -> str:
    return f"--- {title} " + "-" * max(0, 72 - len(title))


def _error_fields(error: dp.DoseError) -> dict[str, str | None]:
    return {
        "error": error.kind,
        "field": error.field,
        "value": error.value,
        "limit": error.limit,
        "fix": error.fix,
        "message": str(error),
    }


def cmd_demo(_: argparse.Namespace) -> int:
    protocol = dp.Protocol.care_ssc()
    lot = dp.Lot.from_toml(DEMO_LOT)
    print(f"{protocol.name}: participant {DEMO_PARTICIPANT}, {DEMO_WEIGHT}, lot {lot.lot_id}")
    print(
        f"lot: {lot.viable_cells_per_ml / 1e6:g} million viable cells/mL,"
        f" viability {lot.viability:g}, {lot.containers} x {lot.container_volume_ml:g} mL,"
        f" thawed {DEMO_THAWED_AT} (site clock {protocol.time_zone})"
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
                prepared_at=DEMO_PREPARED_AT,
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
    print()
    randomization = dp.Randomization.from_csv_text(DEMO_RANDOMIZATION, protocol=protocol)
    orders = [
        dp.DayOrder(participant=p, visit=v, weight=w, infusion_at=t) for p, v, w, t in DEMO_DAY
    ]
    plan = dp.plan_day(protocol, orders, lots=[lot], randomization=randomization)
    print(_rule("a planned day: summary for the ward"))
    print(plan.summary())
    print(_rule("pick list for the freezer (pharmacy)"))
    print(plan.pick_list())
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    prep = dp.prepare(
        _protocol(args.protocol),
        participant=args.participant,
        weight=args.weight,
        arm=args.arm,
        visit=args.visit,
        lot=dp.Lot.from_file(args.lot),
        thawed_at=args.thawed_at,
        prepared_at=args.prepared_at,
        infusion_at=args.infusion_at,
        baseline_weight=args.baseline_weight,
        bag_id=args.bag_id,
    )
    if args.pdf:
        out = Path(args.pdf)
        out.mkdir(parents=True, exist_ok=True)
        (out / "label.pdf").write_bytes(prep.label_pdf())
        (out / "worksheet.pdf").write_bytes(prep.worksheet_pdf())
        print(f"written to {out}/: label.pdf, worksheet.pdf", file=sys.stderr)
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
    verification = dp.verify(Path(args.record).read_text(encoding="utf-8"))
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


def cmd_batch(args: argparse.Namespace) -> int:
    protocol = _protocol(args.protocol)
    lot = dp.Lot.from_file(args.lot)
    rows = dp.Order.from_csv(args.orders)
    orders = [row for row in rows if isinstance(row, dp.Order)]
    prepared = iter(dp.prepare_many(protocol, orders, lot=lot))
    failed = 0
    for number, row in enumerate(rows, start=1):
        result = row if isinstance(row, dp.DoseError) else next(prepared)
        if isinstance(result, dp.DoseError):
            failed += 1
            print(json.dumps({"row": number, "ok": False, **_error_fields(result)}))
        else:
            print(json.dumps({"row": number, "ok": True, "preparation": result.to_dict()}))
    if failed:
        print(f"doseprep: {failed} of {len(rows)} orders failed", file=sys.stderr)
    return 1 if failed else 0


def _stock_from_ledger(ledger: dp.Ledger, lots: list[dp.Lot]) -> list[dp.Lot]:
    """The lots as the ledger holds them: the containers in stock, by their
    numbers. A lot with none left is skipped with a warning, so the day is
    planned with the others."""
    stocked = []
    for given in lots:
        numbers = ledger.in_stock(given.lot_id)
        if not numbers:
            print(
                f"doseprep: lot {given.lot_id}: the ledger has no container of it in stock;"
                " planned without it",
                file=sys.stderr,
            )
            continue
        lot = given.with_container_numbers(numbers)
        if given.containers != lot.containers:
            print(
                f"doseprep: lot {lot.lot_id}: the ledger has {lot.containers} containers"
                f" in stock, the lots file says {given.containers}; planned with the ledger's",
                file=sys.stderr,
            )
        stocked.append(lot)
    if not stocked:
        raise UsageError(
            "no lot of the lots file has a container in stock in the ledger;"
            " receive stock before planning the day"
        )
    return stocked


def _write_documents(
    folder: Path, plan: dp.DayPlan, planned: list[dp.Preparation], pdf: bool
) -> list[str]:
    """Every document of the day, into `folder`; returns the names written."""
    bags_dir = folder / "bags"
    bags_dir.mkdir()
    (folder / "pick-list.txt").write_text(plan.pick_list(), encoding="utf-8")
    (folder / "summary.txt").write_text(plan.summary(), encoding="utf-8")
    (folder / "day.csv").write_text(plan.day_csv(), encoding="utf-8")
    written = ["pick-list.txt", "summary.txt", "day.csv"]
    if pdf:
        # The ward's labels (blinded) and the pharmacy's worksheets (unblinded).
        (folder / "labels.pdf").write_bytes(dp.labels_pdf(planned))
        (folder / "worksheets.pdf").write_bytes(dp.worksheets_pdf(planned))
        written += ["labels.pdf", "worksheets.pdf"]
    _write_bags(bags_dir, planned)
    return [*written, "bags/"]


def _write_bags(folder: Path, bags: list[dp.Preparation]) -> None:
    """Each bag's label, worksheet and record, named by its bag id (digits
    and capitals only, so the file name is the id)."""
    for bag in bags:
        if bag.bag_id:
            stem = folder / bag.bag_id
            stem.with_suffix(".label.txt").write_text(bag.blinded_label(), encoding="utf-8")
            stem.with_suffix(".worksheet.txt").write_text(bag.worksheet(), encoding="utf-8")
            stem.with_suffix(".record.json").write_text(
                bag.record().to_json() + "\n", encoding="utf-8"
            )


def cmd_reprint(args: argparse.Namespace) -> int:
    ledger = dp.Ledger(args.db)
    bag_ids = list(args.bag or [])
    if args.date:
        # Every bag prepared that day on the site's clock and not destroyed,
        # in the ledger's order.
        events = ledger.events()
        destroyed = {e["body"]["bag_id"] for e in events if e["kind"] == "destroy_bag"}
        bag_ids += [
            event["body"]["bag_id"]
            for event in events
            if event["kind"] == "prepare"
            and event["at"].startswith(args.date)
            and event["body"]["bag_id"] not in destroyed
        ]
    if not bag_ids:
        raise UsageError("reprint takes --bag ID (one or more) or --date YYYY-MM-DD with bags")
    bags = [ledger.reprint(bag_id) for bag_id in bag_ids]
    out = _new_folder(args.out)

    def write(staging: Path) -> None:
        (staging / "bags").mkdir()
        _write_bags(staging / "bags", bags)
        if args.pdf:
            (staging / "labels.pdf").write_bytes(dp.labels_pdf(bags))
            (staging / "worksheets.pdf").write_bytes(dp.worksheets_pdf(bags))

    _publish(out, write)
    print(f"reprinted {len(bags)} bag(s) from the ledger to {out}/")
    return 0


def _publish(out: Path, write: Callable[[Path], None]) -> None:
    """Run `write` on a staging folder beside `out`, then rename it to `out`
    in one step; if `write` fails, the staging folder goes and `out` is
    never made."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        out.rmdir()
    staging.rename(out)


def _new_folder(path: str) -> Path:
    """--out: a folder that does not exist yet, or an empty one, so that the
    day's documents are published whole with one rename."""
    out = Path(path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"--out {out} already exists and is not an empty folder;"
            " give a new folder for this day's documents"
        )
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist; create it first")
    return out


def cmd_day(args: argparse.Namespace) -> int:
    if args.ledger and not args.initials:
        raise UsageError("--ledger needs --initials: who records the day")
    # Every file is checked before anything is planned, recorded or written.
    out = _new_folder(args.out)
    ledger = dp.Ledger(args.ledger) if args.ledger else None
    protocol = _protocol(args.protocol)
    randomization = dp.Randomization.from_csv(args.randomization, protocol=protocol)
    lots = dp.Lot.many_from_file(args.lots)
    rows = dp.DayOrder.from_csv(args.orders)
    if ledger is not None:
        lots = _stock_from_ledger(ledger, lots)
    # With a ledger, rows whose visit it holds a bag for are not planned
    # again: a rerun records only the rows that are new or fixed.
    plan = dp.plan_day(protocol, rows, lots=lots, randomization=randomization, ledger=ledger)
    planned = [bag for bag in plan.bags if isinstance(bag, dp.Preparation)]
    # Written whole to a staging folder beside --out, recorded, then
    # published with one rename: a failure or a kill at any step leaves
    # nothing recorded, or every document in place (or, killed between the
    # record and the rename, every document in the staging folder).
    written: list[str] = []
    recorded: list[int] = []

    def write_and_record(staging: Path) -> None:
        written.extend(_write_documents(staging, plan, planned, args.pdf))
        if ledger is not None and planned:
            recorded.extend(ledger.record_day(plan, initials=args.initials))

    _publish(out, write_and_record)
    print(plan.summary(), end="")
    print(f"written to {out}/: {', '.join(written)}")
    if recorded:
        print(f"recorded in the ledger: events {recorded[0]} to {recorded[-1]}")
    failed = sum(
        1
        for bag in plan.bags
        if isinstance(bag, dp.DoseError) and not isinstance(bag, dp.AlreadyRecordedError)
    )
    if failed:
        print(
            f"doseprep: {failed} of {len(plan.bags)} order rows not planned (see day.csv)",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _count(text: str) -> int:
    """A count of containers for argparse: a whole number from 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a count of containers from 0")
    return int(text)


def cmd_ledger_init(args: argparse.Namespace) -> int:
    dp.Ledger.create(args.db)
    print(f"{args.db}: a new, empty ledger")
    return 0


def cmd_ledger_receive(args: argparse.Namespace) -> int:
    ledger = dp.Ledger(args.db)
    for lot in dp.Lot.many_from_file(args.lots):
        # A later shipment of a lot is numbered on from its last container.
        before = ledger.balance(lot.lot_id).received if lot.lot_id in ledger.lot_ids() else 0
        seq = ledger.receive(lot, at=args.at, initials=args.initials, comment=args.comment)
        print(
            f"event {seq}: received lot {lot.lot_id},"
            f" containers {before + 1} to {before + lot.containers}"
        )
    return 0


def _containers(text: str) -> list[int]:
    """Container numbers for argparse: "1,2,5" (whole numbers from 1)."""
    numbers = [part.strip() for part in text.split(",")]
    if not numbers or not all(n.isdigit() and int(n) >= 1 for n in numbers):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of container numbers; give them as 1,2,5"
        )
    return [int(n) for n in numbers]


def cmd_ledger_dispense(args: argparse.Namespace) -> int:
    seq = dp.Ledger(args.db).dispense(
        args.bag, to=args.to, at=args.at, initials=args.initials, comment=args.comment
    )
    print(f"event {seq}: bag {args.bag} dispensed to {args.to}")
    return 0


def cmd_ledger_administer(args: argparse.Namespace) -> int:
    seq = dp.Ledger(args.db).administer(
        args.bag,
        participant=args.participant,
        started_at=args.started_at,
        ended_at=args.ended_at,
        initials=args.initials,
        override_reason=args.override_reason,
        comment=args.comment,
    )
    print(f"event {seq}: bag {args.bag} given to {args.participant}")
    return 0


def cmd_ledger_destroy(args: argparse.Namespace) -> int:
    ledger = dp.Ledger(args.db)
    who = {"at": args.at, "initials": args.initials, "comment": args.comment}
    if args.bag:
        seq = ledger.destroy_bag(args.bag, reason=args.reason, **who)
        print(f"event {seq}: bag {args.bag} destroyed ({args.reason})")
        return 0
    if not args.lot or not args.containers:
        raise UsageError("destroy takes --bag ID, or --lot ID with --containers 1,2")
    seq = ledger.destroy_containers(args.lot, args.containers, reason=args.reason, **who)
    numbers = ", ".join(map(str, args.containers))
    print(f"event {seq}: lot {args.lot} containers {numbers} destroyed ({args.reason})")
    return 0


def cmd_ledger_return(args: argparse.Namespace) -> int:
    seq = dp.Ledger(args.db).return_containers(
        args.lot, args.containers, at=args.at, initials=args.initials, comment=args.comment
    )
    numbers = ", ".join(map(str, args.containers))
    print(f"event {seq}: lot {args.lot} containers {numbers} returned")
    return 0


def cmd_ledger_balance(args: argparse.Namespace) -> int:
    ledger = dp.Ledger(args.db)
    for lot_id in args.lot or ledger.lot_ids():
        receipts = ledger.receipts(lot_id)
        shipments: list[tuple[int | None, str]] = [(None, f"lot {lot_id}")]
        if len(receipts) > 1:
            shipments += [(seq, f"  receipt of event {seq}") for seq in receipts]
        for receipt, name in shipments:
            b = ledger.balance(lot_id, receipt=receipt)
            print(
                f"{name}: received {b.received}, thawed {b.thawed}, destroyed {b.destroyed}"
                f" (and {b.destroyed_after_thaw} after thaw), returned {b.returned},"
                f" on hand {b.on_hand}"
            )
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    verification = dp.Ledger(args.db).verify()
    if verification.ok:
        print(f"ledger verified: {verification.events} events, head {verification.head}")
        return 0
    print(f"ledger does NOT verify: {verification.problem}")
    return 1


def cmd_ledger_reconcile(args: argparse.Namespace) -> int:
    count = dp.Ledger(args.db).reconcile(
        args.lot, counted=args.counted, at=args.at, initials=args.initials, comment=args.comment
    )
    if count.difference == 0:
        verdict = "agrees"
    elif count.difference < 0:
        verdict = f"{-count.difference} missing"
    else:
        verdict = f"{count.difference} more than expected"
    print(
        f"lot {count.lot_id}: counted {count.counted}, expected {count.expected}:"
        f" {verdict} (event {count.seq})"
    )
    return 0 if count.ok else 1


def cmd_ledger_export(args: argparse.Namespace) -> int:
    ledger = dp.Ledger(args.db)
    if args.fhir:
        text = ledger.export_fhir(args.fhir) + "\n"
    elif args.blinded:
        text = ledger.export_blinded_csv()
    else:
        text = ledger.export_csv()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doseprep",
        description=(
            "Weight-based cell-therapy doses, matched placebo bags, and the preparation day."
        ),
    )
    parser.add_argument("--version", action="version", version=f"doseprep {dp.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="every arm and visit of CARE-SSc, and a planned day")
    demo.set_defaults(run=cmd_demo)

    time_help = "ISO 8601 time with its offset, e.g. 2026-11-25T09:00:00-05:00"
    prepare = commands.add_parser("prepare", help="prepare one bag")
    prepare.add_argument("--participant", required=True)
    prepare.add_argument("--weight", required=True, help="with its unit: '72.4 kg' or '160 lb'")
    prepare.add_argument("--arm", required=True)
    prepare.add_argument("--visit", required=True)
    prepare.add_argument("--lot", required=True, help="lot TOML (or .json) file")
    prepare.add_argument("--protocol", help="protocol TOML or JSON file (default: CARE-SSc)")
    prepare.add_argument(
        "--thawed-at",
        required=True,
        help=f"{time_help}; for a placebo, the thaw time of its session",
    )
    prepare.add_argument("--prepared-at", help=time_help)
    prepare.add_argument("--infusion-at", help=f"scheduled start of the infusion: {time_help}")
    prepare.add_argument("--baseline-weight", help="with its unit, where the protocol doses on it")
    prepare.add_argument("--bag-id", help="the bag id to print on the label")
    prepare.add_argument(
        "--pdf", metavar="DIR", help="also write DIR/label.pdf and DIR/worksheet.pdf"
    )
    output = prepare.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the preparation record (JSON)")
    output.add_argument("--label-only", action="store_true", help="print only the blinded label")
    output.add_argument("--worksheet-only", action="store_true", help="print only the worksheet")
    prepare.set_defaults(run=cmd_prepare)

    batch = commands.add_parser("batch", help="orders from CSV to JSON lines")
    batch.add_argument(
        "orders",
        help="CSV: participant,weight,arm,visit,thawed_at"
        "[,prepared_at,infusion_at,baseline_weight,bag_id]",
    )
    batch.add_argument("--lot", required=True, help="lot TOML (or .json) file")
    batch.add_argument("--protocol", help="protocol TOML or JSON file (default: CARE-SSc)")
    batch.set_defaults(run=cmd_batch)

    verify = commands.add_parser("verify", help="recompute a preparation record and compare")
    verify.add_argument("record", help="a record written by 'doseprep prepare --json'")
    verify.set_defaults(run=cmd_verify)

    day = commands.add_parser("day", help="plan a preparation day and write its documents")
    day.add_argument(
        "orders", help="CSV: participant,visit,weight,infusion_at[,baseline_weight,arm]"
    )
    day.add_argument("--randomization", required=True, help="CSV: participant,arm")
    day.add_argument("--lots", required=True, help="TOML of [[lot]] tables (or .json)")
    day.add_argument("--out", required=True, help="directory for the day's files")
    day.add_argument("--protocol", help="protocol TOML or JSON file (default: CARE-SSc)")
    day.add_argument("--pdf", action="store_true", help="also write labels.pdf and worksheets.pdf")
    day.add_argument("--ledger", metavar="DB", help="record the planned day in this ledger")
    day.add_argument("--initials", help="who records the day in the ledger")
    day.set_defaults(run=cmd_day)

    reprint = commands.add_parser(
        "reprint", help="labels, worksheets and records made again from the ledger"
    )
    reprint.add_argument("db", help="the ledger file")
    reprint.add_argument("--bag", action="append", help="a bag id as printed (repeat for more)")
    reprint.add_argument("--date", help="every bag prepared that day, YYYY-MM-DD (site clock)")
    reprint.add_argument("--out", required=True, help="a new folder for the documents")
    reprint.add_argument("--pdf", action="store_true", help="also labels.pdf and worksheets.pdf")
    reprint.set_defaults(run=cmd_reprint)

    ledger = commands.add_parser("ledger", help="the accountability ledger (an SQLite file)")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--at", required=True, help=time_help)
    who.add_argument("--initials", required=True, help="who records the event")
    who.add_argument("--comment")
    init = ledger_commands.add_parser("init", help="start a new, empty ledger file")
    init.add_argument("db", help="the new ledger file (must not exist)")
    init.set_defaults(run=cmd_ledger_init)
    receive = ledger_commands.add_parser("receive", parents=[who], help="record lots received")
    receive.add_argument("db", help="the ledger file (start one with 'doseprep ledger init')")
    receive.add_argument("lots", help="TOML of [[lot]] tables (or one lot, or .json)")
    receive.set_defaults(run=cmd_ledger_receive)
    balance = ledger_commands.add_parser("balance", help="each lot's containers")
    balance.add_argument("db")
    balance.add_argument("lot", nargs="*", help="lot ids (default: every lot)")
    balance.set_defaults(run=cmd_ledger_balance)
    verify_ledger = ledger_commands.add_parser("verify", help="walk the hash chain")
    verify_ledger.add_argument("db")
    verify_ledger.set_defaults(run=cmd_ledger_verify)
    dispense = ledger_commands.add_parser("dispense", parents=[who], help="a bag handed over")
    dispense.add_argument("db")
    dispense.add_argument("bag", help="the bag id as printed (case and hyphens do not matter)")
    dispense.add_argument("--to", required=True, help="the ward or person who takes the bag")
    dispense.set_defaults(run=cmd_ledger_dispense)
    administer = ledger_commands.add_parser("administer", help="a bag infused")
    administer.add_argument("db")
    administer.add_argument("bag", help="the bag id as printed")
    administer.add_argument("--participant", required=True, help="who received it")
    administer.add_argument("--started-at", required=True, help=time_help)
    administer.add_argument("--ended-at", required=True, help=f"{time_help}; recorded at it")
    administer.add_argument("--initials", required=True, help="who records the event")
    administer.add_argument(
        "--override-reason", help="why a bag was given after its infuse-by time"
    )
    administer.add_argument("--comment")
    administer.set_defaults(run=cmd_ledger_administer)
    destroy = ledger_commands.add_parser(
        "destroy", parents=[who], help="a bag, or containers of a lot, destroyed"
    )
    destroy.add_argument("db")
    destroy.add_argument("--bag", help="the bag id as printed")
    destroy.add_argument("--lot", help="the lot of the containers")
    destroy.add_argument("--containers", type=_containers, help="container numbers: 1,2,5")
    destroy.add_argument("--reason", required=True, help="why (kept in the record)")
    destroy.set_defaults(run=cmd_ledger_destroy)
    give_back = ledger_commands.add_parser(
        "return", parents=[who], help="containers returned from stock"
    )
    give_back.add_argument("db")
    give_back.add_argument("lot")
    give_back.add_argument(
        "--containers", type=_containers, required=True, help="container numbers: 1,2,5"
    )
    give_back.set_defaults(run=cmd_ledger_return)
    reconcile = ledger_commands.add_parser(
        "count",
        aliases=["reconcile"],
        parents=[who],
        help="record a count of a lot's containers (also: reconcile)",
    )
    reconcile.add_argument("db")
    reconcile.add_argument("lot")
    reconcile.add_argument("--counted", required=True, type=_count)
    reconcile.set_defaults(run=cmd_ledger_reconcile)
    export = ledger_commands.add_parser("export", help="the log as CSV, blinded CSV or FHIR")
    export.add_argument("db")
    kind = export.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--csv", action="store_true", help="the accountability log (UNBLINDED: pharmacy only)"
    )
    kind.add_argument("--blinded", action="store_true", help="bag ids and volumes only")
    kind.add_argument(
        "--fhir", metavar="BAG_ID", help="a bag as a FHIR R4 Bundle (UNBLINDED: pharmacy only)"
    )
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(run=cmd_ledger_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except (dp.DoseError, UsageError) as error:
        print(f"doseprep: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # The binding names missing files "no such file: PATH".
        detail = error.strerror if error.filename else str(error)
        print(f"doseprep: {detail or error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
