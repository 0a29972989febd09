"""Zendesk Support entities: tickets, ticket events, users, help-centre articles."""

from __future__ import annotations

from quality.spec import (
    EntitySpec,
    Field,
    Ref,
    Rule,
    in_set,
    not_future,
    ordered,
    ref_rule,
    required,
    typed_rules,
    unique,
)

TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
SATISFACTION_SCORES = ("offered", "unoffered", "good", "bad")
USER_ROLES = ("end-user", "agent", "admin")

# Documented keys of each record that the suites do not check (staging may read some).
_TICKET_KEYS = (
    "url", "external_id", "generated_timestamp", "subject", "raw_subject", "description",
    "recipient", "submitter_id", "organization_id", "collaborator_ids", "follower_ids",
    "email_cc_ids", "forum_topic_id", "problem_id", "has_incidents", "is_public", "due_at",
    "custom_fields", "custom_status_id", "fields", "followup_ids", "sharing_agreement_ids",
    "ticket_form_id", "brand_id", "allow_channelback", "allow_attachments",
    "from_messaging_channel", "encoded_id",
)
_EVENT_KEYS = ("via", "system", "metadata", "merged_ticket_ids")
_USER_KEYS = (
    "url", "name", "updated_at", "time_zone", "iana_time_zone", "phone", "shared_phone_number",
    "photo", "locale_id", "locale", "organization_id", "verified", "alias", "active", "shared",
    "shared_agent", "last_login_at", "two_factor_auth_enabled", "signature", "details", "notes",
    "role_type", "custom_role_id", "moderator", "ticket_restriction", "only_private_comments",
    "restricted_agent", "suspended", "default_group_id", "report_csv", "user_fields",
)
_ARTICLE_KEYS = (
    "url", "html_url", "author_id", "comments_disabled", "draft", "promoted", "position",
    "section_id", "name", "source_locale", "locale", "outdated", "outdated_locales",
    "edited_at", "user_segment_id", "user_segment_ids", "permission_group_id",
    "content_tag_ids", "body",
)

_TICKET_FIELDS = [
    Field("id", "$.id", "int"),
    Field("created_at", "$.created_at", "ts"),
    Field("updated_at", "$.updated_at", "ts"),
    Field("status", "$.status"),
    Field("priority", "$.priority"),
    Field("type", "$.type"),
    Field("via", "$.via", "object"),
    Field("via_channel", "$.via.channel"),
    Field("requester_id", "$.requester_id", "int"),
    Field("assignee_id", "$.assignee_id", "int"),
    Field("group_id", "$.group_id", "int"),
    Field("satisfaction_rating", "$.satisfaction_rating", "object", sparse=True),
    Field("satisfaction_score", "$.satisfaction_rating.score", sparse=True),
    Field("tags", "$.tags", "array"),
]
_TICKET_REFS = [Ref("requester_id", "raw.zendesk__users")]

TICKETS = EntitySpec(
    "zendesk", "tickets", _TICKET_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        required("created_at"),
        required("status", typed=False),
        *typed_rules(_TICKET_FIELDS),
        in_set("status", TICKET_STATUSES),
        in_set("priority", PRIORITIES),
        in_set("satisfaction_score", SATISFACTION_SCORES),
        not_future("created_at"),
        not_future("updated_at"),
        ordered("updated_at", "created_at"),
        required("requester_id", severity="warn", row_rule=False),
        required("via_channel", typed=False, severity="warn", row_rule=False),
        *(ref_rule(r) for r in _TICKET_REFS),
    ],
    refs=_TICKET_REFS,
    known_keys=_TICKET_KEYS,
)

_EVENT_FIELDS = [
    Field("id", "$.id", "int"),
    Field("ticket_id", "$.ticket_id", "int"),
    Field("created_at", "$.created_at", "ts"),
    Field("timestamp", "$.timestamp", "unix_ts"),
    Field("updater_id", "$.updater_id", "int"),
    Field("event_type", "$.event_type"),
    Field("child_events", "$.child_events", "array"),
]
_EVENT_REFS = [Ref("ticket_id", "raw.zendesk__tickets")]
_STATUS_SQL = ", ".join(f"'{s}'" for s in TICKET_STATUSES)

TICKET_EVENTS = EntitySpec(
    "zendesk", "ticket_events", _EVENT_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        required("ticket_id"),
        required("created_at"),
        *typed_rules(_EVENT_FIELDS),
        not_future("created_at"),
        Rule("child_event_status_accepted_values", "ExpectColumnValuesToBeNull",
             {"column": "child_status_invalid"}, "child_events.status",
             "a child event sets status {value}, not in accepted values "
             + "|".join(TICKET_STATUSES), check_column="child_status_invalid"),
        in_set("event_type", ("Audit",), row_rule=False, severity="warn"),
        *(ref_rule(r) for r in _EVENT_REFS),
    ],
    derived={
        # Status set by a Create/Change child event (own key) or an audit-style field change.
        "child_status_invalid": f"""list_filter(list_transform(
            CASE WHEN json_type(record, '$.child_events') = 'ARRAY'
                 THEN json_extract(record, '$.child_events[*]') ELSE []::JSON[] END,
            lambda c: coalesce(c ->> '$.status',
                               CASE WHEN c ->> '$.field_name' = 'status'
                                    THEN c ->> '$.value' END)),
            lambda s: s IS NOT NULL AND s NOT IN ({_STATUS_SQL}))[1]""",
    },
    refs=_EVENT_REFS,
    known_keys=_EVENT_KEYS,
)

_USER_FIELDS = [
    Field("id", "$.id", "int"),
    Field("external_id", "$.external_id"),
    Field("role", "$.role"),
    Field("created_at", "$.created_at", "ts"),
    Field("tags", "$.tags", "array"),
    Field("email", "$.email"),
]

USERS = EntitySpec(
    "zendesk", "users", _USER_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        required("role", typed=False),
        *typed_rules(_USER_FIELDS),
        in_set("role", USER_ROLES),
        not_future("created_at"),
        Rule("email_format", "ExpectColumnValuesToMatchRegex",
             {"column": "email", "regex": r"^[^@\s]+@[^@\s]+$"}, "email",
             "email {value} is not an e-mail address", "warn", False, "email"),
    ],
    known_keys=_USER_KEYS,
)

_ARTICLE_FIELDS = [
    Field("id", "$.id", "int"),
    Field("title", "$.title"),
    Field("label_names", "$.label_names", "array"),
    Field("vote_sum", "$.vote_sum", "int"),
    Field("vote_count", "$.vote_count", "int"),
    Field("created_at", "$.created_at", "ts"),
    Field("updated_at", "$.updated_at", "ts"),
]

ARTICLES = EntitySpec(
    "zendesk", "articles", _ARTICLE_FIELDS,
    [
        unique("record_key"),
        unique("id"),
        required("id"),
        *typed_rules(_ARTICLE_FIELDS),
        required("title", typed=False, severity="warn", row_rule=False),
        Rule("vote_count_range", "ExpectColumnValuesToBeBetween",
             {"column": "vote_count", "min_value": 0}, "vote_count",
             "vote_count {value} is negative", check_column="vote_count"),
        not_future("created_at"),
        not_future("updated_at"),
        ordered("updated_at", "created_at"),
    ],
    known_keys=_ARTICLE_KEYS,
)

SPECS = [TICKETS, TICKET_EVENTS, USERS, ARTICLES]
