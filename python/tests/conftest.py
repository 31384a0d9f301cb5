"""Shared fixtures and the hypothesis budgets (profile chosen by HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

import doseprep as dp

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
PROTOCOLS = REPO / "crates" / "doseprep" / "protocols"
# CARE-SSc as one file: the trial file, then its documented default site
# (as the core's CARE_SSC_TOML), the form a pharmacy's single file has.
CARE_SSC_TOML = (
    (PROTOCOLS / "care-ssc.toml").read_text()
    + "\n"
    + (PROTOCOLS / "sites" / "care-ssc-default.toml").read_text()
)

# "ci" keeps the test command to seconds; "long" is for a fuzzing session.
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=200_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TORONTO = ZoneInfo("America/Toronto")
THAWED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=TORONTO)


@pytest.fixture
def protocol() -> dp.Protocol:
    return dp.Protocol.care_ssc()


def worked_lot() -> dp.Lot:
    """The lot of the worked example, UC-0042: 12.5 million viable cells/mL."""
    return dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10.0,
        containers=4,
        dmso_fraction=0.05,
    )


def worked_bag(
    protocol: dp.Protocol,
    arm: str = "A",
    bag_id: str = "014D2PF2DBR",
    lot: dp.Lot | None = None,
    din_sequence: int | None = None,
) -> dp.Preparation:
    """CARE-012's month-0 bag of the worked example (72.4 kg, thawed at
    09:00), from `lot` or the worked example's; `din_sequence` for a site
    whose label carries an ISBT 128 DIN."""
    return dp.prepare(
        protocol,
        participant="CARE-012",
        weight="72.4 kg",
        arm=arm,
        visit="month-0",
        lot=lot or worked_lot(),
        thawed_at=THAWED_AT,
        bag_id=bag_id,
        din_sequence=din_sequence,
    )


@pytest.fixture
def lot() -> dp.Lot:
    return worked_lot()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Where a new ledger goes, by name: a file in `tmp_path`, or a new
    database on the test server (one suite, run on both stores)."""
    from postgres_server import new_database

    def place(name: str) -> str:
        if request.param == "sqlite":
            return str(tmp_path / f"{name}.db")
        return new_database()

    return place
