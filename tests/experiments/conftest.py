"""Fixtures of the experiment tests.

`load_statistics()` is the statistics module (transforms.experiment_stats) that the dbt Python
model and the Spark build call. `experiment_build` is the experiment marts on sample data for
two seeds, with a pinned cut-off after the sample's year: seed 7 is the session's sample
warehouse (tests/conftest.py, the whole project built); seed 23 builds the experiment marts
and everything upstream alone (generator → drop-folder landing → raw tables → `dbt build`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from tests.conftest import SAMPLE_SCALE, SAMPLE_SEED, SampleBuild, build_sample

SEEDS = (SAMPLE_SEED, 23)
EXPERIMENT_MARTS = ("+experiment_results", "+fct_experiment_exposures")
# Marts the tests recompute the results from (the experiment models read intermediate models)
REFERENCE_MARTS = ("fct_enrolments",)


def load_statistics() -> ModuleType:
    return importlib.import_module("transforms.experiment_stats")


@pytest.fixture(scope="session", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def experiment_build(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    if request.param == SAMPLE_SEED:
        return request.getfixturevalue("sample_warehouse")
    # scale 0.5: about 900 units per arm in the sample's larger experiments, enough for the
    # planned minimum detectable effects
    return build_sample(tmp_path_factory.mktemp(f"experiments_seed{request.param}"),
                        scale=SAMPLE_SCALE, seed=request.param,
                        select=(*EXPERIMENT_MARTS, *REFERENCE_MARTS))
