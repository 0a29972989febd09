"""Charts are drawn once for both formats: the PNG is the one matplotlib's own `bbox_inches=
"tight"` gives, pixel for pixel, and a chart or report drawn again is the same file."""

from __future__ import annotations

import filecmp
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reports.common import chart, plt
from reports.quarterly import render_quarterly_review


def _pareto() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(range(6), [40, 22, 13, 9, 5, 2])
    ax.set_xticks(range(6), [f"Long category name {i}" for i in range(6)], rotation=40,
                  ha="right", fontsize=8)
    twin = ax.twinx()
    twin.plot(range(6), [44, 69, 84, 94, 99, 100], marker="o")
    twin.set_ylabel("cumulative %")
    ax.set_title("Tickets by category")
    return fig


def _forest() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 2.5))
    for y in range(3):
        ax.plot([-5 + y, 8 + y], [y, y], linewidth=2)
    ax.set_yticks(range(3), [f"EXP-{i}: variant b, a metric with a long name" for i in range(3)],
                  fontsize=8)
    ax.legend(handles=[plt.Line2D([], [], marker="o", linestyle="", label="ship")], loc="best")
    ax.set_xlabel("effect relative to control, %")
    return fig


def _sparkline() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(1.5, 0.38))
    ax.plot(range(6), [3, 4, float("nan"), 5, 4, 6], marker="o", markersize=1.8)
    ax.axis("off")
    fig.patch.set_alpha(0)
    return fig


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.mark.parametrize("figure", [_pareto, _forest, _sparkline])
@pytest.mark.parametrize("dpi", [100, 110])
def test_png_is_what_a_tight_savefig_gives(figure: Callable[[], plt.Figure], dpi: int) -> None:
    reference = figure()
    buffer = io.BytesIO()
    reference.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi)
    plt.close(reference)
    drawn = chart(figure(), "fig", "alt", dpi=dpi)
    expected, actual = _pixels(buffer.getvalue()), _pixels(drawn.png)
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected)


def test_a_chart_drawn_again_is_the_same_svg_and_png() -> None:
    first, second = chart(_pareto(), "fig", "alt"), chart(_pareto(), "fig", "alt")
    assert "<dc:date>" not in first.svg
    assert first.svg == second.svg and first.png == second.png


@pytest.mark.slow
def test_a_report_rendered_again_is_the_same_files(demo_run: tuple[Path, str],
                                                   tmp_path: Path) -> None:
    """The demo's quarterly review, rendered by its Dagster run in another process, and the
    same quarter rendered here from the same marts: identical HTML, Markdown and images."""
    reports = demo_run[0] / "reports"
    result = render_quarterly_review(demo_run[0] / "warehouse.duckdb", "2025-Q3", tmp_path)
    name = "quarterly_review_2025-Q3"
    assert result.html_path.read_bytes() == (reports / f"{name}.html").read_bytes()
    assert result.md_path.read_bytes() == (reports / f"{name}.md").read_bytes()
    images = sorted(p.name for p in (reports / f"{name}_files").iterdir())
    assert images and sorted(p.name for p in (tmp_path / f"{name}_files").iterdir()) == images
    _, mismatch, errors = filecmp.cmpfiles(reports / f"{name}_files", tmp_path / f"{name}_files",
                                           images, shallow=False)
    assert not mismatch and not errors
