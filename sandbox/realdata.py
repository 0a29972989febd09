"""Real public data sets in the drop-folder shape (DESIGN.md section 4), for tests and trials.

Two sources, both kept as data only under `../shared/realdata/` (see their
SOURCE_AND_LICENSE.md files):

**OULAD** (Open University Learning Analytics Dataset, CC BY 4.0) → `moodle/{categories,
courses, enrolments, completions, grades}`, records shaped like the Moodle web-service items:

- One category per module (`idnumber` `oulad_<module>`) under a root category `oulad`: all
  are training courses, none is `events`.
- One course per module presentation (`code_module` + `code_presentation`), ids 2, 3, ... in
  (module, presentation) order. `startdate`: a presentation `YYYYB` starts in February and
  `YYYYJ` in October of year YYYY (OULAD documentation); the course starts on the 1st of that
  month at 00:00 in Africa/Johannesburg (SAST, UTC+2), so its local month is unambiguous.
  `enddate` = start + `module_presentation_length` days. OULAD's other dates are days relative
  to this start.
- Every registration is an enrolment (withdrawn students too, DESIGN.md section 6) with the
  role `student`. Moodle user `id` = 3 + the rank of `id_student` among the distinct students
  (1 and 2 are Moodle's guest and admin); `idnumber` = `id_student`, the person id.
  `lastcourseaccess` = start + the latest of the registration day (0 when missing), the
  student's latest submission day in the presentation and the unregistration day;
  `firstaccess` / `lastaccess` are site-wide: the earliest registration (start when missing)
  and the latest `lastcourseaccess` over the student's presentations.
- Completion (`core_completion_get_course_completion_status`): `completed` is true when
  `final_result` is Pass or Distinction. Its one criterion, the activity completion of the
  final result, has status "Yes" and `timecompleted` = the course's `enddate` then, else "No";
  its `details.status` is the `final_result`.
- Grades (`gradereport_user_get_grade_items` usergrades): one course-total item per student
  with at least one scored assessment of non-zero weight, `graderaw` = the weight-averaged
  score (0-100) of those assessments, `gradepass` 40 (the OU pass mark). OULAD holds exam
  scores for modules CCC and DDD only, so the total is mostly the coursework average: the
  pipeline's pass_rate (grade >= gradepass) on this data is "coursework average >= 40", which
  is not the `final_result` (course_completion_rate is).

**NPSgame** (garden-centre customer NPS survey, CC0) → `kobo/feedback` submissions and a
`kobo/forms` asset of the feedback form. `_id` is the row number (1..13954); `nps` is the
answer as text, left out when `NA` (question unanswered); `comment` is `explication`, left out
when `NA`. There is no `beneficiary_id` (anonymous customers) and no `csat`: the file's
`satisfaction` is a 1-10 scale, not the form's 1-5 CSAT.

The file has no date column, so `_submission_time` follows this rule: with N rows and k the
0-based row index in file order, the row is in month m = 1 + (12 k // N) of 2025; the j-th of
the c rows of that month (0-based) is on day 1 + (j × days_in_month // c) at 12:00
Africa/Johannesburg (10:00 UTC). Months therefore hold 1,162 or 1,163 rows.

The CSV is not valid UTF-8: the text is Latin-1, except that some comments were typed in DOS
code page 850. Bytes 0x80-0x9F (control characters in Latin-1) and 0xAE, 0xAF, 0xB7, 0xD2,
0xD3, 0xD4, 0xF8 (characters that do not occur in French, seen only in those comments) are read
as cp850 (0x82 = "é", 0xD4 = "È", 0xAE/0xAF = "«»", ...); 0x80 right after a digit is the
Windows "€" ("15€"), elsewhere cp850 "Ç".

Output files are written whole and deterministically, so converting again gives files the
drop-folder loader skips as already loaded.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pandas as pd

LOCAL_TZ = ZoneInfo("Africa/Johannesburg")
PRESENTATION_MONTHS = {"B": 2, "J": 10}
PASSED_RESULTS = ("Pass", "Distinction")
FIRST_USER_ID = 3
OU_PASS_MARK = 40
NPS_YEAR = 2025
NPS_LOCAL_HOUR = 12
FEEDBACK_FORM_UID = "aNpsGameFeedback"
FEEDBACK_FORM_VERSION = "vnpsgame1"

_CP850_BYTES = bytes(range(0x80, 0xA0)) + b"\xae\xaf\xb7\xd2\xd3\xd4\xf8"
_CP850_FIX = {b: bytes([b]).decode("cp850") for b in _CP850_BYTES}
_EURO_AFTER_DIGIT = re.compile(r"(?<=\d)\x80")


# -------------------------------------------------------------------------------- OULAD
def presentation_start(code_presentation: str) -> datetime:
    """Local start of a presentation (`2013B` → 2013-02-01 00:00 SAST)."""
    year, letter = int(code_presentation[:4]), code_presentation[4:].upper()
    return datetime(year, PRESENTATION_MONTHS[letter], 1, tzinfo=LOCAL_TZ)


def _read_oulad(folder: Path, name: str) -> pd.DataFrame:
    """An OULAD table: `?` (original files) or an empty field marks a missing value."""
    return pd.read_csv(folder / f"{name}.csv", na_values=["?"])


def _courses(folder: Path) -> pd.DataFrame:
    courses = _read_oulad(folder, "courses").sort_values(["code_module", "code_presentation"])
    courses = courses.reset_index(drop=True)
    courses["course_id"] = courses.index + 2  # 1 is Moodle's site course
    starts = courses["code_presentation"].map(presentation_start)
    courses["startdate"] = starts.map(lambda s: int(s.timestamp()))
    courses["enddate"] = [
        int((s + timedelta(days=int(n))).timestamp())
        for s, n in zip(starts, courses["module_presentation_length"], strict=True)
    ]
    return courses


def _categories(courses: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, int]]:
    modules = sorted(courses["code_module"].unique())
    ids = {module: 2 + i for i, module in enumerate(modules)}
    counts = courses["code_module"].value_counts()
    records: list[dict[str, Any]] = [
        {"id": 1, "name": "Open University modules (OULAD)", "idnumber": "oulad", "parent": 0,
         "coursecount": 0, "depth": 1, "path": "/1", "visible": 1, "sortorder": 10000},
    ]
    records += [
        {"id": ids[m], "name": f"Module {m}", "idnumber": f"oulad_{m.lower()}", "parent": 1,
         "coursecount": int(counts[m]), "depth": 2, "path": f"/1/{ids[m]}", "visible": 1,
         "sortorder": 10000 + ids[m]}
        for m in modules
    ]
    return records, ids


def _course_records(courses: pd.DataFrame, category_ids: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "id": int(c.course_id),
            "shortname": f"{c.code_module}-{c.code_presentation}",
            "fullname": f"OU module {c.code_module}, presentation {c.code_presentation}",
            "displayname": f"OU module {c.code_module}, presentation {c.code_presentation}",
            "idnumber": f"{c.code_module}-{c.code_presentation}",
            "categoryid": category_ids[c.code_module],
            "startdate": int(c.startdate),
            "enddate": int(c.enddate),
            "format": "topics",
            "visible": 1,
            "enablecompletion": 1,
        }
        for c in courses.itertuples()
    ]


def _registrations(folder: Path, courses: pd.DataFrame) -> pd.DataFrame:
    """One row per registration with its course, Moodle user id and access times (unix)."""
    keys = ["code_module", "code_presentation", "id_student"]
    info = _read_oulad(folder, "studentInfo")[[*keys, "final_result"]]
    regs = info.merge(_read_oulad(folder, "studentRegistration"), on=keys, how="left",
                      validate="one_to_one")
    assessments = _read_oulad(folder, "assessments")
    submitted = _read_oulad(folder, "studentAssessment").merge(
        assessments[["id_assessment", "code_module", "code_presentation", "weight"]],
        on="id_assessment", validate="many_to_one")
    last_submission = (submitted.groupby(keys)["date_submitted"].max()
                       .rename("last_submission").reset_index())
    regs = regs.merge(last_submission, on=keys, how="left")
    scored = submitted[submitted["score"].notna() & (submitted["weight"] > 0)].assign(
        weighted=lambda d: d["score"] * d["weight"])
    totals = scored.groupby(keys)[["weighted", "weight"]].sum().reset_index()
    totals["course_total"] = totals["weighted"] / totals["weight"]
    regs = regs.merge(totals[[*keys, "course_total"]], on=keys, how="left")
    regs = regs.merge(
        courses[["code_module", "code_presentation", "course_id", "startdate", "enddate"]],
        on=["code_module", "code_presentation"], validate="many_to_one")

    students = sorted(regs["id_student"].unique())
    regs["user_id"] = regs["id_student"].map(
        {s: FIRST_USER_ID + i for i, s in enumerate(students)})
    day = 86_400
    registered = regs["date_registration"].fillna(0)
    last_day = pd.concat([registered, regs["last_submission"], regs["date_unregistration"]],
                         axis=1).max(axis=1)
    regs["registered_at"] = regs["startdate"] + (registered * day).astype("int64")
    regs["lastcourseaccess"] = regs["startdate"] + (last_day * day).astype("int64")
    by_user = regs.groupby("user_id")
    regs["firstaccess"] = by_user["registered_at"].transform("min")
    regs["lastaccess"] = by_user["lastcourseaccess"].transform("max")
    return regs.sort_values(["course_id", "user_id"]).reset_index(drop=True)


def _enrolment(r: Any) -> dict[str, Any]:
    return {
        "id": int(r.user_id),
        "username": f"oulad{r.id_student}",
        "idnumber": str(r.id_student),
        "firstaccess": int(r.firstaccess),
        "lastaccess": int(r.lastaccess),
        "lastcourseaccess": int(r.lastcourseaccess),
        "roles": [{"roleid": 5, "name": "", "shortname": "student", "sortorder": 0}],
        "courseid": int(r.course_id),
    }


def _completion(r: Any) -> dict[str, Any]:
    completed = r.final_result in PASSED_RESULTS
    return {
        "completionstatus": {
            "completed": completed,
            "aggregation": 1,
            "completions": [{
                "type": 4,
                "title": "Activity completion",
                "status": "Yes" if completed else "No",
                "complete": completed,
                "timecompleted": int(r.enddate) if completed else None,
                "details": {"type": "Activity", "criteria": "Final result",
                            "requirement": "Achieving a pass grade", "status": r.final_result},
            }],
        },
        "warnings": [],
        "courseid": int(r.course_id),
        "userid": int(r.user_id),
    }


def _grade(r: Any) -> dict[str, Any]:
    total = float(r.course_total)
    return {
        "courseid": int(r.course_id),
        "userid": int(r.user_id),
        "useridnumber": str(r.id_student),
        "maxdepth": 1,
        "gradeitems": [{
            "id": int(r.course_id) * 10,
            "itemname": None,
            "itemtype": "course",
            "itemmodule": None,
            "graderaw": total,
            "grademin": 0,
            "grademax": 100,
            "gradepass": OU_PASS_MARK,
            "percentageformatted": f"{total:.2f} %",
        }],
    }


def convert_oulad(folder: Path, out: Path) -> dict[str, int]:
    """Write `out/moodle/<entity>/oulad.jsonl` from the OULAD CSVs; returns records per entity."""
    courses = _courses(folder)
    categories, category_ids = _categories(courses)
    regs = _registrations(folder, courses)
    rows = list(regs.itertuples())
    entities = {
        "categories": categories,
        "courses": _course_records(courses, category_ids),
        "enrolments": [_enrolment(r) for r in rows],
        "completions": [_completion(r) for r in rows],
        "grades": [_grade(r) for r in rows if pd.notna(r.course_total)],
    }
    for entity, records in entities.items():
        _write_jsonl(out / "moodle" / entity / "oulad.jsonl", records)
    return {f"moodle/{entity}": len(records) for entity, records in entities.items()}


# ------------------------------------------------------------------------------ NPSgame
def decode_nps_bytes(raw: bytes) -> str:
    """The NPSgame CSV's text: Latin-1 with the cp850 bytes fixed (see the module docstring)."""
    text = _EURO_AFTER_DIGIT.sub("€", raw.decode("latin-1"))
    return text.translate({b: char for b, char in _CP850_FIX.items()})


def submission_times(n_rows: int) -> list[datetime]:
    """Local submission time of each of `n_rows` rows in file order (module docstring rule)."""
    months = [12 * k // n_rows for k in range(n_rows)]
    times = []
    for month in range(12):
        count = months.count(month)
        days = calendar.monthrange(NPS_YEAR, month + 1)[1]
        times += [datetime(NPS_YEAR, month + 1, 1 + j * days // count, NPS_LOCAL_HOUR,
                           tzinfo=LOCAL_TZ) for j in range(count)]
    return times


def _feedback_form() -> dict[str, Any]:
    """The feedback form as `GET /api/v2/assets/{uid}/` returns it: two optional questions."""
    survey = [
        {"type": "select_one", "name": "nps", "$kuid": "qnps", "$autoname": "nps",
         "$xpath": "nps", "select_from_list_name": "scale_0_10", "required": False,
         "label": ["How likely are you to recommend the garden centre to a friend? (0-10)"]},
        {"type": "text", "name": "comment", "$kuid": "qcomment", "$autoname": "comment",
         "$xpath": "comment", "required": False, "label": ["Why?"]},
    ]
    choices = [{"list_name": "scale_0_10", "name": str(i), "$kuid": f"cs{i}",
                "$autovalue": str(i), "label": [str(i)]} for i in range(11)]
    return {
        "uid": FEEDBACK_FORM_UID, "name": "Garden-centre customer NPS (NPSgame)",
        "asset_type": "survey", "version_id": FEEDBACK_FORM_VERSION,
        "deployed_version_id": FEEDBACK_FORM_VERSION, "has_deployment": True,
        "deployment__active": True,
        "content": {"schema": "1", "survey": survey, "choices": choices,
                    "settings": {"default_language": "French (fr)"}, "translations": [None]},
    }


def convert_nps(csv_file: Path, out: Path) -> dict[str, int]:
    """Write `out/kobo/feedback/npsgame.jsonl` and the form asset; returns records per entity."""
    text = decode_nps_bytes(csv_file.read_bytes())
    rows = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=["NA"],
                       dtype={"explication": "string"})
    rows = rows.rename(columns={rows.columns[0]: "row"})
    records = []
    for row, nps, comment, at in zip(rows["row"], rows["nps"], rows["explication"],
                                     submission_times(len(rows)), strict=True):
        uuid = hashlib.md5(f"npsgame-{row}".encode()).hexdigest()
        record: dict[str, Any] = {
            "_id": int(row),
            "_uuid": uuid,
            "_submission_time": at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S"),
            "_status": "submitted_via_web",
            "__version__": FEEDBACK_FORM_VERSION,
            "meta/instanceID": f"uuid:{uuid}",
        }
        if pd.notna(nps):
            record["nps"] = str(int(nps))
        if pd.notna(comment):
            record["comment"] = str(comment)
        records.append(record)
    _write_jsonl(out / "kobo" / "feedback" / "npsgame.jsonl", records)
    form = out / "kobo" / "forms" / "npsgame_feedback.json"
    form.parent.mkdir(parents=True, exist_ok=True)
    form.write_bytes(orjson.dumps(_feedback_form()))
    return {"kobo/feedback": len(records), "kobo/forms": 1}


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
