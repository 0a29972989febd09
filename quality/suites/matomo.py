"""Matomo visits (Live.getLastVisitsDetails)."""

from __future__ import annotations

from quality.spec import (
    EntitySpec,
    Field,
    Rule,
    between,
    in_set,
    not_future,
    ordered,
    required,
    typed_rules,
    unique,
)

VISITOR_TYPES = ("new", "returning")
REFERRER_TYPES = ("direct", "search", "website", "campaign", "social")

_FIELDS = [
    Field("idVisit", "$.idVisit", "int"),
    Field("visitorId", "$.visitorId"),
    Field("userId", "$.userId"),
    Field("visitorType", "$.visitorType"),
    Field("referrerType", "$.referrerType"),
    Field("referrerName", "$.referrerName"),
    Field("deviceType", "$.deviceType"),
    Field("visitDuration", "$.visitDuration", "int"),
    Field("actions", "$.actions", "int"),
    Field("firstActionTimestamp", "$.firstActionTimestamp", "unix_ts"),
    Field("lastActionTimestamp", "$.lastActionTimestamp", "unix_ts"),
    Field("actionDetails", "$.actionDetails", "array"),
]

VISITS = EntitySpec(
    "matomo", "visits", _FIELDS,
    [
        unique("record_key"),
        unique("idVisit"),
        required("idVisit"),
        required("visitorId", typed=False),
        required("firstActionTimestamp"),
        *typed_rules(_FIELDS),
        in_set("visitorType", VISITOR_TYPES),
        in_set("referrerType", REFERRER_TYPES),
        between("visitDuration", 0, None),
        between("actions", 0, None),
        not_future("firstActionTimestamp"),
        not_future("lastActionTimestamp"),
        ordered("lastActionTimestamp", "firstActionTimestamp"),
        Rule("actions_match_action_details", "ExpectColumnValuesToBeNull",
             {"column": "action_count_mismatch"}, "actions",
             "actions {actions} but {value} actionDetails", "warn", False,
             "action_count_mismatch"),
    ],
    derived={
        "action_count_mismatch": """CASE WHEN actionDetails IS NOT NULL AND actions IS NOT NULL
            AND json_array_length(actionDetails::JSON) < actions
            THEN json_array_length(actionDetails::JSON) END""",
    },
)

SPECS = [VISITS]
