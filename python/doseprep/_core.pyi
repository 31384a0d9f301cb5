"""Type stubs for doseprep._core, the compiled Rust binding (checked by mypy.stubtest)."""

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, final, overload
from typing import Protocol as _Protocol

__all__ = [
    "AlreadyRecordedError",
    "Balance",
    "Batch",
    "Checkpoint",
    "DayOrder",
    "DayPlan",
    "DayRow",
    "DmsoLimitError",
    "DoseError",
    "DuplicateOrderError",
    "FaultError",
    "ImplausibleWeightError",
    "InvalidInputError",
    "InvalidQuantityError",
    "InvalidTimeError",
    "Ledger",
    "LedgerError",
    "LedgerVerification",
    "Lot",
    "LotExpiredError",
    "LotTooDiluteError",
    "NotEnoughContainersError",
    "Order",
    "OutsideToleranceError",
    "Preparation",
    "PreparationRecord",
    "PrintError",
    "Protocol",
    "ProtocolError",
    "Randomization",
    "RandomizationError",
    "Reconciliation",
    "RecordError",
    "RecordedDifferentlyError",
    "SyringeError",
    "Table",
    "ThawSession",
    "ThawWindowError",
    "UnitError",
    "UnknownArmError",
    "UnknownVisitError",
    "Verification",
    "ViabilityError",
    "WeighedCheck",
    "check_weighed",
    "labels_html",
    "labels_pdf",
    "labels_zpl",
    "plan_day",
    "prepare",
    "prepare_many",
    "run_command",
    "verify",
    "version",
    "worksheet_html",
    "worksheets_pdf",
]

class _Quantity(_Protocol):
    """Anything shaped like a pint quantity."""

    @property
    def magnitude(self) -> float: ...
    @property
    def units(self) -> object: ...

# A weight with its unit: text ("72.4 kg", "160 lb") or a quantity. A bare
# number is refused (UnitError): kilograms as a number go in `weight_kg=`.
_Weight = str | _Quantity
_Time = datetime | str
_Path = str | os.PathLike[str]

class DoseError(ValueError):
    """Base class of every doseprep error: the input was wrong, not the program.

    ``kind`` names the kind; ``field``, ``value``, ``limit`` and ``fix`` give the
    input concerned, its value, the limit it broke and what to do (None where
    they do not apply).
    """

    kind: ClassVar[str]
    field: str | None
    value: str | None
    limit: str | None
    fix: str | None

class UnitError(DoseError):
    """A quantity without a unit, with an unknown unit, or not a number."""

class InvalidQuantityError(DoseError):
    """NaN, infinity, zero, a negative or an absurd quantity."""

class ImplausibleWeightError(DoseError):
    """A body weight outside the protocol's plausible range."""

class UnknownArmError(DoseError):
    """An arm the protocol does not define."""

class UnknownVisitError(DoseError):
    """A visit the protocol does not define."""

class ViabilityError(DoseError):
    """Viability outside 0-1 or under the protocol floor."""

class LotTooDiluteError(DoseError):
    """The draw the dose needs does not fit in the bag."""

class NotEnoughContainersError(DoseError):
    """Fewer containers on hand than the draw needs."""

class OutsideToleranceError(DoseError):
    """The rounded draw delivers a dose outside the acceptable range."""

class DmsoLimitError(DoseError):
    """DMSO exposure over the protocol limit, or a lot that does not give its DMSO fraction."""

class ThawWindowError(DoseError):
    """Thaw after preparation, or the infusion would end too late."""

class InvalidTimeError(DoseError):
    """A time without a UTC offset, or one that cannot be read."""

class InvalidInputError(DoseError):
    """An empty id, an unknown column or another unusable input."""

class ProtocolError(DoseError):
    """A protocol file that is malformed or breaks a rule."""

class RecordError(DoseError):
    """A preparation record that cannot be read or verified."""

class LotExpiredError(DoseError):
    """A lot thawed after its expiry."""

class SyringeError(DoseError):
    """A draw larger than every syringe the protocol lists."""

class RandomizationError(DoseError):
    """An order that disagrees with the randomization list, or an unusable list."""

class DuplicateOrderError(DoseError):
    """A second order for the same participant and visit in one day."""

class AlreadyRecordedError(DoseError):
    """An order whose bag the ledger holds already, from the same order: not planned again."""

class RecordedDifferentlyError(DoseError):
    """An order for a visit whose bag the ledger holds already, recorded for another order."""

class LedgerError(DoseError):
    """An event the ledger refuses, or a ledger file it cannot use; `code` names the case."""

    code: str

class FaultError(RuntimeError):
    """A fault of the system, not of the input: the ledger's database busy, full or
    corrupt, a ledger that no longer verifies or was written by a newer doseprep,
    the printer's font or PDF writer. ``code`` names the case (e.g. "database_busy",
    "tampered"); ``fix`` says what to do. File faults are Python's own OSError
    subclasses."""

    kind: ClassVar[str]
    code: str
    field: str | None
    value: str | None
    limit: str | None
    fix: str | None

class PrintError(DoseError):
    """A label or worksheet that cannot be printed: a barcode wider than the label,
    text that does not fit at the smallest size allowed, or text a barcode cannot encode."""

@final
class Protocol:
    """A trial protocol: the trial's facts and a site's settings, checked once."""

    @staticmethod
    def care_ssc() -> Protocol:
        """The built-in CARE-SSc protocol with this project's site defaults."""
    @staticmethod
    def example(
        name: Literal["care-ssc", "flat", "per-kg-with-cap", "twice-weekly", "weight-bands"],
    ) -> Protocol:
        """An example protocol shipped in the package, by name."""
    @staticmethod
    def from_toml(text: str, /, *, site: str | None = None) -> Protocol:
        """A protocol from TOML text: one file, or the trial file's text with ``site=``
        the site file's text (its ``[label]`` and ``[site]``)."""
    @staticmethod
    def from_json(text: str) -> Protocol:
        """A protocol from JSON text."""
    @staticmethod
    def from_file(path: _Path, /, *, site: _Path | None = None) -> Protocol:
        """A protocol from a file: JSON if the name ends in ``.json``, else TOML; with
        ``site=``, ``path`` is the trial file and ``site`` the site file."""
    @property
    def name(self) -> str:
        """Short name, e.g. "CARE-SSc"."""
    @property
    def visits(self) -> list[str]:
        """Visit names in order."""
    @property
    def arms(self) -> dict[str, dict[str, Literal["active", "placebo"]]]:
        """Arm → visit → "active" or "placebo"."""
    @property
    def time_zone(self) -> str:
        """The IANA time zone of the site's clock."""
    @property
    def trial_fingerprint(self) -> str:
        """SHA-256 of the trial's facts: the same at every site of the trial."""
    @property
    def site_fingerprint(self) -> str:
        """SHA-256 of the site's settings and label particulars."""
    def to_json(self) -> str:
        """The canonical JSON form."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Lot:
    """One lot of the cell product: its post-thaw figures and what is on hand."""

    def __new__(
        cls,
        *,
        lot_id: str,
        viable_cells_per_ml: float,
        viability: float,
        container_volume_ml: float,
        containers: int | float,
        dmso_fraction: float | None = None,
        extractable_volume_ml: float | None = None,
        expires_at: _Time | None = None,
    ) -> Lot: ...
    @staticmethod
    def from_toml(text: str) -> Lot:
        """A lot from TOML text (quantities with units, e.g. ``container_volume = "10 mL"``)."""
    @staticmethod
    def from_json(text: str) -> Lot:
        """A lot from JSON text (the same keys as a lot file)."""
    @staticmethod
    def from_file(path: _Path) -> Lot:
        """A lot from a file: JSON if the name ends in ``.json``, else TOML."""
    @staticmethod
    def many_from_file(path: _Path) -> list[Lot]:
        """The lots of a day from a file of ``[[lot]]`` tables (or one lot), or from a
        spreadsheet's first sheet (a row a lot, the columns a lot file's keys)."""
    @property
    def lot_id(self) -> str: ...
    @property
    def viable_cells_per_ml(self) -> float: ...
    @property
    def viability(self) -> float: ...
    @property
    def container_volume_ml(self) -> float: ...
    @property
    def extractable_volume_ml(self) -> float | None: ...
    @property
    def containers(self) -> int: ...
    @property
    def container_numbers(self) -> list[int] | None:
        """The numbers of the containers on hand, where they were given."""
    def with_container_numbers(self, numbers: Sequence[int]) -> Lot:
        """The same lot with its containers on hand numbered as given."""
    @property
    def dmso_fraction(self) -> float | None: ...
    def to_json(self) -> str:
        """The lot as JSON (a lot file's keys)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Order:
    """One participant's infusion at one visit."""

    def __new__(
        cls,
        *,
        participant: str,
        arm: str,
        visit: str,
        thawed_at: _Time,
        weight: _Weight | None = None,
        weight_kg: float | None = None,
        prepared_at: _Time | None = None,
        infusion_at: _Time | None = None,
        baseline_weight: _Weight | None = None,
        baseline_weight_kg: float | None = None,
        bag_id: str | None = None,
        din_sequence: int | None = None,
        weighed_at: _Time | None = None,
    ) -> Order: ...
    @staticmethod
    def from_json(text: str) -> Order:
        """An order from its JSON (as in a record)."""
    @staticmethod
    def from_csv(path: _Path) -> list[Order | DoseError]:
        """The orders of a batch CSV; a bad cell is that row's DoseError, in its place."""
    @property
    def participant(self) -> str: ...
    @property
    def weight_kg(self) -> float: ...
    @property
    def weight_as_entered(self) -> str | None: ...
    @property
    def baseline_weight_kg(self) -> float | None: ...
    @property
    def arm(self) -> str: ...
    @property
    def visit(self) -> str: ...
    @property
    def bag_id(self) -> str | None: ...
    @property
    def thawed_at(self) -> datetime: ...
    @property
    def prepared_at(self) -> datetime | None: ...
    @property
    def weighed_at(self) -> datetime | None: ...
    @property
    def infusion_at(self) -> datetime | None: ...
    def to_json(self) -> str:
        """The order as JSON."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Batch:
    """What prepare_many returns: its results in order, each made into a Preparation
    or a DoseError when read (a Preparation made anew each time, equal by value), and
    an Arrow table (``__arrow_c_stream__``: ``polars.DataFrame(batch)``,
    ``pyarrow.table(batch)``). Not a list: ``list(batch)`` makes one."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int, /) -> Preparation | DoseError: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Preparation | DoseError]: ...
    def __iter__(self) -> Iterator[Preparation | DoseError]: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The batch as an Arrow table, a row an order (the Arrow PyCapsule interface)."""

@final
class Table:
    """An Arrow table (``__arrow_c_stream__``): ``polars.DataFrame(table)``,
    ``pyarrow.table(table)``."""

    def __len__(self) -> int: ...
    @property
    def column_names(self) -> list[str]:
        """The columns' names, in order."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The table (the Arrow PyCapsule interface)."""

@final
class Preparation:
    """One bag: active or placebo. Every dose field of a placebo is None."""

    @property
    def content(self) -> Literal["active", "placebo"]:
        """ "active" or "placebo"."""
    @property
    def participant(self) -> str: ...
    @property
    def arm(self) -> str: ...
    @property
    def visit(self) -> str: ...
    @property
    def bag_id(self) -> str | None:
        """The bag id on the label, if given or planned."""
    @property
    def body_weight_kg(self) -> float: ...
    @property
    def baseline_weight_kg(self) -> float | None: ...
    @property
    def dosing_weight_kg(self) -> float: ...
    @property
    def dosing_weight_from(self) -> Literal["visit", "baseline", "visit-changed"]:
        """Which weight doses."""
    @property
    def lot_id(self) -> str | None: ...
    @property
    def target_cells(self) -> float | None: ...
    @property
    def acceptable_range(self) -> tuple[float, float] | None:
        """(lowest, highest) acceptable delivered cells."""
    @property
    def dose_determined_by(self) -> str | None:
        """In words, what set the target: the rule, the band, a cap."""
    @property
    def unrounded_draw_volume_ml(self) -> float | None: ...
    @property
    def draw_volume_ml(self) -> float | None: ...
    @property
    def syringe_capacity_ml(self) -> float | None:
        """The syringe drawn with, where the protocol lists syringes."""
    @property
    def draw_graduation_ml(self) -> float | None:
        """The graduation the draw was rounded to."""
    @property
    def rounding(self) -> Literal["half-up", "down-for-maximum"] | None:
        """Half up, or down where half up would pass a hard maximum."""
    @property
    def diluent(self) -> str: ...
    @property
    def diluent_volume_ml(self) -> float: ...
    @property
    def final_volume_ml(self) -> float: ...
    @property
    def delivered_cells(self) -> float | None: ...
    @property
    def deviation(self) -> float | None:
        """Signed fraction (0.0014 is +0.14%)."""
    @property
    def final_concentration_cells_per_ml(self) -> float | None: ...
    @property
    def containers_to_thaw(self) -> int | None: ...
    @property
    def dmso_g_per_kg(self) -> float | None: ...
    @property
    def infusion_duration_min(self) -> float: ...
    @property
    def pump_rate_ml_per_h(self) -> float: ...
    @property
    def expected_net_mass_g(self) -> float | None:
        """Expected net mass of the filled bag, where the site weighs bags."""
    @property
    def draws(self) -> list[tuple[str, int, float]]:
        """(lot_id, container, volume_ml) for each container a day plan allocated."""
    @property
    def thawed_at(self) -> datetime: ...
    @property
    def thaw_session(self) -> datetime:
        """The thaw time of the bag's session (the same as ``thawed_at``)."""
    @property
    def prepared_at(self) -> datetime | None: ...
    @property
    def infusion_at(self) -> datetime | None: ...
    @property
    def start_by(self) -> datetime:
        """Latest start of the infusion."""
    @property
    def infuse_by(self) -> datetime:
        """Latest end of the infusion."""
    def blinded_label(self) -> str:
        """The text of the bag's label: byte-identical for an active bag and its matched placebo."""
    def summary(self) -> str:
        """One unblinded line: content, volumes, cells, rate, infuse-by time."""
    def label_pdf(self) -> bytes:
        """The label as a one-page PDF at the protocol's label size (blinded)."""
    def _repr_html_(self) -> str:
        """The key numbers beside the label, for a notebook (unblinded: pharmacy only)."""
    def label_html(self) -> str:
        """The label as an HTML page for a browser to print (blinded)."""
    def label_zpl(self) -> str:
        """The label as ZPL II for the site's thermal printer (blinded)."""
    def worksheet_pdf(self) -> bytes:
        """The worksheet as a PDF on the site's paper (unblinded: pharmacy only)."""
    def worksheet_html(self) -> str:
        """The worksheet as an HTML page (unblinded: pharmacy only)."""
    def worksheet(self) -> str:
        """The unblinded pharmacy worksheet: every step with its quantity."""
    def record(self) -> PreparationRecord:
        """The verifiable record of this preparation and its inputs."""
    def to_json(self) -> str:
        """The preparation as JSON (quantities named by unit, times RFC 9557)."""
    def to_dict(self) -> dict[str, Any]:
        """The preparation as a dict of JSON values."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class WeighedCheck:
    """The outcome of weighing a filled bag."""

    @property
    def ok(self) -> bool: ...
    @property
    def weighed_g(self) -> float: ...
    @property
    def expected_g(self) -> float: ...
    @property
    def accepted_range_g(self) -> tuple[float, float]: ...
    @property
    def deviation(self) -> float: ...
    @property
    def message(self) -> str: ...
    def __bool__(self) -> bool: ...

@final
class PreparationRecord:
    """Every input and output of one preparation; JSON round-trips exactly."""

    @staticmethod
    def from_json(text: str) -> PreparationRecord:
        """Read a record from JSON."""
    @staticmethod
    def _preparation_from_json(text: str) -> Preparation: ...
    def preparation(self) -> Preparation:
        """The preparation this record holds, with its inputs."""
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def worksheet(self) -> str:
        """The unblinded worksheet, made from this record alone once it verifies (a
        record that does not is a ``RecordError``)."""
    @property
    def library_version(self) -> str: ...
    @property
    def trial_fingerprint(self) -> str: ...
    @property
    def site_fingerprint(self) -> str: ...
    @property
    def fingerprint(self) -> str:
        """SHA-256 of the record's compact JSON: the worksheet's Data Matrix."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Verification:
    """The outcome of ``verify``."""

    @property
    def ok(self) -> bool: ...
    @property
    def differences(self) -> list[tuple[str, str, str]]: ...
    @property
    def verified_with_other_version(self) -> str | None: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Randomization:
    """The unblinded randomization list: participant → arm."""

    @staticmethod
    def from_csv(path: _Path, /, *, protocol: Protocol | None = None) -> Randomization:
        """Read ``participant,arm`` CSV (a byte-order mark allowed)."""
    @staticmethod
    def from_xlsx(path: _Path, /, *, protocol: Protocol | None = None) -> Randomization:
        """The same from a spreadsheet's first sheet (.xlsx, .xlsm, .xls, .ods)."""
    @staticmethod
    def from_csv_text(text: str, /, *, protocol: Protocol | None = None) -> Randomization:
        """The same from CSV text."""
    def arm(self, participant: str) -> str | None: ...
    def __len__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class DayOrder:
    """One order of a day: no arm (the list gives it), the weight and the infusion time."""

    def __new__(
        cls,
        *,
        participant: str,
        visit: str,
        infusion_at: _Time,
        weight: _Weight | None = None,
        weight_kg: float | None = None,
        baseline_weight: _Weight | None = None,
        baseline_weight_kg: float | None = None,
        arm: str | None = None,
        weighed_at: _Time | None = None,
    ) -> DayOrder: ...
    @staticmethod
    def from_csv(path: _Path) -> list[DayRow]:
        """Every row of a day's CSV, with its number; a bad cell is that row's DoseError."""
    @staticmethod
    def from_xlsx(path: _Path, /, *, protocol: Protocol) -> list[DayRow]:
        """The same from a spreadsheet's first sheet; date-and-time cells read on the
        site's clock where its site file says spreadsheet_times = "site clock"."""
    @property
    def participant(self) -> str: ...
    @property
    def visit(self) -> str: ...
    @property
    def weight_kg(self) -> float: ...
    @property
    def arm(self) -> str | None: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class DayRow:
    """One row of a day's orders as read: number, participant and visit as written."""

    @property
    def row(self) -> int:
        """In a file, the row a spreadsheet shows (header = 1); in a list, the position from 1."""
    @property
    def participant(self) -> str: ...
    @property
    def visit(self) -> str: ...
    @property
    def order(self) -> DayOrder | DoseError: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class ThawSession:
    """One thaw of a day: when, which lot, which containers."""

    @property
    def thawed_at(self) -> datetime: ...
    @property
    def lot_id(self) -> str: ...
    @property
    def containers(self) -> list[int]: ...

@final
class DayPlan:
    """The plan of a day."""

    @property
    def bags(self) -> list[Preparation | DoseError]:
        """One entry per input row, in order: the bag, or the DoseError that stops it."""
    @property
    def rows(self) -> list[tuple[int, str, str]]:
        """(row, participant, visit) of each input row, beside `bags`, as written."""
    def day_csv(self) -> str:
        """The day as CSV for the pharmacy (unblinded): one line per input row."""
    @property
    def thaws(self) -> list[ThawSession]: ...
    @property
    def remaining(self) -> dict[str, int]:
        """Containers left in the freezer after the day, by lot."""
    @property
    def held_for_blinding(self) -> dict[str, int]:
        """Of those, containers counted against placebo bags as their twins would use them."""
    def bag_table(self) -> Table:
        """The bags as an Arrow table, a row an input row (as prepare_many's batch)."""
    def thaw_table(self) -> Table:
        """The thaws as an Arrow table, in thaw order (the pick list's lines)."""
    def stock_table(self) -> Table:
        """The stock the day leaves as an Arrow table, a row a lot."""
    def summary(self) -> str:
        """A one-screen overview for the ward: no arm, content, lot or volume drawn."""
    def _repr_html_(self) -> str:
        """The summary as a table, for a notebook (blinded as the summary is)."""
    def pick_list(self) -> str:
        """The pick list for the freezer, in thaw order (pharmacy)."""
    def publish(
        self,
        out: _Path,
        /,
        *,
        pdf: bool = False,
        ledger: Ledger | None = None,
        initials: str | None = None,
        passphrase: str | None = None,
    ) -> list[int]:
        """Every document of the day staged beside ``out`` (a new or empty
        folder), the day recorded in ``ledger`` by ``initials``, then the
        folder published as ``out`` in one rename; returns the events recorded."""

def verify(record: PreparationRecord | str) -> Verification:
    """Recompute a record from its inputs and compare."""

def check_weighed(prep: Preparation, /, *, net_mass_g: float) -> WeighedCheck:
    """Compare a bag's weighed net mass (g) with what its volumes should weigh."""

def prepare(
    protocol: Protocol,
    /,
    *,
    participant: str,
    arm: str,
    visit: str,
    lot: Lot,
    thawed_at: _Time,
    weight: _Weight | None = None,
    weight_kg: float | None = None,
    prepared_at: _Time | None = None,
    infusion_at: _Time | None = None,
    baseline_weight: _Weight | None = None,
    baseline_weight_kg: float | None = None,
    bag_id: str | None = None,
    din_sequence: int | None = None,
    weighed_at: _Time | None = None,
) -> Preparation:
    """Prepare the bag an order calls for: the active bag, or its matched placebo."""

def prepare_many(
    protocol: Protocol,
    orders: Iterable[Order | dict[str, Any]],
    /,
    *,
    lot: Lot,
) -> Batch:
    """Prepare many orders from one lot; a DoseError in the place of each that fails."""

def plan_day(
    protocol: Protocol,
    orders: Sequence[DayOrder | DayRow],
    /,
    *,
    lots: Sequence[Lot],
    randomization: Randomization,
    ledger: Ledger | None = None,
) -> DayPlan:
    """Plan a day: sessions, containers, a bag id each."""

@final
class Balance:
    """A lot's containers: received, and where they went (the sum of its events)."""

    @property
    def lot_id(self) -> str: ...
    @property
    def received(self) -> int: ...
    @property
    def thawed(self) -> int: ...
    @property
    def destroyed(self) -> int: ...
    @property
    def destroyed_after_thaw(self) -> int: ...
    @property
    def returned(self) -> int: ...
    @property
    def shipped(self) -> int: ...
    @property
    def on_hand(self) -> int: ...
    def _repr_html_(self) -> str:
        """The balance as a table, for a notebook."""

@final
class Reconciliation:
    """A count of a lot's containers against its balance."""

    @property
    def lot_id(self) -> str: ...
    @property
    def counted(self) -> int: ...
    @property
    def expected(self) -> int: ...
    @property
    def difference(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def ok(self) -> bool:
        """True when the count equals the balance."""

@final
class Checkpoint:
    """The ledger's head at one moment, to keep outside the file."""

    @property
    def seq(self) -> int: ...
    @property
    def head(self) -> str: ...
    @property
    def taken_at(self) -> str: ...
    @property
    def taken_by(self) -> str | None:
        """The user signed in when it was taken (an attribution, not a signature)."""
    def to_json(self) -> str:
        """One line of JSON, to keep elsewhere."""
    @staticmethod
    def from_json(text: str) -> Checkpoint:
        """A checkpoint read back from its line."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class LedgerVerification:
    """What Ledger.verify() found: the first problem, or none."""

    @property
    def scope(self) -> Literal["full", "chain"]:
        """What was checked: "full" (the chain, every event replayed through the
        rules, the state tables) or "chain" (hashes, links and head only)."""
    @property
    def events(self) -> int:
        """The last event's number."""
    @property
    def checked_after(self) -> int:
        """The events checked are those after this one: 0 for the whole chain,
        the checkpoint's event for ``verify(since=...)``."""
    @property
    def head(self) -> str | None: ...
    @property
    def problem_seq(self) -> int | None: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def ok(self) -> bool:
        """True when the chain and the state check out."""
    def __bool__(self) -> bool: ...

@final
class Ledger:
    """The accountability ledger: an SQLite file, or a database on a
    PostgreSQL server, of every container and bag, append-only and
    hash-chained. `path` is the file's path or the database's URL
    (`postgresql://USER@HOST/DATABASE`, or `postgresql://USER@/DATABASE?host=/socket/folder`).
    Opening never creates one: see `create`."""

    def __new__(cls, path: _Path, /, *, workstation: str | None = None) -> Ledger:
        """Open the ledger at `path`; `workstation` (e.g. "bench-2") is named by
        every event written, and needed once the ledger has a site."""
    @staticmethod
    def create(path: _Path, /, *, workstation: str | None = None) -> Ledger:
        """Start a new ledger at `path`: a new file (one already there is
        FileExistsError), or an empty PostgreSQL database (one holding tables
        is FileExistsError)."""
    @staticmethod
    def open_read_only(path: _Path) -> Ledger:
        """Open the ledger at `path` to read only (an auditor's write-protected
        copy, or a read-only connection to the server): nothing is written;
        every event is refused (FaultError, code database_read_only)."""
    @property
    def path(self) -> Path:
        """The ledger's file; ValueError for a ledger on a PostgreSQL server
        (see `location`)."""
    @property
    def location(self) -> str:
        """The file's path, or the server's URL without its password."""
    @property
    def schema_version(self) -> int: ...
    @property
    def workstation(self) -> str | None:
        """The workstation this ledger's events are written at, or None."""
    @property
    def site(self) -> str | None:
        """The ledger's site (its code), or None before set_site."""
    def set_site(
        self,
        site: str,
        /,
        *,
        name: str,
        initials: str | None = None,
        passphrase: str | None = None,
    ) -> int:
        """Set the ledger's site, once: from this event on every event names the
        site and the workstation that wrote it. Signed by an administrator where
        the ledger has users; dated now."""
    def ship(
        self,
        lot_id: str,
        containers: Sequence[int],
        /,
        *,
        to_site: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """Containers in stock shipped to another site: they leave this site's stock."""
    def receive_shipment(
        self,
        lot: Lot,
        /,
        *,
        from_site: str,
        shipment_seq: int,
        shipped_containers: Sequence[int],
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A lot received from another site's shipment (its ship event, and its
        numbers of the containers, in the order this receipt numbers them)."""
    @staticmethod
    def central_view(url: str) -> dict[str, Any]:
        """The sponsor's view of the central ledger: sites (each with its lots'
        balances and bags), lots over all sites, in_transit, unmatched_receipts."""
    def register_user(
        self,
        user_id: str,
        /,
        *,
        full_name: str,
        initials: str,
        role: Literal["pharmacist", "checker", "nurse", "monitor", "administrator"],
        passphrase: str,
        signature: str | None = None,
    ) -> int:
        """Register a user (passphrase kept only as its argon2id hash). The
        first user is an administrator, registered without ``signature``;
        from then on every event is signed, and a signed-in administrator
        registers each later user with their own passphrase as ``signature``."""
    def sign_in(self, user_id: str, /, *, passphrase: str) -> None:
        """Sign in with both components; each signing after it gives
        ``passphrase=`` again. A failure is recorded and raised (sign_in_failed)."""
    def disable_user(self, user_id: str, /, *, reason: str, signature: str) -> int:
        """Disable a user, signed by the signed-in administrator: they sign nothing after."""
    def change_passphrase(self, user_id: str, /, *, current: str, new: str) -> int:
        """A user's passphrase changed by the user, who gives the current one."""
    def configure(self, *, late_entry_after: str, signature: str) -> int:
        """Set the ledger's late-entry limit (e.g. "4 h"), signed by the signed-in
        administrator: an event written later than that needs ``late_reason=``."""
    @property
    def late_entry_after_min(self) -> int | None:
        """The ledger's late-entry limit in minutes, or None."""
    def reset_passphrase(self, user_id: str, /, *, new: str, signature: str) -> int:
        """Reset a user's forgotten passphrase, signed by the signed-in administrator."""
    def sign_out(self) -> None:
        """End the session."""
    @property
    def signed_in(self) -> str | None:
        """The user id signed in, or None."""
    def users(self) -> list[dict[str, Any]]:
        """The registered users (user_id, full_name, initials, role, registered_seq,
        disabled_seq)."""
    def check(
        self,
        bag_id: str,
        /,
        *,
        at: _Time,
        passphrase: str,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A prepared bag checked by a second user; where users sign, a bag is
        dispensed only after its check."""
    def receive(
        self,
        lot: Lot,
        /,
        *,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A lot received: containers 1 to lot.containers. Returns the event's number."""
    def thaw(
        self,
        lot_id: str,
        containers: Sequence[int],
        /,
        *,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """Containers of a lot thawed."""
    def prepare(
        self,
        bag: Preparation,
        /,
        *,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        draws: Sequence[tuple[str, int, float]] | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A bag prepared, with (lot_id, container, mL) draws (default: the bag's own)."""
    def record_day(
        self,
        plan: DayPlan,
        /,
        *,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
    ) -> list[int]:
        """A planned day recorded as planned: one plan event a bag, dated when written
        (nothing thawed or made yet), in one transaction."""
    def prepare_planned(
        self,
        bag_id: str,
        /,
        *,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A planned bag prepared as planned, at the time it was made: after its containers'
        thaw, none thawed before the plan's time (its label's infuse-by counts from it)."""
    def cancel_bag(
        self,
        bag_id: str,
        /,
        *,
        reason: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A planned bag cancelled before it was made: its draws go back to its containers."""
    def dispense(
        self,
        bag_id: str,
        /,
        *,
        to: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A bag handed over."""
    def administer(
        self,
        bag_id: str,
        /,
        *,
        participant: str,
        started_at: _Time,
        ended_at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        override_reason: str | None = None,
        short_reason: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A bag infused; refused after its infuse-by time unless override_reason says why,
        and shorter than its site's ``shortest_infusion`` unless short_reason says why."""
    def destroy_containers(
        self,
        lot_id: str,
        containers: Sequence[int],
        /,
        *,
        reason: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """Containers destroyed (from stock, or what is left after a thaw)."""
    def destroy_bag(
        self,
        bag_id: str,
        /,
        *,
        reason: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A bag destroyed."""
    def correct(
        self,
        seq: int,
        /,
        *,
        reason: str,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        corrected_at: _Time | None = None,
        to: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """A correction of event ``seq``: its time (``corrected_at``) or a dispense's
        recipient (``to``), with the reason; ``at`` and ``initials`` are the
        correction's own. The event stays as recorded."""
    def return_containers(
        self,
        lot_id: str,
        containers: Sequence[int],
        /,
        *,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> int:
        """Containers returned from stock."""
    def balance(self, lot_id: str, /, *, receipt: int | None = None) -> Balance:
        """A lot's balance: the sum of its events (or of one receipt's containers)."""
    def receipts(self, lot_id: str) -> list[int]:
        """The events that received a lot, in order: one per shipment."""
    def reconcile(
        self,
        lot_id: str,
        /,
        *,
        counted: int,
        at: _Time,
        initials: str | None = None,
        passphrase: str | None = None,
        comment: str | None = None,
        late_reason: str | None = None,
    ) -> Reconciliation:
        """Record a count of a lot's containers and compare it with the balance."""
    def in_stock(self, lot_id: str) -> list[int]:
        """The numbers of a lot's containers in stock and not set aside for a planned bag,
        lowest first: what a day's plan may thaw."""
    def lot_ids(self) -> list[str]:
        """The lots received, in order of receipt."""
    def chain_of_identity(self, bag_id: str) -> dict[str, Any]:
        """Lots, containers and their thaws, the preparation record, the bag's events."""
    def next_din_sequence(self, protocol: Protocol) -> int | None:
        """The next number of the facility's ISBT 128 DIN counter (None without [label] isbt128)."""
    def reprint(self, bag_id: str) -> Preparation:
        """A bag made again from its verified record, to print it again byte for byte."""
    def reprint_documents(
        self,
        out: _Path,
        /,
        *,
        bags: Sequence[str] = ...,
        date: str | None = None,
        pdf: bool = False,
    ) -> int:
        """Bags' labels, worksheets and records made again into the new folder
        ``out``: ``bags`` by id, and every bag of ``date`` (YYYY-MM-DD, site clock: prepared
        on it, or planned for a session thawed on it), none destroyed or cancelled; returns
        how many bags."""
    def record(self, bag_id: str) -> PreparationRecord:
        """The preparation record of a bag, as recorded."""
    def verify(
        self,
        *,
        checkpoints: Sequence[Checkpoint] = ...,
        scope: Literal["full", "chain"] = "full",
        since: Checkpoint | None = None,
    ) -> LedgerVerification:
        """Walk the chain: the first event changed, deleted or inserted, if any;
        then hold it against checkpoints kept elsewhere (a cut tail, a rewrite
        with recomputed hashes). ``scope="full"`` also replays every event
        through the rules and compares the state tables; ``scope="chain"``
        checks hashes, links and the head only, the quick daily check; with
        ``since`` (and ``scope="chain"``), only the events after the
        checkpoint's, whose own hash must still be the checkpoint's."""
    def checkpoint(self) -> Checkpoint:
        """The ledger's head now, verified first, to keep outside the file."""
    def archive(self, out: _Path, /, *, checkpoints: Sequence[Checkpoint] = ...) -> Checkpoint:
        """The whole ledger archived into the new folder ``out``, with a verifier
        (``verify.py``) that needs only Python's standard library."""
    def audit(
        self, *, late_after: str, start: _Time | None = None, end: _Time | None = None
    ) -> dict[str, Any]:
        """The periodic review of the events written from ``start`` to ``end``:
        ``verification``, ``events``, ``findings`` (overrides, short
        infusions, late and future-dated entries, destructions, cancelled bags, open plans, count
        differences, corrections, failed sign-ins, access changes, unreadable events) and
        ``text``."""
    def events(self) -> list[dict[str, Any]]:
        """Every event, in order (body parsed, with ``recorded_at``)."""
    def event_table(self) -> Table:
        """Every event as an Arrow table, in order."""
    def balance_table(self) -> Table:
        """Every lot's balance as an Arrow table, in order of receipt."""
    def push(self, url: str, /, *, site: str) -> dict[str, Any]:
        """Push this ledger's events to the trial's central ledger at `url`
        (PostgreSQL) as `site`: verified whole first; the events the centre
        holds for the site must be this ledger's first ones (LedgerError,
        code push_refused, names the first that is not); the rest are sent in
        batches the server checks. Idempotent and resumable. Returns
        {"site", "held", "sent", "head_seq", "head_hash"}."""
    @staticmethod
    def create_central(url: str) -> None:
        """Start the trial's central ledger in the empty PostgreSQL database
        at `url`, where sites push their ledgers."""
    def export_csv(self) -> str:
        """The accountability log (unblinded): one CSV line per event."""
    def export_blinded_csv(self) -> str:
        """The blinded log: bag events with bag ids and volumes only."""
    def export_fhir(self, bag_id: str) -> str:
        """A bag as a FHIR R4 Bundle (JSON text)."""

def labels_pdf(bags: Sequence[Preparation], /) -> bytes:
    """The bags' labels as one PDF, a page each at the protocol's label size (blinded)."""

def labels_html(bags: Sequence[Preparation], /) -> str:
    """The bags' labels as one HTML document, a printed page each (blinded)."""

def labels_zpl(bags: Sequence[Preparation], /) -> str:
    """The bags' labels as ZPL II for the site's thermal printer, one each (blinded)."""

def worksheets_pdf(bags: Sequence[Preparation], /) -> bytes:
    """The bags' worksheets as one PDF on the site's paper (unblinded: pharmacy only)."""

def worksheet_html(bag: Preparation, /) -> str:
    """One bag's worksheet as an HTML document (unblinded: pharmacy only)."""

def version() -> str:
    """The version of the doseprep core this module was built from."""

def run_command(argv: Sequence[str], /) -> int:
    """Run the ``doseprep`` command (the Rust command of ``doseprep-cli``) on
    ``argv``, the program name first, printing to the process's standard
    output and error; returns the exit status."""
