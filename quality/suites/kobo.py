"""KoboToolbox submissions (registration and feedback forms) and the forms' definitions.

Question keys may carry group paths (`group_demo/province`): the flattener matches on the last
path segment. Province codes are the nine South African provinces, as codes or snake_case
names, compared case-insensitively.

A submission without `beneficiary_id` is not quarantined (DESIGN.md section 7: records without
a person id still count in the `all` segment). Anonymous feedback passes silently; a
registration without one gives attributes to nobody, so it lands with a counted warning.
"""

from __future__ import annotations

import csv
from pathlib import Path

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

PROVINCES = {row["code"]: row["province"] for row in csv.DictReader(
    (Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "provinces.csv")
    .read_text(encoding="utf-8").splitlines())}
"""Province code → snake_case name, as staging maps them (the dbt seed `provinces`)."""
PROVINCE_VALUES = (*PROVINCES, *PROVINCES.values())
SETTLEMENT_TYPES = ("urban", "peri_urban", "rural")
AGE_BANDS = ("15-17", "18-24", "25-34", "35-44", "45-54", "55+")
GENDERS = ("female", "male", "other", "prefer_not")
EMPLOYMENT_STATUSES = ("employed", "self_employed", "informal_trader", "unemployed", "studying")


def _question(name: str, path: str | None = None, kind: str = "text") -> Field:
    """A form question: left out of the submission when unanswered; answers are text, but a
    drop file may hold numbers."""
    return Field(name, path or name, kind, sparse=True, json_types=("string", "number"))


_REGISTRATION_FIELDS = [
    Field("_id", "_id", "int"),
    Field("_submission_time", "_submission_time", "ts"),
    _question("beneficiary_id"),
    _question("province_raw", "province"),
    _question("settlement_type"),
    _question("age_band"),
    _question("gender"),
    _question("employment_status"),
    _question("single_parent"),
    _question("language"),
]

REGISTRATION = EntitySpec(
    "kobo", "registration", _REGISTRATION_FIELDS,
    [
        unique("record_key"),
        unique("_id"),
        required("_id"),
        required("_submission_time"),
        required("beneficiary_id", typed=False, severity="warn", row_rule=False,
                 reason="no beneficiary_id: the registration names no person (kept, but it "
                        "gives attributes to nobody)"),
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
    known_keys=("phone",),
)

_FEEDBACK_FIELDS = [
    Field("_id", "_id", "int"),
    Field("_submission_time", "_submission_time", "ts"),
    _question("beneficiary_id"),
    _question("programme"),
    _question("nps", kind="int"),
    _question("csat", kind="int"),
    _question("employment_status"),
    _question("comment"),
]

FEEDBACK = EntitySpec(
    "kobo", "feedback", _FEEDBACK_FIELDS,
    [
        unique("record_key"),
        unique("_id"),
        required("_id"),
        required("_submission_time"),
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
    Field("choices", "$.content.choices", "array", sparse=True),
]
# Other keys of an asset (`/api/v2/assets/{uid}/`), not checked.
_FORM_KEYS = (
    "url", "owner", "owner__username", "owner_label", "parent", "settings", "asset_type",
    "files", "summary", "date_created", "date_modified", "date_deployed", "version__content_hash",
    "version_count", "has_deployment", "deployed_version_id", "deployed_versions",
    "deployment__links", "deployment__active", "deployment__data_download_links",
    "deployment__submission_count", "deployment_status", "report_styles", "report_custom",
    "advanced_features", "analysis_form_json", "map_styles", "map_custom", "downloads",
    "embeds", "xform_link", "hooks_link", "tag_string", "kind", "xls_link", "name",
    "assignable_permissions", "permissions", "effective_permissions", "exports",
    "export_settings", "data", "children", "subscribers_count", "status", "access_types",
    "data_sharing", "paired_data", "project_ownership", "last_modified_by", "created_by",
)

FORMS = EntitySpec(
    "kobo", "forms", _FORM_FIELDS,
    [
        unique("record_key"),
        required("uid", typed=False),
        required("survey"),
        *typed_rules(_FORM_FIELDS),
        required("version_id", typed=False, severity="warn", row_rule=False),
    ],
    known_keys=_FORM_KEYS,
)

SPECS = [REGISTRATION, FEEDBACK, FORMS]
