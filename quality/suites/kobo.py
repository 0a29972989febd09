"""KoboToolbox submissions (registration and feedback forms) and the forms' definitions.

Question keys may carry group paths (`group_demo/province`): the flattener matches on the last
path segment. Province codes are the nine South African provinces, as codes or snake_case
names, compared case-insensitively.
"""

from __future__ import annotations

from quality.spec import (
    EntitySpec,
    Field,
    between,
    in_set,
    not_future,
    required,
    typed_rules,
    unique,
)

PROVINCES = {
    "ec": "eastern_cape", "fs": "free_state", "gp": "gauteng", "kzn": "kwazulu_natal",
    "lp": "limpopo", "mp": "mpumalanga", "nc": "northern_cape", "nw": "north_west",
    "wc": "western_cape",
}
PROVINCE_VALUES = (*PROVINCES, *PROVINCES.values())
SETTLEMENT_TYPES = ("urban", "peri_urban", "rural")
AGE_BANDS = ("15-17", "18-24", "25-34", "35-44", "45-54", "55+")
GENDERS = ("female", "male", "other", "prefer_not")
EMPLOYMENT_STATUSES = ("employed", "self_employed", "informal_trader", "unemployed", "studying")

_REGISTRATION_FIELDS = [
    Field("_id", "_id", "int"),
    Field("_submission_time", "_submission_time", "ts"),
    Field("beneficiary_id", "beneficiary_id"),
    Field("province_raw", "province"),
    Field("settlement_type", "settlement_type"),
    Field("age_band", "age_band"),
    Field("gender", "gender"),
    Field("employment_status", "employment_status"),
    Field("single_parent", "single_parent"),
    Field("language", "language"),
]

REGISTRATION = EntitySpec(
    "kobo", "registration", _REGISTRATION_FIELDS,
    [
        unique("record_key"),
        unique("_id"),
        required("_id"),
        required("_submission_time"),
        required("beneficiary_id", typed=False),
        *typed_rules(_REGISTRATION_FIELDS),
        not_future("_submission_time"),
        in_set("province", PROVINCE_VALUES),
        in_set("settlement_type", SETTLEMENT_TYPES),
        in_set("age_band", AGE_BANDS),
        in_set("gender", GENDERS),
        in_set("employment_status", EMPLOYMENT_STATUSES),
        in_set("single_parent", ("yes", "no")),
    ],
    derived={"province": "regexp_replace(lower(trim(province_raw)), '[ -]+', '_', 'g')"},
    kobo_paths=True,
)

_FEEDBACK_FIELDS = [
    Field("_id", "_id", "int"),
    Field("_submission_time", "_submission_time", "ts"),
    Field("beneficiary_id", "beneficiary_id"),
    Field("programme", "programme"),
    Field("nps", "nps", "int"),
    Field("csat", "csat", "int"),
    Field("employment_status", "employment_status"),
    Field("comment", "comment"),
]

FEEDBACK = EntitySpec(
    "kobo", "feedback", _FEEDBACK_FIELDS,
    [
        unique("record_key"),
        unique("_id"),
        required("_id"),
        required("_submission_time"),
        required("beneficiary_id", typed=False),
        *typed_rules(_FEEDBACK_FIELDS),
        not_future("_submission_time"),
        between("nps", 0, 10),
        between("csat", 1, 5),
        in_set("employment_status", EMPLOYMENT_STATUSES),
        required("programme", typed=False, severity="warn", row_rule=False),
    ],
    kobo_paths=True,
)

_FORM_FIELDS = [
    Field("uid", "$.uid"),
    Field("version_id", "$.version_id"),
    Field("survey", "$.content.survey", "array"),
    Field("choices", "$.content.choices", "array"),
]

FORMS = EntitySpec(
    "kobo", "forms", _FORM_FIELDS,
    [
        unique("record_key"),
        required("uid", typed=False),
        required("survey"),
        *typed_rules(_FORM_FIELDS),
        required("version_id", typed=False, severity="warn", row_rule=False),
    ],
)

SPECS = [REGISTRATION, FEEDBACK, FORMS]
