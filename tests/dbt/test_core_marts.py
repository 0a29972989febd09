"""Core marts on a generated warehouse: contracts, no PII, planted stories, KPIs recomputed
independently from the generated JSONL, and month rebuilds equal to the full build."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from tests.conftest import DBT, DBT_PROJECT, TIMEZONE, SampleBuild
from tests.conftest import SAMPLE_SALT as SALT

from .conftest import INCREMENTAL_MODELS

CORE_YML = DBT_PROJECT / "models" / "marts" / "core" / "_core.yml"

# DESIGN.md section 8: required columns of the core marts.
REQUIRED = {
    "dim_person": "person_id, signup_date, province, settlement_type, age_band, gender, "
                  "employment_status, is_single_parent, is_premium",
    "fct_tickets": "ticket_id, person_id, created_at, created_month, category, issue_type, "
                   "fishbone_group, priority, channel, status, first_reply_minutes, "
                   "first_resolution_minutes, full_resolution_minutes, reopen_count, "
                   "public_agent_replies, is_one_touch, frt_sla_status, resolution_sla_status, "
                   "csat_rating",
    "fct_ticket_backlog_daily": "day, priority, backlog_tickets",
    "fct_web_visits": "visit_id, visitor_id, person_id, visit_date, channel, device_type, "
                      "is_returning, pageviews, actions, is_bounce, duration_seconds, "
                      "landing_page, exit_page, ad_views, ad_clicks, seller_contacts, "
                      "ads_posted, is_converted",
    "agg_web_traffic_monthly": "month_start, channel, visits, unique_visitors, "
                               "returning_visitors, pageviews, pages_per_visit, bounce_rate, "
                               "avg_time_on_site_seconds, ad_views, ad_clicks, ad_ctr, "
                               "conversion_rate",
    "agg_web_pages_monthly": "month_start, page, pageviews, entries, exits",
    "fct_enrolments": "course_id, course_name, programme, person_id, cohort_month, "
                      "is_completed, completed_at, grade_pct, is_passed, last_access_at",
    "fct_survey_responses": "response_id, form, submitted_at, person_id, programme, "
                            "nps_score, nps_class, csat_score, employment_status, "
                            "sentiment_score, sentiment_label",
    "support_monthly": "month_start, tickets_created, tickets_solved, "
                       "median_first_reply_minutes, p90_first_reply_minutes, "
                       "median_full_resolution_minutes, frt_sla_compliance, "
                       "resolution_sla_compliance, reopen_rate, csat, backlog_end_of_month",
}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?27|0)[\s-]?\d{2}[\s-]?\d{3}[\s-]?\d{4}(?![0-9A-Za-z])")


def _local_month(ts: pd.Series) -> pd.Series:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert(TIMEZONE)
    return local.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.normalize()


def _stories(build: SampleBuild) -> dict[str, dict]:
    stories = json.loads((build.drop / "stories.json").read_text())
    return {s["id"]: s for s in stories}


# --- contracts -----------------------------------------------------------------------------

def test_core_marts_match_their_contracts(core_build: SampleBuild) -> None:
    spec = yaml.safe_load(CORE_YML.read_text())
    actual = core_build.query(
        "select table_name, column_name, data_type, ordinal_position "
        "from information_schema.columns where table_schema = 'marts' order by all")
    for model in spec["models"]:
        name = model["name"]
        cols = actual[actual.table_name == name]
        assert not cols.empty, f"{name} missing from schema marts"
        declared = [(c["name"], c["data_type"].upper()) for c in model["columns"]]
        built = list(cols.sort_values("ordinal_position")[["column_name", "data_type"]]
                     .itertuples(index=False, name=None))
        assert built == declared, name
        assert all(c.get("description") for c in model["columns"]), name
    assert {m["name"] for m in spec["models"]} >= set(REQUIRED)


@pytest.mark.parametrize("mart", sorted(REQUIRED))
def test_required_columns_of_design(core_build: SampleBuild, mart: str) -> None:
    cols = set(core_build.query(f"select * from marts.{mart} limit 0").columns)
    missing = {c.strip() for c in REQUIRED[mart].split(",")} - cols
    assert not missing, missing
    assert len(core_build.query(f"select * from marts.{mart} limit 1")) == 1


def test_no_pii_in_any_mart(core_build: SampleBuild) -> None:
    cols = core_build.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type = 'VARCHAR'")
    for name in cols.column_name:
        assert not re.search(r"email|phone|first_?name|last_?name|full_?name|user_?name", name)
    for table, group in cols.groupby("table_name"):
        df = core_build.query(f"select {', '.join(group.column_name)} from marts.{table}")
        for col in df.columns:
            values = df[col].dropna().astype(str)
            assert not values.str.contains(EMAIL).any(), f"e-mail in {table}.{col}"
            assert not values.str.contains(PHONE).any(), f"phone number in {table}.{col}"


def test_staging_hashes_and_masks_pii(core_build: SampleBuild) -> None:
    users = {u["id"]: u for u in core_build.jsonl("zendesk", "users")}
    staged = core_build.query(
        "select user_id, email_hash, phone_hash from staging.stg_zendesk__users")
    checked = 0
    for row in staged.itertuples():
        email = users[row.user_id].get("email")
        expected = (hashlib.sha256((SALT + email.strip().lower()).encode()).hexdigest()
                    if email and email.strip() else None)
        assert row.email_hash == expected
        checked += expected is not None
    assert checked > 0
    bodies = core_build.query(
        "select comment_body from staging.stg_zendesk__ticket_events "
        "where comment_body is not null")
    assert not bodies.comment_body.str.contains(EMAIL).any()
    names = core_build.query(
        "select column_name from information_schema.columns where table_schema = 'staging'")
    assert not names.column_name.str.fullmatch(r"(first|last|full|user)?_?name|email|phone").any()


# --- planted stories -----------------------------------------------------------------------

def test_story_low_capacity_month_slow_first_reply(core_build: SampleBuild) -> None:
    expect = _stories(core_build)["low_capacity_month"]["expect"]
    monthly = core_build.query(
        "select month_start::varchar as m, median_first_reply_minutes as v "
        "from marts.support_monthly")
    slow = monthly.loc[monthly.m == expect["month_start"], "v"].item()
    others = monthly.loc[monthly.m != expect["month_start"], "v"].median()
    assert slow >= expect["ratio_to_other_months_median"] * others


def test_story_billing_surge_quarter(core_build: SampleBuild) -> None:
    quarter = _stories(core_build)["payment_surge"]["expect"]["period_start"]
    shares = core_build.query(
        "select date_trunc('quarter', created_month)::date::varchar as q, "
        "avg((category = 'Billing and Payment')::int) as share "
        "from marts.fct_tickets group by 1").set_index("q")["share"]
    others = shares.drop(quarter)
    assert shares[quarter] >= 1.6 * others.max()
    top = core_build.query(
        "select category from marts.fct_tickets "
        "where date_trunc('quarter', created_month) = ?::date "
        "group by 1 order by count(*) desc, 1 limit 1", [quarter]).category.item()
    assert top == "Billing and Payment"


# --- independent recomputation from the generated JSONL ------------------------------------

def _first_reply_minutes_from_jsonl(build: SampleBuild) -> pd.DataFrame:
    agents = {u["id"] for u in build.jsonl("zendesk", "users")
              if u.get("role") in ("agent", "admin")}
    tickets = {t["id"]: t for t in build.jsonl("zendesk", "tickets")}
    audits = {e["id"]: e for e in build.jsonl("zendesk", "ticket_events")}  # dedupe on id
    comments = defaultdict(list)
    for audit in audits.values():
        for pos, child in enumerate(audit.get("child_events") or []):
            if child.get("event_type") == "Comment":
                at = pd.Timestamp(child.get("created_at") or audit["created_at"])
                comments[audit["ticket_id"]].append((at, audit["id"], pos, child))
    rows = []
    for tid, ticket in tickets.items():
        created = pd.Timestamp(ticket["created_at"])
        ordered = sorted(comments.get(tid, []), key=lambda c: c[:3])
        replies = [at for at, _, _, c in ordered[1:]
                   if c.get("public") and c.get("author_id") in agents and at >= created]
        minutes = (min(replies) - created).total_seconds() / 60.0 if replies else None
        rows.append({"ticket_id": tid, "created_at": ticket["created_at"], "minutes": minutes})
    df = pd.DataFrame(rows)
    df["month"] = _local_month(df.created_at)
    return df


def test_first_reply_median_recomputed_with_pandas(core_build: SampleBuild) -> None:
    df = _first_reply_minutes_from_jsonl(core_build)
    replied = df.dropna(subset=["minutes"]).groupby("month")["minutes"]
    volume = df.groupby("month").size()
    mart = core_build.query("select * from marts.support_monthly")
    mart = mart.set_index(pd.to_datetime(mart.month_start))
    assert sorted(mart.index) == sorted(volume.index)
    # DESIGN.md section 6, small samples: the median of fewer than 10 replies is not published.
    for month, median in replied.median().items():
        published = mart.loc[month, "median_first_reply_minutes"]
        if replied.size()[month] < 10:
            assert pd.isna(published)
        else:
            assert published == pytest.approx(median, rel=1e-9)
        assert mart.loc[month, "tickets_created"] == volume[month]
    per_ticket = core_build.query("select ticket_id, first_reply_minutes from marts.fct_tickets")
    merged = per_ticket.merge(df, on="ticket_id")
    assert len(merged) == len(df)
    both = merged.dropna(subset=["minutes"])
    assert merged.first_reply_minutes.isna().sum() == merged.minutes.isna().sum()
    assert (both.first_reply_minutes - both.minutes).abs().max() < 1e-6


def test_monthly_visits_recomputed_with_pandas(core_build: SampleBuild) -> None:
    visits = pd.DataFrame({v["idVisit"]: v for v in core_build.jsonl("matomo", "visits")}.values())
    visits["month"] = _local_month(pd.to_datetime(visits.firstActionTimestamp, unit="s", utc=True))
    expected = visits.groupby("month").agg(visits=("idVisit", "nunique"),
                                           unique_visitors=("visitorId", "nunique"),
                                           bounces=("actions", lambda a: int((a == 1).sum())))
    mart = core_build.query(
        "select month_start, visits, unique_visitors, bounces from marts.agg_web_traffic_monthly "
        "where channel = 'all'")
    mart = mart.set_index(pd.to_datetime(mart.month_start)).drop(columns="month_start")
    pd.testing.assert_frame_equal(mart.sort_index().astype("int64"),
                                  expected.sort_index().astype("int64"),
                                  check_names=False, check_index_type=False)


def _page(url: str) -> str | None:
    """DESIGN.md section 6: the URL without query string, fragment or trailing slash."""
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/") or None


def test_visit_measures_recomputed_from_vendor_json(core_build: SampleBuild) -> None:
    """Page views, landing/exit pages, ad and listing events and conversion per visit, counted
    in plain Python from the generated vendor records."""
    expected = {}
    for visit in core_build.jsonl("matomo", "visits"):
        actions = visit.get("actionDetails") or []
        pages = [_page(a["url"]) for a in actions if a.get("type") == "action"]
        events = Counter((a.get("eventCategory", "").lower(), a.get("eventAction", "").lower())
                         for a in actions if a.get("type") == "event")
        expected[int(visit["idVisit"])] = (
            len(pages), pages[0] if pages else None, pages[-1] if pages else None,
            events["classified_ad", "view"], events["classified_ad", "contact_seller"],
            events["listing", "ad_post_completed"],
            events["classified_ad", "contact_seller"] + events["listing", "ad_post_completed"] > 0)
    mart = core_build.query(
        "select visit_id, pageviews, landing_page, exit_page, ad_views, seller_contacts, "
        "ads_posted, is_converted from marts.fct_web_visits")
    actual = {int(r.visit_id): (int(r.pageviews), r.landing_page if isinstance(r.landing_page, str)
                                else None, r.exit_page if isinstance(r.exit_page, str) else None,
                                int(r.ad_views), int(r.seller_contacts), int(r.ads_posted),
                                bool(r.is_converted))
              for r in mart.itertuples()}
    assert actual == expected


def test_enrolments_are_students_only(core_build: SampleBuild) -> None:
    site = {c["id"] for c in core_build.jsonl("moodle", "courses") if c.get("format") == "site"}
    students = {(e["courseid"], e["id"]) for e in core_build.jsonl("moodle", "enrolments")
                if any(r.get("shortname") == "student" for r in e.get("roles") or [])
                and e["courseid"] not in site}
    mart = core_build.query("select course_id, user_id from marts.fct_enrolments")
    assert set(map(tuple, mart.itertuples(index=False, name=None))) == students


def test_sentiment_is_vader_on_masked_comments(core_build: SampleBuild) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    df = core_build.query(
        "select f.comment_text, s.sentiment_score, s.sentiment_label "
        "from staging.stg_kobo__feedback_responses f "
        "join marts.fct_survey_responses s using (response_id) where f.comment_text is not null")
    assert len(df) > 10
    for row in df.itertuples():
        score = analyzer.polarity_scores(row.comment_text)["compound"]
        assert row.sentiment_score == pytest.approx(score)
        label = "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"
        assert row.sentiment_label == label
    assert set(df.sentiment_label) == {"negative", "neutral", "positive"}


def test_backlog_matches_open_tickets_at_cutoff(core_build: SampleBuild) -> None:
    last = core_build.query(
        "select sum(backlog_tickets) as n from marts.fct_ticket_backlog_daily "
        "where day = (select max(day) from marts.fct_ticket_backlog_daily)").n.item()
    open_now = core_build.query(
        "select count(*) as n from marts.fct_tickets "
        "where status in ('new', 'open', 'pending', 'hold')").n.item()
    assert last == open_now


# --- incremental by month ------------------------------------------------------------------

@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_month_rebuild_equals_full_build(month_rebuild, model: str) -> None:
    full, rebuilt = month_rebuild[model]
    assert len(full) > 0
    pd.testing.assert_frame_equal(full.astype(str), rebuilt.astype(str))


def test_run_settings_come_from_the_environment_unless_a_var_is_given(
        core_build: SampleBuild, tmp_path: Path) -> None:
    """The Dagster assets pass the cut-off and the period as SAYPRO_DBT_* environment variables
    (a new var value would make dbt parse the whole project at every run); `--vars` still wins."""
    inline = "select {{ as_of() }} as cut_off where {{ period_filter('d') }}"

    def compiled(settings: dict[str, str], *args: str) -> str:
        proc = subprocess.run(
            [str(DBT), "-q", "compile", "--profiles-dir", ".", "--inline", inline,
             "--target-path", str(tmp_path / "target"), *args],
            cwd=DBT_PROJECT, env=core_build.env() | settings, capture_output=True, text=True,
            timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return " ".join(proc.stdout.split())

    month = {"SAYPRO_DBT_AS_OF": "2025-07-01T09:30:00+00:00",
             "SAYPRO_DBT_PERIOD_START": "2025-06-01", "SAYPRO_DBT_PERIOD_END": "2025-07-01"}
    assert compiled(month) == ("select cast('2025-07-01T09:30:00+00:00' as timestamptz) as "
                               "cut_off where ((d >= '2025-06-01'::date and "
                               "d < '2025-07-01'::date))")
    assert compiled(month, "--vars", '{"as_of": "2026-01-15T00:00:00+00:00"}').startswith(
        "select cast('2026-01-15T00:00:00+00:00' as timestamptz) as cut_off "
        "where ((d >= '2025-06-01'")
    # months outside the partition that changed since they were built (orchestration's list)
    behind = month | {"SAYPRO_DBT_EXTRA_MONTHS": "2025-01-01,2025-03-01"}
    assert compiled(behind).endswith(
        "where ((d >= '2025-06-01'::date and d < '2025-07-01'::date) or "
        "date_trunc('month', d)::date in ('2025-01-01'::date, '2025-03-01'::date))")
    assert compiled({}) == "select now() as cut_off where true"


# --- staging tables maintained by load ------------------------------------------------------

TABLES_BY_LOAD = [
    # model, raw entity, id field in the record, id column, patch, patched column and value
    ("stg_matomo__visits", ("matomo", "visits"), "idVisit", "visit_id",
     '{"referrerType": "campaign"}', "channel", "campaign"),
    ("stg_zendesk__ticket_events", ("zendesk", "ticket_events"), "id", "audit_id",
     '{"updater_id": 424242}', "updater_id", "424242"),
]


@pytest.mark.parametrize(("model", "entity", "id_field", "id_column", "patch", "column", "value"),
                         TABLES_BY_LOAD, ids=[t[0] for t in TABLES_BY_LOAD])
def test_staging_table_maintained_by_load_equals_full_build(
        core_build: SampleBuild, tmp_path: Path, model: str, entity: tuple[str, str], id_field: str,
        id_column: str, patch: str, column: str, value: str) -> None:
    """A staging table maintained by load parses only new raw versions on an incremental run;
    after a newer version of a record lands, a new record lands and a parsed version is
    quarantined, it holds exactly what a full build holds."""
    source, name = entity
    raw = f"raw.{source}__{name}"
    incremental = core_build.with_warehouse(tmp_path / "by_load")
    with duckdb.connect(str(incremental.warehouse)) as con:
        changed, quarantined, template = (r[0] for r in con.execute(
            f"select record_key from {raw} order by record_key limit 3").fetchall())
        con.execute(f"""
            update {raw} set record = json_merge_patch(record, ?::JSON),
                             load_id = 'later-load', loaded_at = now()
            where record_key = ?""", [patch, changed])
        con.execute(f"""
            insert into {raw}
            select '999999999', json_merge_patch(record, '{{"{id_field}": 999999999}}'), source,
                   entity, 'later-load', now(), landing_file, record_index
            from {raw} where record_key = ?""", [template])
        con.execute("""
            insert into quality.quarantine (source, entity, record_key, load_id, rule, reason)
            select ?, ?, record_key, load_id, 'test', 'quarantined after parsing'
            from raw_table where record_key = ?""".replace("raw_table", raw),
            [source, name, quarantined])
    incremental.dbt("run", "--select", model)

    full = incremental.with_warehouse(tmp_path / "full")
    full.dbt("run", "--select", model, "--full-refresh")

    sql = f"select * from staging.{model} order by all"
    by_load, rebuilt = incremental.query(sql), full.query(sql)
    assert len(by_load) > 0
    pd.testing.assert_frame_equal(by_load.astype(str), rebuilt.astype(str))
    ids = by_load[id_column].astype(str)
    assert (ids == "999999999").any() and not (ids == quarantined).any()
    assert set(by_load.loc[ids == changed, column].astype(str)) == {value}


def test_a_person_without_a_dated_record_is_kept_without_signup(
        core_build: SampleBuild, tmp_path: Path) -> None:
    """A student who never accessed a course without a start date (Moodle's 0) has no dated
    appearance in any source: dim_person keeps them, signup_date NULL (its build failed on a
    not-null constraint), and their enrolment has no cohort month."""
    build = core_build.with_warehouse(tmp_path / "undated")
    with duckdb.connect(str(build.warehouse)) as con:
        con.execute("""
            insert into raw.moodle__courses
            select '999999', json_merge_patch(record, '{"id": 999999, "startdate": 0}'), source,
                   entity, 'later-load', now(), landing_file, record_index
            from raw.moodle__courses where record->>'$.format' is distinct from 'site'
            order by record_key limit 1""")
        con.execute("""
            insert into raw.moodle__enrolments
            select '999999-999999', json_merge_patch(record, '{"courseid": 999999, "id": 999999,
                   "idnumber": "SP-UNDATED", "firstaccess": 0, "lastaccess": 0,
                   "lastcourseaccess": 0}'), source, entity, 'later-load', now(), landing_file,
                   record_index
            from raw.moodle__enrolments
            where list_contains(json_extract_string(record, '$.roles[*].shortname'), 'student')
            order by record_key limit 1""")
    build.dbt("run", "--select", "+dim_person", "+fct_enrolments")
    person = build.query("select signup_date from marts.dim_person where person_id = 'SP-UNDATED'")
    assert len(person) == 1 and person["signup_date"].isna().all()
    enrolment = build.query("select cohort_month from marts.fct_enrolments "
                            "where person_id = 'SP-UNDATED'")
    assert len(enrolment) == 1 and enrolment["cohort_month"].isna().all()
