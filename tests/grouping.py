"""How the tests are marked, ordered and spread over pytest-xdist workers (`make test`).

- A test that reads a session build (tests/conftest.py: the demo, the sample warehouse) is
  marked slow (`make test-fast` leaves it out) and belongs to that build's group; every other
  test belongs to its module's group. One group runs on one worker, so each build and each
  module fixture is made once.
- The groups that hold slow tests come first, so the workers start the long ones while the
  short ones fill the gaps (`--no-loadscope-reorder` keeps this order).

xdist's own `loadgroup` reads `xdist_group` marks by appending the group to each test's node
id, which pytest 9 no longer allows (the node id is computed), so `--dist loadgroup` uses the
scheduler here: the workers write the group of each test to a file beside their base temp
folders, and the scheduler reads it once every worker has collected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_SEED

BUILD_GROUPS = {"demo_run": "demo", "demo_dir": "demo", "sample_warehouse": "warehouse",
                "kpi_warehouse": "warehouse", "experiment_build": "warehouse"}
"""Fixture → group; kpi_warehouse and experiment_build ask for sample_warehouse when they run,
so it is not among their tests' fixture names."""
GROUPS_FILE = "test-groups.json"
WORKER_INPUT_KEY = "saypro_test_groups"


def build_of(item: pytest.Item) -> str | None:
    """The session build the test reads, if any. experiment_build's second seed is a build of
    its own (tests/experiments/conftest.py), so it can run beside the sample warehouse."""
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    seed = callspec.params.get("experiment_build") if callspec else None
    if seed is not None and seed != SAMPLE_SEED:
        return f"experiments_seed{seed}"
    return next((g for f, g in BUILD_GROUPS.items() if f in fixtures), None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        group = build_of(item)
        if group:
            item.add_marker(pytest.mark.slow)
        else:
            group = item.nodeid.split("::")[0]
        groups.setdefault(group, []).append(item)
    ordered = sorted(groups.items(), key=lambda kv: not any(
        i.get_closest_marker("slow") for i in kv[1]))
    items[:] = [item for _, members in ordered for item in members]
    target = getattr(config, "workerinput", {}).get(WORKER_INPUT_KEY)
    if target:  # an xdist worker: every worker writes the same map
        scratch = Path(f"{target}.{os.getpid()}")
        scratch.write_text(json.dumps({i.nodeid: g for g, members in ordered for i in members}))
        os.replace(scratch, target)


def _groups_file(config: pytest.Config) -> Path:
    return config._tmp_path_factory.getbasetemp() / GROUPS_FILE  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[WORKER_INPUT_KEY] = str(_groups_file(node.config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with the groups the workers wrote."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = json.loads(_groups_file(config).read_text())
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)
