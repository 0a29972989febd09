"""Fixtures of the KPI / segment / RCA tests.

`kpi_warehouse` is the session's sample warehouse (tests/conftest.py: scale 0.5, enough for
segment-level stories such as the new-user image-upload issue).
`SAYPRO_KPI_TEST_WAREHOUSE=<file>` runs the checks on an already built warehouse instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import SampleBuild


@pytest.fixture(scope="session")
def kpi_warehouse(request: pytest.FixtureRequest) -> Path:
    existing = os.environ.get("SAYPRO_KPI_TEST_WAREHOUSE")
    if existing:  # debugging: run the checks on an already built warehouse
        return Path(existing)
    build: SampleBuild = request.getfixturevalue("sample_warehouse")
    return build.warehouse
