"""HTML validation report per run: every expectation with its result, per entity anchors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, select_autoescape

if TYPE_CHECKING:
    from quality.results import EntityValidation

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>SayPro Insights - data validation {{ run_id }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
 table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
 th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top;
          font-size: .9rem; }
 th { background: #f0f0f0; }
 .ok { color: #1a7f37; } .fail { color: #b42318; font-weight: bold; }
 .warn { color: #9a6700; } .quarantined { color: #9a6700; }
 .blocking { color: #b42318; font-weight: bold; }
 code { font-size: .85rem; } ul.examples { margin: 0; padding-left: 1rem; }
</style></head><body>
<h1>Data validation report</h1>
<p>Run <code>{{ run_id }}</code>, written {{ written_at }}.
 {{ results|length }} entities, {{ rows_checked }} rows checked, {{ rows_quarantined }} rows
 quarantined, {{ rows_set_aside }} records set aside before validation. Overall:
 <span class="{{ 'ok' if passed else 'fail' }}">
 {{ 'PASSED' if passed else 'BLOCKED' }}</span>.</p>
<h2>Set aside per source</h2>
<p>Records of this run's new loads kept out of staging: <em>quarantined</em> by a row rule
(<code>quality.quarantine</code>), or set aside before validation because a line or part of a
landed file cannot be read (<code>raw._unreadable_records</code>: file, line, reason) or a
record has no key (<code>raw._unkeyed_records</code>); all of them are listed in
<code>quality.quarantine</code>.</p>
<table id="set-aside"><tr><th>source</th><th>rows checked</th><th>quarantined</th>
<th>unreadable</th><th>without a key</th><th>set aside in all</th></tr>
{% for s in sources %}<tr><td>{{ s.source }}</td><td>{{ s.rows_checked }}</td>
<td>{{ s.rows_quarantined }}</td><td>{{ s.rows_unreadable }}</td><td>{{ s.rows_unkeyed }}</td>
<td>{{ s.total }}</td></tr>{% endfor %}
</table>
<h2>Entities</h2>
<table><tr><th>entity</th><th>loads</th><th>rows checked</th><th>quarantined</th>
<th>set aside before validation</th><th>result</th></tr>
{% for r in results %}<tr><td><a href="#{{ r.source }}__{{ r.entity }}">
raw.{{ r.source }}__{{ r.entity }}</a></td><td>{{ r.load_ids|length }}</td>
<td>{{ r.rows_checked }}</td><td>{{ r.rows_quarantined }}</td><td>{{ r.rows_set_aside }}</td>
<td class="{{ 'ok' if r.passed else 'fail' }}">{{ 'passed' if r.passed else 'blocked' }}
{% if r.warnings %}<span class="warn">({{ r.warnings|length }} warnings)</span>{% endif %}
</td></tr>{% endfor %}
</table>
{% for r in results %}
<section id="{{ r.source }}__{{ r.entity }}">
<h2>raw.{{ r.source }}__{{ r.entity }}</h2>
<p>{{ r.rows_checked }} rows checked from {{ r.load_ids|length }} new load(s),
 {{ r.rows_quarantined }} quarantined, {{ r.rows_set_aside }} set aside before validation
 ({{ r.rows_unreadable }} unreadable, {{ r.rows_unkeyed }} without a key).
 Result: <span class="{{ 'ok' if r.passed else 'fail' }}">
 {{ 'passed' if r.passed else 'blocked' }}</span>.</p>
{% if r.blocking_failures %}<h3 class="fail">Blocking failures</h3><ul>
{% for m in r.blocking_failures %}<li>{{ m }}</li>{% endfor %}</ul>{% endif %}
{% if r.warnings %}<h3 class="warn">Warnings and quarantines</h3><ul>
{% for m in r.warnings %}<li>{{ m }}</li>{% endfor %}</ul>{% endif %}
{% if r.expectations %}
<table><tr><th>expectation</th><th>column</th><th>severity</th><th>row rule</th>
<th>result</th><th>unexpected</th><th>%</th><th>examples</th></tr>
{% for e in r.expectations %}<tr id="{{ r.source }}__{{ r.entity }}__{{ e.name }}">
<td><code>{{ e.name }}</code><br><small>{{ e.expectation }}</small></td>
<td>{{ e.column or '' }}</td><td>{{ e.severity }}</td>
<td>{{ 'yes' if e.row_rule else 'no' }}</td>
<td class="{{ 'ok' if e.success else e.action }}">{{ 'passed' if e.success else e.action }}</td>
<td>{{ e.unexpected_count }}</td><td>{{ '%.2f'|format(e.unexpected_percent) }}</td>
<td>{% if e.examples %}<ul class="examples">{% for x in e.examples %}
<li><code>{{ x.record_key }}</code>: {{ x.reason }}</li>{% endfor %}</ul>{% endif %}</td>
</tr>{% endfor %}
</table>
{% else %}<p>No new rows: nothing to check.</p>{% endif %}
</section>
{% endfor %}
</body></html>
"""


def per_source(results: Sequence[EntityValidation]) -> list[dict[str, Any]]:
    """What each source's new loads had checked, quarantined and set aside, in source order."""
    sources: dict[str, dict[str, Any]] = {}
    for r in results:
        row = sources.setdefault(r.source, {"source": r.source, "rows_checked": 0,
                                            "rows_quarantined": 0, "rows_unreadable": 0,
                                            "rows_unkeyed": 0, "total": 0})
        row["rows_checked"] += r.rows_checked
        row["rows_quarantined"] += r.rows_quarantined
        row["rows_unreadable"] += r.rows_unreadable
        row["rows_unkeyed"] += r.rows_unkeyed
        row["total"] += r.rows_quarantined + r.rows_set_aside
    return list(sources.values())


def write_validation_report(results: Sequence[EntityValidation], path: Path) -> Path:
    """Write the run's HTML report (anchors `#<source>__<entity>`, `#set-aside`) and return
    its path. Values from the sources (in reasons and examples) are HTML-escaped."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    run_ids = sorted({r.run_id for r in results})
    html = env.from_string(_TEMPLATE).render(
        results=list(results),
        sources=per_source(results),
        rows_set_aside=sum(r.rows_set_aside for r in results),
        run_id=", ".join(run_ids) or "-",
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows_checked=sum(r.rows_checked for r in results),
        rows_quarantined=sum(r.rows_quarantined for r in results),
        passed=all(r.passed for r in results),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
