"""Shared fixtures: small generated sample data, the vendor emulators, and one demo run."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.generator import generate
from sandbox.server import SandboxHandle, start_sandbox

REPO = Path(__file__).resolve().parents[1]
SAYPRO = Path(sys.executable).with_name("saypro")


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample organisation at a small scale (generated once per session)."""
    out = tmp_path_factory.mktemp("sample") / "data"
    generate(out, scale=0.05, seed=11)
    return out


@pytest.fixture(scope="session")
def sandbox(sandbox_data: Path) -> Iterator[SandboxHandle]:
    with start_sandbox(sandbox_data) as handle:
        yield handle


@pytest.fixture
def clean_sandbox(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    """The emulators with every fault cleared before and after the test."""
    for source in sandbox.apps:
        sandbox.faults(source).clear()
    yield sandbox
    for source in sandbox.apps:
        sandbox.faults(source).clear()


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAYPRO_", "ZENDESK_", "MATOMO_", "MOODLE_", "KOBO_",
                                "DAGSTER_HOME"))}
    env["SAYPRO_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`saypro demo` on a small organisation: (data dir, stdout)."""
    data_dir = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([str(SAYPRO), "demo", "--scale", "0.3"], cwd=REPO,
                          env=clean_env(data_dir), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return data_dir, proc.stdout
