"""The monthly report shows SLA compliance as dbt computes it, never recomputed: per priority
from marts.support_sla_monthly (small samples suppressed), over all priorities the KPI of
kpi_values through marts.support_monthly."""

from pathlib import Path

import duckdb

from reports.monthly import HEADLINES, render_support_monthly


def _marts(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        # Statuses that would give other rates, were the report to count them itself.
        con.execute("""CREATE TABLE marts.fct_tickets AS SELECT 'Billing' AS category,
            'web' AS channel, 'high' AS priority, 'breached' AS frt_sla_status,
            'breached' AS resolution_sla_status, DATE '2025-03-01' AS created_month
            FROM range(40)""")
        con.execute("""CREATE TABLE marts.support_sla_monthly AS SELECT * FROM (VALUES
            (DATE '2025-03-01', 'high', 37, 30, 3, 30 / 33, 'reliable', 20, 5, 0.8, 'indicative'),
            (DATE '2025-03-01', 'urgent', 3, 2, 1, NULL, 'suppressed', 1, 1, NULL, 'suppressed'))
            t(month_start, priority, tickets, frt_met, frt_breached, frt_sla_compliance,
              frt_reliability, resolution_met, resolution_breached, resolution_sla_compliance,
              resolution_reliability)""")
        others = ", ".join(f"NULL::DOUBLE AS {column}" for column, *_ in HEADLINES
                           if column not in ("tickets_created", "frt_sla_compliance",
                                             "resolution_sla_compliance"))
        con.execute(f"""CREATE TABLE marts.support_monthly AS SELECT DATE '2025-03-01' AS
            month_start, 40 AS tickets_created, 0.875 AS frt_sla_compliance,
            0.75 AS resolution_sla_compliance, {others}""")


def test_sla_by_priority_reads_the_marts(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    _marts(warehouse)
    md = render_support_monthly(warehouse, "2025-03", tmp_path).md_path.read_text()
    table = md[md.index("SLA compliance by priority"):]
    rows = [line.rstrip() for line in table.splitlines() if line.startswith("| ")][1:4]
    assert rows == ["| high | 37 | 90.9% (n = 33) | 80.0% (n = 25) |",
                    "| urgent | 3 | n/a (n = 3) | n/a (n = 2) |",
                    "| all priorities | 40 | 87.5% | 75.0% |"]
