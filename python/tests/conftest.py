"""Shared fixtures and the hypothesis budgets (profile chosen by HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import os
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


@pytest.fixture
def lot() -> dp.Lot:
    return dp.Lot(
        lot_id="UC-0042",
        viable_cells_per_ml=12.5e6,
        viability=0.93,
        container_volume_ml=10.0,
        containers=4,
        dmso_fraction=0.05,
    )
