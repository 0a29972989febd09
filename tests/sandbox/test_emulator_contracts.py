"""Each emulated endpoint against the documented vendor shape: field names and types, paging,
authentication errors in the vendor's own style, and the fault modes."""

import json
from pathlib import Path

import pytest
import requests

from sandbox.server import CREDENTIALS, SandboxHandle


def _types(item: dict, expected: dict[str, type | tuple[type, ...]]) -> None:
    for field, kind in expected.items():
        assert field in item, f"missing {field}"
        assert isinstance(item[field], kind), f"{field} is {type(item[field]).__name__}"


def _zendesk(sandbox: SandboxHandle, path: str, **params: object) -> requests.Response:
    auth = (f"{CREDENTIALS['zendesk_email']}/token", CREDENTIALS["zendesk_token"])
    return requests.get(sandbox.urls["zendesk"] + path, params=params, auth=auth, timeout=10)


def test_zendesk_ticket_cursor_export(clean_sandbox: SandboxHandle, sandbox_data: Path) -> None:
    page = _zendesk(clean_sandbox, "/api/v2/incremental/tickets/cursor.json",
                    start_time=0, per_page=50).json()
    _types(page, {"tickets": list, "after_cursor": str, "end_of_stream": bool, "after_url": str})
    _types(page["tickets"][0], {"id": int, "created_at": str, "updated_at": str, "status": str,
                                "tags": list, "via": dict, "requester_id": int,
                                "satisfaction_rating": dict})
    seen = {t["id"] for t in page["tickets"]}
    while not page["end_of_stream"]:
        page = _zendesk(clean_sandbox, "/api/v2/incremental/tickets/cursor.json",
                        cursor=page["after_cursor"], per_page=50).json()
        assert not seen & {t["id"] for t in page["tickets"]}
        seen |= {t["id"] for t in page["tickets"]}
    in_files = {json.loads(line)["id"] for path in (sandbox_data / "zendesk" / "tickets")
                .glob("*.jsonl") for line in path.read_text().splitlines() if line}
    assert seen == in_files


def test_zendesk_ticket_events_and_articles(clean_sandbox: SandboxHandle) -> None:
    events = _zendesk(clean_sandbox, "/api/v2/incremental/ticket_events.json", start_time=0,
                      include="comment_events").json()
    _types(events, {"ticket_events": list, "end_time": int, "end_of_stream": bool, "count": int})
    event = events["ticket_events"][0]
    _types(event, {"id": int, "ticket_id": int, "timestamp": int, "created_at": str,
                   "child_events": list})
    assert event["event_type"] == "Audit"
    articles = _zendesk(clean_sandbox, "/api/v2/help_center/articles.json", page=1).json()
    _types(articles["articles"][0], {"id": int, "title": str, "label_names": list,
                                     "vote_sum": int, "vote_count": int})


def test_zendesk_rejects_wrong_credentials(clean_sandbox: SandboxHandle) -> None:
    response = requests.get(clean_sandbox.urls["zendesk"] + "/api/v2/incremental/tickets/"
                            "cursor.json", auth=("x/token", "bad"), timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


def test_matomo_visits_and_error_body(clean_sandbox: SandboxHandle) -> None:
    form = {"module": "API", "method": "Live.getLastVisitsDetails", "idSite": "1",
            "period": "day", "date": "2025-03-03", "format": "JSON", "filter_limit": 5,
            "filter_offset": 0, "token_auth": CREDENTIALS["matomo_token"]}
    visits = requests.post(clean_sandbox.urls["matomo"] + "/index.php", data=form,
                           timeout=10).json()
    assert 0 < len(visits) <= 5
    _types(visits[0], {"idVisit": int, "visitorId": str, "visitorType": str,
                       "referrerType": str, "visitDuration": int, "actions": int,
                       "firstActionTimestamp": int, "actionDetails": list})
    _types(visits[0]["actionDetails"][0], {"type": str, "url": str, "timestamp": int})
    bad = requests.post(clean_sandbox.urls["matomo"] + "/index.php",
                        data={**form, "token_auth": "nope"}, timeout=10)
    assert bad.status_code == 200 and bad.json()["result"] == "error"


def test_moodle_functions_and_exception_bodies(clean_sandbox: SandboxHandle) -> None:
    url = clean_sandbox.urls["moodle"] + "/webservice/rest/server.php"
    base = {"wstoken": CREDENTIALS["moodle_token"], "moodlewsrestformat": "json"}
    courses = requests.post(url, data={**base, "wsfunction": "core_course_get_courses"},
                            timeout=10).json()
    course = next(c for c in courses if c["format"] != "site")
    _types(course, {"id": int, "fullname": str, "categoryid": int, "startdate": int})
    users = requests.post(url, data={**base, "wsfunction": "core_enrol_get_enrolled_users",
                                     "courseid": course["id"]}, timeout=10).json()
    _types(users[0], {"id": int, "idnumber": str, "roles": list, "lastcourseaccess": int})
    student = next(u for u in users if u["roles"][0]["shortname"] == "student")
    status = requests.post(url, data={**base, "userid": student["id"], "courseid": course["id"],
                                      "wsfunction": "core_completion_get_course_completion_status"},
                           timeout=10).json()
    assert isinstance(status["completionstatus"]["completed"], bool)
    bad = requests.post(url, data={**base, "wstoken": "x", "wsfunction": "x"}, timeout=10)
    assert bad.status_code == 200 and bad.json()["errorcode"] == "invalidtoken"


def test_kobo_paging_filter_and_auth(clean_sandbox: SandboxHandle) -> None:
    uid = CREDENTIALS["kobo_feedback_uid"]
    headers = {"Authorization": f"Token {CREDENTIALS['kobo_token']}"}
    url = f"{clean_sandbox.urls['kobo']}/api/v2/assets/{uid}/data/"
    page = requests.get(url, params={"format": "json", "limit": 10, "start": 0},
                        headers=headers, timeout=10).json()
    _types(page, {"count": int, "results": list, "next": str})
    _types(page["results"][0], {"_id": int, "_submission_time": str})
    last = page["results"][-1]["_submission_time"]
    later = requests.get(url, headers=headers, timeout=10, params={
        "format": "json", "query": json.dumps({"_submission_time": {"$gt": last}})}).json()
    assert all(r["_submission_time"] > last for r in later["results"])
    assert requests.get(url, timeout=10).json() == {"detail": "Invalid token."}
    missing = requests.get(f"{clean_sandbox.urls['kobo']}/api/v2/assets/nope/data/",
                           headers=headers, timeout=10)
    assert missing.status_code == 404


def test_kobo_form_definition(clean_sandbox: SandboxHandle) -> None:
    """The asset of a deployed form: questions in groups; each select question names a choice
    list that exists; each choice has a code and a label."""
    headers = {"Authorization": f"Token {CREDENTIALS['kobo_token']}"}
    uid = CREDENTIALS["kobo_registration_uid"]
    asset = requests.get(f"{clean_sandbox.urls['kobo']}/api/v2/assets/{uid}/",
                         params={"format": "json"}, headers=headers, timeout=10).json()
    _types(asset, {"uid": str, "name": str, "asset_type": str, "version_id": str,
                   "deployment__active": bool, "content": dict})
    assert asset["uid"] == uid
    survey, choices = asset["content"]["survey"], asset["content"]["choices"]
    groups = [row["type"] for row in survey if row["type"] in ("begin_group", "end_group")]
    assert groups and groups.count("begin_group") == groups.count("end_group")
    selects = [row for row in survey if row["type"] == "select_one"]
    for row in selects:
        _types(row, {"name": str, "select_from_list_name": str, "$xpath": str})
    for choice in choices:
        _types(choice, {"list_name": str, "name": str, "label": list})
    lists = {c["list_name"] for c in choices}
    assert {row["select_from_list_name"] for row in selects} == lists
    province = next(r for r in selects if r["name"] == "province")
    assert province["$xpath"] == "group_demo/province"
    assert {c["name"] for c in choices if c["list_name"] == province["select_from_list_name"]} \
        >= {"gauteng", "limpopo", "eastern_cape"}


@pytest.mark.parametrize("fault", ["rate_limit_burst", "server_error", "truncated_json",
                                   "malformed_json", "auth_failure"])
def test_fault_modes_happen_then_clear(clean_sandbox: SandboxHandle, fault: str) -> None:
    url = f"{clean_sandbox.urls['kobo']}/api/v2/assets/{CREDENTIALS['kobo_feedback_uid']}/data/"
    headers = {"Authorization": f"Token {CREDENTIALS['kobo_token']}"}
    control = requests.post(clean_sandbox.urls["kobo"] + "/__sandbox/faults",
                            json={"fault": fault, "count": 1}, timeout=10)
    assert control.json() == {"ok": True}
    faulty = requests.get(url, headers=headers, params={"limit": 5}, timeout=10)
    if fault == "rate_limit_burst":
        assert faulty.status_code == 429 and faulty.headers["Retry-After"] == "1"
    elif fault == "server_error":
        assert faulty.status_code >= 500
    elif fault == "auth_failure":
        assert faulty.status_code == 401
        clean_sandbox.faults("kobo").clear()
    else:
        with pytest.raises(ValueError):
            faulty.json()
    assert requests.get(url, headers=headers, params={"limit": 5}, timeout=10).ok
