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

# Other keys of a visit in Live.getLastVisitsDetails (core plugins), not checked.
_KEYS = (
    "idSite", "visitIp", "fingerprint", "goalConversions", "siteCurrency", "siteCurrencySymbol",
    "serverDate", "visitServerHour", "lastActionDateTime", "siteName", "serverTimestamp",
    "serverTimePretty", "serverDatePretty", "serverDatePrettyFirstAction",
    "serverTimePrettyFirstAction", "visitorTypeIcon", "visitConverted", "visitConvertedIcon",
    "visitCount", "visitEcommerceStatus", "visitEcommerceStatusIcon", "daysSinceFirstVisit",
    "secondsSinceFirstVisit", "daysSinceLastEcommerceOrder", "secondsSinceLastEcommerceOrder",
    "visitDurationPretty", "searches", "interactions", "referrerTypeName", "referrerKeyword",
    "referrerKeywordPosition", "referrerUrl", "referrerSearchEngineUrl",
    "referrerSearchEngineIcon", "referrerSocialNetworkUrl", "referrerSocialNetworkIcon",
    "languageCode", "language", "deviceTypeIcon", "deviceBrand", "deviceModel",
    "operatingSystem", "operatingSystemName", "operatingSystemIcon", "operatingSystemCode",
    "operatingSystemVersion", "browserFamily", "browserFamilyDescription", "browser",
    "browserName", "browserIcon", "browserCode", "browserVersion", "totalEcommerceRevenue",
    "totalEcommerceConversions", "totalEcommerceItems", "totalAbandonedCarts",
    "totalAbandonedCartsRevenue", "totalAbandonedCartsItems", "events", "continent",
    "continentCode", "country", "countryCode", "countryFlag", "region", "regionCode", "city",
    "location", "latitude", "longitude", "visitLocalTime", "visitLocalHour",
    "daysSinceLastVisit", "secondsSinceLastVisit", "resolution", "plugins", "pluginsIcons",
    "customVariables", "campaignId", "campaignContent", "campaignKeyword", "campaignMedium",
    "campaignName", "campaignSource", "campaignGroup", "campaignPlacement", "provider",
    "providerName", "providerUrl", "adClickId", "adProviderId", "adProviderName",
    "formConversions", "sessionReplayUrl", "userIdHashed", "timeSpentInSite",
)
_NUMBER = ("number", "string")  # numbers come as strings from some Matomo servers

_FIELDS = [
    Field("idVisit", "$.idVisit", "int", json_types=_NUMBER),
    Field("visitorId", "$.visitorId"),
    Field("userId", "$.userId"),
    Field("visitorType", "$.visitorType"),
    Field("referrerType", "$.referrerType"),
    Field("referrerName", "$.referrerName"),
    Field("deviceType", "$.deviceType"),
    Field("visitDuration", "$.visitDuration", "int", json_types=_NUMBER),
    Field("actions", "$.actions", "int", json_types=_NUMBER),
    Field("firstActionTimestamp", "$.firstActionTimestamp", "unix_ts", json_types=_NUMBER),
    Field("lastActionTimestamp", "$.lastActionTimestamp", "unix_ts", json_types=_NUMBER),
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
            AND json_array_length(actionDetails) < actions
            THEN json_array_length(actionDetails) END""",
    },
    known_keys=_KEYS,
)

SPECS = [VISITS]
