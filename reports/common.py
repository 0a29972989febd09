"""Shared pieces of the reports: warehouse access, findings, value formatting, charts, periods
and rendering."""

from __future__ import annotations

import io
import math
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ingestion.connection import connect
from ingestion.settings import DuckDBLimits
from ingestion.sources import SOURCES
from reports.units import is_missing

matplotlib.use("Agg")
from matplotlib import pyplot as plt

# The SVG's element ids from a fixed salt: the same chart is the same text at every render.
plt.rcParams["svg.hashsalt"] = "saypro-reports"


def markdown_text(value: Any) -> str:
    """A value as Markdown text: `&`, `<` and `>` as HTML entities. Markdown passes raw HTML
    through, so text from the sources (a page URL, a channel name) must not reach the twin
    as markup; entities show as the characters themselves."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_cell(value: Any) -> str:
    """A value as the text of a Markdown table cell or image description: the characters that
    would end the cell, start or end a link or a code span are backslash-escaped, and line
    breaks become spaces (the entities come after, from `markdown_text`)."""
    text = " ".join(("" if value is None else str(value)).splitlines())
    for char in "\\|[]`":
        text = text.replace(char, "\\" + char)
    return text


ENV = Environment(loader=PackageLoader("reports", "templates"),
                  autoescape=select_autoescape(enabled_extensions=("html.j2",)), trim_blocks=True,
                  lstrip_blocks=True)
"""HTML reports: every value is HTML-escaped (charts are SVG from matplotlib, which escapes
the labels it writes)."""
MARKDOWN_ENV = Environment(loader=PackageLoader("reports", "templates"), autoescape=False,
                           trim_blocks=True, lstrip_blocks=True, finalize=markdown_text)
MARKDOWN_ENV.filters["cell"] = markdown_cell


@dataclass
class Finding:
    text: str
    figure_id: str
    kind: str = "observation"


@dataclass
class ReportResult:
    html_path: Path
    md_path: Path
    findings: list[Finding]
    is_partial: bool
    notes: list[str] = field(default_factory=list)


class Marts:
    """Read-only access to the marts; a missing mart reads as empty and is noted. DuckDB works
    within `limits` (default: the settings')."""

    def __init__(self, warehouse: Path, limits: DuckDBLimits | None = None) -> None:
        self.con = connect(warehouse, limits=limits) if warehouse.exists() else None
        self.missing: list[str] = []

    def query(self, mart: str, sql: str, params: list[Any] | None = None,
              schema: str = "marts") -> pd.DataFrame:
        if self.con is None or not self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name = ?", [schema, mart]).fetchone()[0]:
            if mart not in self.missing:
                self.missing.append(mart)
            return pd.DataFrame()
        return self.con.execute(sql, params or []).df()

    def sources_not_configured(self) -> list[str]:
        """Sources neither configured nor holding records (marts.dim_source), in order."""
        frame = self.query("dim_source", "SELECT source FROM marts.dim_source "
                           "WHERE NOT is_available ORDER BY source")
        return [str(s) for s in frame.source] if len(frame) else []

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def source_notes(absent: list[str]) -> list[str]:
    """One note naming the sources that are not configured, for the report's banner."""
    if not absent:
        return []
    names = ", ".join(SOURCES[s].label if s in SOURCES else s for s in absent)
    return [f"Not configured: {names}. Their sections are empty and their KPIs are not "
            "computed; set their variables or drop export files under "
            "$SAYPRO_DROP_DIR/<source>/ to add them (README, 'Pointing it at real accounts')."]


class Labels:
    """Names and units of KPIs (`kpi_catalog`) and names of segments (`dim_segment`)."""

    def __init__(self, marts: Marts) -> None:
        catalog = marts.query("kpi_catalog", "SELECT kpi_id, name, unit FROM raw.kpi_catalog",
                              schema="raw")
        self.kpi_names = dict(zip(catalog.kpi_id, catalog.name, strict=True)) \
            if len(catalog) else {}
        self.units = dict(zip(catalog.kpi_id, catalog.unit, strict=True)) if len(catalog) else {}
        segments = marts.query("dim_segment", "SELECT segment_id, arg_max(name, active_from) AS "
                               "name FROM marts.dim_segment GROUP BY segment_id")
        self.segment_names = {"all": "All users"} | (
            dict(zip(segments.segment_id, segments.name, strict=True)) if len(segments) else {})

    def kpi(self, kpi_id: str) -> str:
        return str(self.kpi_names.get(kpi_id, kpi_id))

    def unit(self, kpi_id: str) -> str | None:
        return self.units.get(kpi_id)

    def segment(self, segment_id: str) -> str:
        return str(self.segment_names.get(segment_id, segment_id))


# --- Charts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chart:
    """One chart drawn once: SVG for the self-contained HTML, PNG for the Markdown twin's
    image file (`<report>_files/<name>.png`). `name` is unique within a report."""

    name: str
    alt: str
    svg: Markup
    png: bytes


def chart(fig: plt.Figure, name: str, alt: str, dpi: int = 110) -> Chart:
    # The figure is laid out and its tight box measured once for both formats (savefig's
    # "tight" does both again for each: about a third of a chart's time). No date in the SVG,
    # so that a report rendered again from the same marts is the same file.
    fig.set_dpi(dpi)  # the box measured at the PNG's resolution, as savefig would
    fig.draw_without_rendering()
    box = fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    svg_buffer, png_buffer = io.StringIO(), io.BytesIO()
    fig.savefig(svg_buffer, format="svg", bbox_inches=box, metadata={"Date": None})
    fig.savefig(png_buffer, format="png", bbox_inches=box, dpi=dpi)
    plt.close(fig)
    text = svg_buffer.getvalue()
    # matplotlib escapes the text it writes into the SVG; the markup itself is ours.
    return Chart(re.sub(r"[^a-z0-9_-]+", "-", name.lower()), alt,
                 Markup(text[text.index("<svg"):]), png_buffer.getvalue())


def bar_chart(name: str, labels: list[str], values: list[float], title: str,
              xlabel: str = "") -> Chart:
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(labels), 3) + 1))
    ax.barh(labels[::-1], values[::-1], color="#2b6cb0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return chart(fig, name, title)


def line_chart(name: str, x: list[Any], series: dict[str, list[float]], title: str,
               ylabel: str = "") -> Chart:
    fig, ax = plt.subplots(figsize=(7, 3))
    for label, values in series.items():
        ax.plot(x, values, label=label)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.autofmt_xdate()
    return chart(fig, name, title)


def pareto_chart(name: str, items: list[str], tickets: list[int], cumulative: list[float],
                 title: str) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(range(len(items)), tickets, color="#2b6cb0")
    ax.set_xticks(range(len(items)), items, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("tickets")
    ax2 = ax.twinx()
    ax2.plot(range(len(items)), [c * 100 for c in cumulative], color="#c05621", marker="o")
    ax2.axhline(80, color="#718096", linestyle="--", linewidth=1)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative %")
    ax.set_title(title)
    return chart(fig, name, title)


def sparkline(name: str, values: list[Any], alt: str, target: Any = None) -> Chart:
    """A word-sized trend: the line over the periods (gaps where a value is missing), the
    latest value as a dot, the target as a dashed line."""
    points = [math.nan if is_missing(v) else float(v) for v in values]
    fig, ax = plt.subplots(figsize=(1.5, 0.38))
    ax.plot(range(len(points)), points, color="#2b6cb0", linewidth=1.4, marker="o",
            markersize=1.8)
    if points and not math.isnan(points[-1]):
        ax.plot(len(points) - 1, points[-1], "o", color="#c05621", markersize=3.5)
    if not is_missing(target):
        ax.axhline(float(target), color="#718096", linestyle="--", linewidth=0.8)
    ax.set_xlim(-0.3, max(len(points) - 1, 1) + 0.3)
    ax.margins(y=0.25)
    ax.axis("off")
    fig.patch.set_alpha(0)  # the table row's status colour shows through
    return chart(fig, name, alt, dpi=100)


# --- Periods ---------------------------------------------------------------------------------

def month_start(month: str) -> date:
    return date.fromisoformat(f"{month}-01")


def add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_label(start: date, grain: str) -> str:
    """`2025-06` for a month, `2025-Q2` for a quarter."""
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}" if grain == "quarter" \
        else f"{start:%Y-%m}"


def period_step(grain: str) -> int:
    """Months in one period of the grain."""
    return 3 if grain == "quarter" else 1


# --- Rendering -------------------------------------------------------------------------------

def _is_chart(value: Any) -> bool:
    return isinstance(value, Chart)


ENV.tests["chart"] = MARKDOWN_ENV.tests["chart"] = _is_chart


def _charts(sections: list[dict[str, Any]]) -> list[Chart]:
    found = []
    for section in sections:
        if section.get("chart"):
            found.append(section["chart"])
        for row in section.get("table", {}).get("rows", []):
            found.extend(v for v in row.values() if isinstance(v, Chart))
    return found


def render(name: str, out_dir: Path, context: dict[str, Any]) -> tuple[Path, Path]:
    """Write `<name>.html` (charts as embedded SVG), `<name>.md` and the Markdown twin's chart
    images in `<name>_files/` (replaced whole, so no stale image stays)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out_dir / f"{name}.html", out_dir / f"{name}.md"
    files = out_dir / f"{name}_files"
    shutil.rmtree(files, ignore_errors=True)
    charts = _charts(context["sections"])
    if charts:
        files.mkdir()
        for item in charts:
            (files / f"{item.name}.png").write_bytes(item.png)
    html_path.write_text(ENV.get_template("report.html.j2").render(**context))
    md_path.write_text(MARKDOWN_ENV.get_template("report.md.j2").render(files=files.name,
                                                                       **context))
    return html_path, md_path
