"""doseprep: weight-based doses for cell-therapy infusions and matched placebo bags.

Every number comes from the doseprep Rust core; this package only carries it
to Python. Invalid input raises a subclass of :class:`DoseError` (itself a
``ValueError``) whose message names the value, the limit and the fix.
"""

from doseprep._core import (
    DmsoLimitError,
    DoseError,
    ImplausibleWeightError,
    InvalidInputError,
    InvalidQuantityError,
    InvalidTimeError,
    Lot,
    LotTooDiluteError,
    NotEnoughContainersError,
    Order,
    OutsideToleranceError,
    Preparation,
    PreparationRecord,
    Protocol,
    ProtocolError,
    RecordError,
    ThawWindowError,
    UnitError,
    UnknownArmError,
    UnknownVisitError,
    Verification,
    ViabilityError,
    prepare,
    prepare_many,
    verify,
    version,
)

__version__: str = version()

__all__ = [
    "DmsoLimitError",
    "DoseError",
    "ImplausibleWeightError",
    "InvalidInputError",
    "InvalidQuantityError",
    "InvalidTimeError",
    "Lot",
    "LotTooDiluteError",
    "NotEnoughContainersError",
    "Order",
    "OutsideToleranceError",
    "Preparation",
    "PreparationRecord",
    "Protocol",
    "ProtocolError",
    "RecordError",
    "ThawWindowError",
    "UnitError",
    "UnknownArmError",
    "UnknownVisitError",
    "Verification",
    "ViabilityError",
    "__version__",
    "prepare",
    "prepare_many",
    "verify",
    "version",
]
