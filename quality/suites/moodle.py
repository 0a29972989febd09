"""Moodle Web Services entities: categories, courses, enrolments, completions, grades."""

from __future__ import annotations

from quality.spec import (
    EntitySpec,
    Field,
    Ref,
    Rule,
    between,
    not_future,
    ordered,
    ref_rule,
    required,
    typed_rules,
    unique,
)

# Other documented keys of each function's items (and the keys the connector adds), not checked.
_CATEGORY_KEYS = (
    "description", "descriptionformat", "sortorder", "coursecount", "visible", "visibleold",
    "timemodified", "depth", "path", "theme",
)
_COURSE_KEYS = (
    "categorysortorder", "displayname", "idnumber", "summary", "summaryformat", "showgrades",
    "newsitems", "numsections", "maxbytes", "showreports", "visible", "hiddensections",
    "groupmode", "groupmodeforce", "defaultgroupingid", "timecreated", "timemodified",
    "enablecompletion", "completionnotify", "lang", "forcetheme", "courseformatoptions",
    "showactivitydates", "showcompletionconditions", "customfields", "pdfexportfont",
)
_ENROLMENT_KEYS = (
    "username", "firstname", "lastname", "fullname", "email", "address", "phone1", "phone2",
    "icq", "skype", "yahoo", "aim", "msn", "department", "institution", "interests",
    "description", "descriptionformat", "city", "url", "country", "profileimageurlsmall",
    "profileimageurl", "customfields", "groups", "preferences", "enrolledcourses",
)
_COMPLETION_KEYS = ("warnings",)
_GRADE_KEYS = ("courseidnumber", "userfullname", "useridnumber", "maxdepth", "warnings")

_CATEGORY_FIELDS = [
    Field("id", "$.id", "int"),
    Field("name", "$.name"),
    Field("idnumber", "$.idnumber"),
    Field("parent", "$.parent", "int"),
]

CATEGORIES = EntitySpec(
    "moodle", "categories", _CATEGORY_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        required("name", typed=False),
        *typed_rules(_CATEGORY_FIELDS),
    ],
    known_keys=_CATEGORY_KEYS,
)

_COURSE_FIELDS = [
    Field("id", "$.id", "int"),
    Field("categoryid", "$.categoryid", "int"),
    Field("fullname", "$.fullname"),
    Field("shortname", "$.shortname"),
    Field("format", "$.format"),
    Field("startdate", "$.startdate", "unix_ts"),
    Field("enddate", "$.enddate", "unix_ts"),
]
_COURSE_REFS = [Ref("categoryid", "raw.moodle__categories", exclude=("0",))]

COURSES = EntitySpec(
    "moodle", "courses", _COURSE_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        required("fullname", typed=False),
        *typed_rules(_COURSE_FIELDS),
        ordered("enddate", "startdate"),
        *(ref_rule(r) for r in _COURSE_REFS),
    ],
    refs=_COURSE_REFS,
    known_keys=_COURSE_KEYS,
)

_COURSE_REF = Ref("courseid", "raw.moodle__courses")

_ENROLMENT_FIELDS = [
    Field("courseid", "$.courseid", "int"),
    Field("id", "$.id", "int"),
    Field("idnumber", "$.idnumber", sparse=True),  # Moodle leaves an empty idnumber out
    Field("firstaccess", "$.firstaccess", "unix_ts"),
    Field("lastaccess", "$.lastaccess", "unix_ts"),
    Field("lastcourseaccess", "$.lastcourseaccess", "unix_ts"),
    Field("roles", "$.roles", "array"),
]

ENROLMENTS = EntitySpec(
    "moodle", "enrolments", _ENROLMENT_FIELDS,
    [
        unique("record_key"),
        unique("courseid", "id"),
        required("courseid"),
        required("id"),
        *typed_rules(_ENROLMENT_FIELDS),
        not_future("firstaccess"),
        not_future("lastaccess"),
        not_future("lastcourseaccess"),
        ordered("lastaccess", "firstaccess"),
        ref_rule(_COURSE_REF),
    ],
    refs=[_COURSE_REF],
    known_keys=_ENROLMENT_KEYS,
)

_COMPLETION_FIELDS = [
    Field("courseid", "$.courseid", "int"),
    Field("userid", "$.userid", "int"),
    Field("completionstatus", "$.completionstatus", "object"),
    Field("completed", "$.completionstatus.completed", "bool"),
]

COMPLETIONS = EntitySpec(
    "moodle", "completions", _COMPLETION_FIELDS,
    [
        unique("record_key"),
        unique("courseid", "userid"),
        required("courseid"),
        required("userid"),
        required("completionstatus"),
        required("completed"),
        *typed_rules(_COMPLETION_FIELDS),
        ref_rule(_COURSE_REF),
    ],
    refs=[_COURSE_REF],
    known_keys=_COMPLETION_KEYS,
)

_GRADE_FIELDS = [
    Field("courseid", "$.courseid", "int"),
    Field("userid", "$.userid", "int"),
    Field("gradeitems", "$.gradeitems", "array"),
]
_COURSE_ITEM = """(list_filter(
    CASE WHEN json_type(record, '$.gradeitems') = 'ARRAY'
         THEN json_extract(record, '$.gradeitems[*]') ELSE []::JSON[] END,
    lambda g: g ->> '$.itemtype' = 'course')[1])"""

GRADES = EntitySpec(
    "moodle", "grades", _GRADE_FIELDS,
    [
        unique("record_key"),
        unique("courseid", "userid"),
        required("courseid"),
        required("userid"),
        *typed_rules(_GRADE_FIELDS),
        Rule("course_total_present", "ExpectColumnValuesToNotBeNull",
             {"column": "course_item"}, "gradeitems",
             "no course-total grade item (itemtype 'course')", "warn", False, "course_item"),
        Rule("graderaw_type", "ExpectColumnValuesToBeNull", {"column": "graderaw__invalid"},
             "graderaw", "course total graderaw {value} is not a number",
             check_column="graderaw__invalid"),
        between("graderaw", 0, None),
        Rule("graderaw_not_above_grademax", "ExpectColumnPairValuesAToBeGreaterThanB",
             {"column_A": "grademax", "column_B": "graderaw", "or_equal": True,
              "ignore_row_if": "either_value_is_missing"}, "graderaw",
             "course total graderaw {graderaw} is above grademax {grademax}",
             check_column="graderaw"),
        ref_rule(_COURSE_REF),
    ],
    derived={
        "course_item": f"{_COURSE_ITEM}::VARCHAR",
        "graderaw": f"TRY_CAST({_COURSE_ITEM} ->> '$.graderaw' AS DOUBLE)",
        "graderaw__invalid": f"""CASE WHEN {_COURSE_ITEM} ->> '$.graderaw' IS NOT NULL
            AND TRY_CAST({_COURSE_ITEM} ->> '$.graderaw' AS DOUBLE) IS NULL
            THEN {_COURSE_ITEM} ->> '$.graderaw' END""",
        "grademax": f"TRY_CAST({_COURSE_ITEM} ->> '$.grademax' AS DOUBLE)",
    },
    refs=[_COURSE_REF],
    known_keys=_GRADE_KEYS,
)

SPECS = [CATEGORIES, COURSES, ENROLMENTS, COMPLETIONS, GRADES]

