"""The saypro command line: documented subcommands and argument validation."""

import subprocess
import sys

import pytest

from orchestration.cli import build_parser

DESIGN_COMMANDS = ["demo", "run", "report", "sample", "sandbox"]


def test_help_documents_every_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in [*DESIGN_COMMANDS, "ui", "rebuild-raw"]:
        assert command in out


@pytest.mark.parametrize("argv", [
    ["run", "--from", "2025-13", "--to", "2025-12"],
    ["run", "--from", "2025-01"],
    ["report", "--quarter", "2025-Q5"],
    ["report", "--month", "2025-01", "--quarter", "2025-Q1"],
])
def test_invalid_arguments_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        build_parser().parse_args(argv)
    assert excinfo.value.code == 2


def test_quarter_is_normalised() -> None:
    args = build_parser().parse_args(["report", "--quarter", "2025-q3"])
    assert args.quarter == "2025-Q3"
