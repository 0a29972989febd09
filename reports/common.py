"""Shared pieces of the reports: warehouse access, findings, charts and rendering."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

matplotlib.use("Agg")
from matplotlib import pyplot as plt

ENV = Environment(loader=PackageLoader("reports", "templates"),
                  autoescape=select_autoescape(enabled_extensions=("html.j2",)), trim_blocks=True,
                  lstrip_blocks=True)


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
    """Read-only access to the marts; a missing mart reads as empty and is noted."""

    def __init__(self, warehouse: Path) -> None:
        self.con = duckdb.connect(str(warehouse)) if warehouse.exists() else None
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


SOURCE_LABELS = {"zendesk": "Zendesk (helpdesk)", "matomo": "Matomo (web analytics)",
                 "moodle": "Moodle (learning)", "kobo": "KoboToolbox (surveys)"}


def source_notes(marts: Marts) -> list[str]:
    """One note naming the sources that are not configured, for the report's banner."""
    absent = marts.sources_not_configured()
    if not absent:
        return []
    names = ", ".join(SOURCE_LABELS.get(s, s) for s in absent)
    return [f"Not configured: {names}. Their sections are empty and their KPIs are not "
            "computed; set their variables or drop export files under "
            "$SAYPRO_DROP_DIR/<source>/ to add them (README, 'Pointing it at real accounts')."]


def svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def bar_chart(labels: list[str], values: list[float], title: str, xlabel: str = "") -> str:
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(labels), 3) + 1))
    ax.barh(labels[::-1], values[::-1], color="#2b6cb0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return svg(fig)


def line_chart(x: list[Any], series: dict[str, list[float]], title: str) -> str:
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, values in series.items():
        ax.plot(x, values, label=name)
    ax.set_title(title)
    ax.legend()
    fig.autofmt_xdate()
    return svg(fig)


def pareto_chart(items: list[str], tickets: list[int], cumulative: list[float],
                 title: str) -> str:
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
    return svg(fig)


def pct(value: Any) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def minutes(value: Any) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    value = float(value)
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def number(value: Any, digits: int = 0) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}"


def render(name: str, out_dir: Path, context: dict[str, Any]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out_dir / f"{name}.html", out_dir / f"{name}.md"
    html_path.write_text(ENV.get_template("report.html.j2").render(**context))
    md_path.write_text(ENV.get_template("report.md.j2").render(**context))
    return html_path, md_path


def month_start(month: str) -> date:
    return date.fromisoformat(f"{month}-01")
