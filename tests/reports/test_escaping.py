"""Text from the sources is escaped wherever the reports show it: HTML tables, SVG chart labels
and the Markdown twin (which would pass raw HTML through)."""

from pathlib import Path

import duckdb

from reports.common import bar_chart, markdown_cell, markdown_text
from reports.monthly import render_support_monthly
from reports.quarterly import render_quarterly_review

SCRIPT = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;"
SQL_SCRIPT = SCRIPT.replace("'", "''")


def _marts(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"""CREATE TABLE marts.fct_tickets AS SELECT * FROM (VALUES
            ('{SQL_SCRIPT} category', '{SQL_SCRIPT}', 'normal', 'met', 'met', DATE '2025-03-01'),
            ('Billing', 'web | [link](javascript:alert(1))', 'high', 'met', 'breached',
             DATE '2025-03-01'))
            t(category, channel, priority, frt_sla_status, resolution_sla_status,
              created_month)""")
        con.execute(f"""CREATE TABLE marts.agg_web_pages_monthly AS SELECT
            DATE '2025-03-01' AS month_start, 'https://saypro.online/{SQL_SCRIPT}' AS page,
            3 AS pageviews, 2 AS entries, 1 AS exits""")
        con.execute(f"""CREATE TABLE marts.rca_pareto AS SELECT 'quarter' AS period_grain,
            DATE '2025-01-01' AS period_start, dimension, '{SQL_SCRIPT}' AS item, 5 AS tickets,
            1.0 AS share, 1.0 AS cumulative_share, 1 AS rank, true AS is_vital_few
            FROM (VALUES ('category'), ('issue_type')) d(dimension)""")


def test_source_text_is_escaped_in_html_svg_and_markdown(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    _marts(warehouse)
    monthly = render_support_monthly(warehouse, "2025-03", tmp_path)
    quarterly = render_quarterly_review(warehouse, "2025-Q1", tmp_path)
    for result in (monthly, quarterly):
        html, md = result.html_path.read_text(), result.md_path.read_text()
        assert "<script" not in html.lower() and "<script" not in md.lower()
        assert ESCAPED in html and ESCAPED in md
    html = monthly.html_path.read_text()
    assert f"<td>{ESCAPED}alert(&#39;x&#39;)&lt;/script&gt;</td>" in html  # channel table
    assert f"saypro.online/{ESCAPED}" in html  # top landing pages
    assert "<svg" in html and f"{ESCAPED}alert" in html[html.index("<svg"):]  # chart label
    md = monthly.md_path.read_text()
    assert "| web \\| \\[link\\](javascript:alert(1)) |" in md
    assert "<svg" in quarterly.html_path.read_text()


def test_markdown_and_chart_helpers() -> None:
    assert markdown_text("a & <b>") == "a &amp; &lt;b&gt;"
    assert markdown_cell("a|b\n[c](d) `e` \\") == "a\\|b \\[c\\](d) \\`e\\` \\\\"
    svg = bar_chart("labels", [SCRIPT, "x --> <img src=x>"], [1, 2], f"title {SCRIPT}").svg
    assert "<script" not in svg and "<img" not in svg and "-->" not in svg.replace(" -->", "")
