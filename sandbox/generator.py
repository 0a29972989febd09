"""Deterministic sample organisation: one year of SayPro data in the four vendors' shapes.

`generate(out_dir, scale=1, seed=7)` writes the drop-folder layout of DESIGN.md section 4
(`<out>/<source>/<entity>/*.jsonl`), `stories.json` (the planted stories, machine-readable) and
`manifest.json` (counts). Records are written month by month (visits day by day), so memory
stays bounded by one month of tickets and one day of visits whatever the scale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from sandbox import texts
from sandbox.experiments import ExperimentPlanter

YEAR = 2025
LOCAL_OFFSET = timedelta(hours=2)  # Africa/Johannesburg, no daylight saving
CHUNK = 5000  # records held in memory per file before they are written
FORM_UIDS = {"registration": "aRegSayPro2025", "feedback": "aFbSayPro2025"}  # Kobo asset uids
PROVINCES = {
    "gauteng": 0.26,
    "kwazulu_natal": 0.19,
    "western_cape": 0.12,
    "eastern_cape": 0.11,
    "limpopo": 0.10,
    "mpumalanga": 0.08,
    "north_west": 0.07,
    "free_state": 0.05,
    "northern_cape": 0.02,
}
SETTLEMENTS = {"urban": 0.55, "peri_urban": 0.25, "rural": 0.20}
AGE_BANDS = {"15-17": 0.05, "18-24": 0.30, "25-34": 0.30, "35-44": 0.17, "45-54": 0.11, "55+": 0.07}
GENDERS = {"female": 0.52, "male": 0.45, "other": 0.01, "prefer_not": 0.02}
EMPLOYMENT = {
    "employed": 0.25,
    "self_employed": 0.10,
    "informal_trader": 0.10,
    "unemployed": 0.40,
    "studying": 0.15,
}
LANGUAGES = ["zu", "xh", "af", "en", "nso", "tn", "st", "ts", "ss", "ve", "nr"]
TAGS = {  # tag: base weight of tickets
    "login_issue": 0.12,
    "app_crash": 0.07,
    "slow_loading": 0.06,
    "ad_not_showing": 0.08,
    "image_upload_error": 0.06,
    "payment_failed": 0.06,
    "refund_request": 0.05,
    "invoice_query": 0.04,
    "subscription_billing": 0.04,
    "feature_suggestion": 0.06,
    "search_filters": 0.05,
    "account_question": 0.10,
    "how_to_post_ad": 0.09,
    "course_info": 0.05,
    "other_unmapped": 0.03,
}
PRIORITIES = ["urgent", "high", "normal", "low", None]
CHANNELS = ["web", "email", "chat", "api", "mobile"]
PAGES = [
    "/",
    "/classifieds",
    "/classifieds/cars",
    "/classifieds/jobs",
    "/classifieds/property",
    "/classifieds/services",
    "/courses",
    "/courses/digital-skills",
    "/events",
    "/community",
    "/post-ad",
    "/account",
    "/help",
    "/donate",
]
REFERRERS = {"direct": 0.35, "search": 0.30, "website": 0.10, "campaign": 0.12, "social": 0.13}


def _choice(rng: np.random.Generator, options: dict[str, float], size: int) -> np.ndarray:
    keys = list(options)
    weights = np.array(list(options.values()))
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_month(moment: datetime) -> int:
    return (moment + LOCAL_OFFSET).month


class JsonlWriter:
    """Appends records to `<out>/<source>/<entity>/<name>.jsonl`, one open file at a time.

    `append` buffers one record at a time and writes every CHUNK records, so no entity is
    ever held whole in memory; `flush` writes what is left (called once at the end)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.counts: dict[str, int] = {}
        self.buffers: dict[tuple[str, str, str], list[dict[str, Any]]] = {}

    def append(self, source: str, entity: str, name: str, record: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault((source, entity, name), [])
        buffer.append(record)
        if len(buffer) >= CHUNK:
            self.write(source, entity, name, buffer)
            buffer.clear()

    def flush(self) -> None:
        for (source, entity, name), buffer in self.buffers.items():
            self.write(source, entity, name, buffer)
        self.buffers.clear()

    def write(self, source: str, entity: str, name: str, records: list[dict[str, Any]]) -> None:
        folder = self.out / source / entity
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{name}.jsonl").open("ab") as handle:
            for record in records:
                handle.write(orjson.dumps(record) + b"\n")
        key = f"{source}/{entity}"
        self.counts[key] = self.counts.get(key, 0) + len(records)


@dataclass
class People:
    ids: np.ndarray
    province: np.ndarray
    settlement: np.ndarray
    age_band: np.ndarray
    gender: np.ndarray
    employment: np.ndarray
    single_parent: np.ndarray
    language: np.ndarray
    signup: list[datetime]
    zendesk_user: np.ndarray  # zendesk user id or 0
    premium: np.ndarray
    target_youth: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.target_youth = (
            (self.province == "eastern_cape")
            & (self.employment == "unemployed")
            & np.isin(self.age_band, ["18-24", "25-34"])
        )


RECENT_SIGNUP_S = 30 * 86400
RECENT_SIGNUP_SHARE = 0.3
"""Share of the tickets of signed-up requesters that come from people in their first 30 days."""


def _people(rng: np.random.Generator, n: int) -> People:
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    signup_offsets = rng.uniform(0, 365 * 86400, n)
    signup = [start + timedelta(seconds=float(s)) for s in np.sort(signup_offsets)]
    has_zendesk = rng.random(n) < 0.8
    return People(
        ids=np.array([f"SP{i:06d}" for i in range(1, n + 1)], dtype=object),
        province=_choice(rng, PROVINCES, n),
        settlement=_choice(rng, SETTLEMENTS, n),
        age_band=_choice(rng, AGE_BANDS, n),
        gender=_choice(rng, GENDERS, n),
        employment=_choice(rng, EMPLOYMENT, n),
        single_parent=np.where(rng.random(n) < 0.18, "yes", "no"),
        language=np.array(LANGUAGES, dtype=object)[rng.integers(0, len(LANGUAGES), n)],
        signup=signup,
        zendesk_user=np.where(has_zendesk, np.arange(1, n + 1) + 10_000, 0),
        premium=rng.random(n) < 0.10,
    )


def _phone(rng: np.random.Generator) -> str:
    return f"+27 {rng.integers(60, 84)} {rng.integers(100, 999)} {rng.integers(1000, 9999)}"


# ---------------------------------------------------------------------------------- Zendesk
AGENTS = list(range(1, 16))
ADMINS = [16, 17]


def _zendesk_users(w: JsonlWriter, rng: np.random.Generator, people: People) -> list[int]:
    staff = [
        {
            "id": uid,
            "external_id": None,
            "role": "agent" if uid in AGENTS else "admin",
            "name": f"Agent {uid}",
            "email": f"agent{uid}@saypro.online",
            "phone": None,
            "created_at": "2024-06-01T08:00:00Z",
            "updated_at": "2024-06-01T08:00:00Z",
            "tags": ["staff"],
            "active": True,
        }
        for uid in AGENTS + ADMINS
    ]
    w.write("zendesk", "users", "users", staff)
    anonymous = []
    registered = np.flatnonzero(people.zendesk_user)
    for i in registered:
        uid = int(people.zendesk_user[i])
        w.append("zendesk", "users", "users",
            {
                "id": uid,
                "external_id": people.ids[i],
                "role": "end-user",
                "name": f"Member {people.ids[i]}",
                "email": f"{people.ids[i].lower()}@example.org",
                "phone": _phone(rng),
                "created_at": _iso(people.signup[i]),
                "updated_at": _iso(people.signup[i]),
                "active": True,
                "tags": ["premium"] if people.premium[i] else [],
            }
        )
    for k in range(max(1, len(registered) // 20)):  # visitors who never registered with SayPro
        uid = 900_000 + k
        anonymous.append(uid)
        w.append("zendesk", "users", "users",
            {
                "id": uid,
                "external_id": None,
                "role": "end-user",
                "name": "Visitor",
                "email": f"visitor{k}@example.net",
                "phone": None,
                "created_at": f"{YEAR}-01-01T00:00:00Z",
                "updated_at": f"{YEAR}-01-01T00:00:00Z",
                "tags": [],
                "active": True,
            }
        )
    w.flush()
    return anonymous


@dataclass
class TicketClock:
    """Event-id and audit sequencing shared by all months."""

    next_ticket: int = 1
    next_event: int = 1_000_000
    next_comment: int = 5_000_000


def _ticket_month(
    w: JsonlWriter,
    rng: np.random.Generator,
    people: People,
    month: int,
    volume: int,
    clock: TicketClock,
    anonymous: list[int],
    cutoff: datetime,
) -> None:
    start = datetime(YEAR, month, 1, tzinfo=UTC) - LOCAL_OFFSET
    end = datetime(YEAR + (month == 12), month % 12 + 1, 1, tzinfo=UTC) - LOCAL_OFFSET
    tags = dict(TAGS)
    if month in (7, 8, 9):  # planted: failed-payment surge in 2025-Q3
        tags["payment_failed"] *= 6
        tags["refund_request"] *= 1.6
    tag_draw = _choice(rng, tags, volume)
    created = np.sort(rng.uniform(start.timestamp(), end.timestamp(), volume))
    with_person = np.flatnonzero(people.zendesk_user)
    signup_month = np.array([_local_month(s) for s in people.signup])
    new_this_month = with_person[signup_month[with_person] == month]
    signup_ts = np.array([s.timestamp() for s in people.signup])  # people are in signup order
    slow = 3.5 if month == 6 else 1.0  # planted: low agent capacity in June
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def flush() -> None:
        events.sort(key=lambda e: (e["timestamp"], e["id"]))
        w.write("zendesk", "tickets", f"{YEAR}-{month:02d}", tickets)
        w.write("zendesk", "ticket_events", f"{YEAR}-{month:02d}", events)
        tickets.clear()
        events.clear()

    for k in range(volume):
        if len(tickets) == CHUNK:
            flush()
        tid = clock.next_ticket
        clock.next_ticket += 1
        created_at = datetime.fromtimestamp(float(created[k]), UTC).replace(microsecond=0)
        tag = str(tag_draw[k])
        # a requester has signed up by the time of the ticket (the people before `signed_up`),
        # and people who signed up in the last 30 days ask for help more than the others
        signed_up = int(np.searchsorted(signup_ts, created[k], side="right"))
        known = with_person[: int(np.searchsorted(with_person, signed_up))]
        new_known = new_this_month[: int(np.searchsorted(new_this_month, signed_up))]
        recent = known[int(np.searchsorted(
            known, np.searchsorted(signup_ts, created[k] - RECENT_SIGNUP_S))):]
        if tag == "image_upload_error" and len(new_known) and rng.random() < 0.7:
            person = int(new_known[rng.integers(len(new_known))])  # planted: new users' issue
        elif rng.random() < 0.06 or not len(known):
            person = -1
        elif len(recent) and rng.random() < RECENT_SIGNUP_SHARE:
            person = int(recent[rng.integers(len(recent))])
        else:
            person = int(known[rng.integers(len(known))])
        requester = (
            anonymous[k % len(anonymous)] if person < 0 else int(people.zendesk_user[person])
        )
        priority = PRIORITIES[rng.choice(5, p=[0.05, 0.15, 0.55, 0.15, 0.10])]
        agent = int(rng.choice(AGENTS))
        via = CHANNELS[rng.choice(5, p=[0.45, 0.25, 0.15, 0.05, 0.10])]
        ticket_tags = [] if tag == "other_unmapped" else [tag]
        if rng.random() < 0.15:
            ticket_tags.append("follow_up")
        history: list[tuple[datetime, int, list[dict[str, Any]]]] = []

        def comment(author: int, public: bool, body: str, at: datetime) -> dict[str, Any]:
            clock.next_comment += 1
            return {
                "event_type": "Comment",
                "id": clock.next_comment,
                "author_id": author,
                "public": public,
                "body": body,
                "created_at": _iso(at),
            }

        def change(new: str, old: str) -> dict[str, Any]:
            if rng.random() < 0.1:  # audit style seen in older exports
                return {
                    "event_type": "Change",
                    "field_name": "status",
                    "value": new,
                    "previous_value": old,
                }
            return {"event_type": "Change", "status": new, "previous_value": old}

        opener_is_agent = via == "api" and rng.random() < 0.5
        opening = comment(
            agent if opener_is_agent else requester, True, texts.opening(rng, tag), created_at
        )
        history.append(
            (
                created_at,
                requester,
                [
                    {
                        "event_type": "Create",
                        "status": "new",
                        "priority": priority,
                        "tags": ticket_tags,
                    },
                    opening,
                ],
            )
        )
        status = "new"
        reply_hours = None
        if rng.random() < 0.2:
            at = created_at + timedelta(minutes=float(rng.uniform(5, 60)))
            history.append((at, agent, [comment(agent, False, texts.internal_note(rng), at)]))
        if rng.random() >= 0.12:  # 12% never get a reply
            reply_hours = float(rng.lognormal(np.log(3.0 * slow), 0.9))
            at = created_at + timedelta(hours=reply_hours)
            history.append(
                (
                    at,
                    agent,
                    [comment(agent, True, texts.reply(rng, tag), at), change("pending", status)],
                )
            )
            status = "pending"
        solved_at = None
        csat = "unoffered"
        roll = rng.random()
        last = history[-1][0]
        if reply_hours is not None and roll < 0.86:
            solved_at = last + timedelta(hours=float(rng.lognormal(np.log(20), 1.0)))
            history.append((solved_at, agent, [change("solved", status)]))
            status = "solved"
            if rng.random() < 0.08:  # reopened by the requester
                at = solved_at + timedelta(hours=float(rng.uniform(2, 72)))
                history.append(
                    (
                        at,
                        requester,
                        [
                            comment(requester, True, texts.follow_up(rng), at),
                            change("open", "solved"),
                        ],
                    )
                )
                at2 = at + timedelta(hours=float(rng.lognormal(np.log(10), 0.8)))
                history.append(
                    (
                        at2,
                        agent,
                        [
                            comment(agent, True, texts.reply(rng, tag), at2),
                            change("solved", "open"),
                        ],
                    )
                )
                solved_at = at2
            if rng.random() < 0.6:
                p_good = float(np.clip(0.97 - 0.09 * np.log1p(reply_hours), 0.2, 0.98))
                csat = "good" if rng.random() < p_good else "bad"
            if rng.random() < 0.5:
                closed_at = solved_at + timedelta(days=4)
                history.append((closed_at, -1, [change("closed", "solved")]))
                status = "closed"
        elif roll < 0.90 or (reply_hours is None and roll < 0.95):
            # closed without ever being solved (spam, duplicates, abandoned requests)
            at = last + timedelta(hours=float(rng.uniform(1, 48)))
            history.append((at, agent, [change("closed", status)]))
            status = "closed"
        history = [h for h in history if h[0] <= cutoff]
        status = "new"
        for _, _, children in history:
            for child in children:
                if child["event_type"] == "Change":
                    status = child.get("status") or child.get("value")
        for at, updater, children in history:
            clock.next_event += 1
            events.append(
                {
                    "id": clock.next_event,
                    "ticket_id": tid,
                    "timestamp": int(at.timestamp()),
                    "created_at": _iso(at),
                    "updater_id": updater,
                    "event_type": "Audit",
                    "via": {"channel": via},
                    "child_events": children,
                }
            )
        updated_at = history[-1][0]
        tickets.append(
            {
                "id": tid,
                "url": f"https://saypro.zendesk.com/api/v2/tickets/{tid}.json",
                "external_id": None,
                "created_at": _iso(created_at),
                "updated_at": _iso(updated_at),
                "type": "problem" if tag in ("app_crash", "login_issue") else "question",
                "subject": texts.subject(tag),
                "raw_subject": texts.subject(tag),
                "description": opening["body"],
                "priority": priority,
                "status": status,
                "requester_id": requester,
                "submitter_id": requester,
                "assignee_id": agent if reply_hours is not None else None,
                "group_id": 360001,
                "tags": ticket_tags,
                "via": {"channel": via},
                "satisfaction_rating": {
                    "score": csat if status in ("solved", "closed") else "unoffered"
                },
                "generated_timestamp": int(updated_at.timestamp()),
            }
        )
    flush()


def _articles(w: JsonlWriter, rng: np.random.Generator) -> None:
    covered = [
        t for t in TAGS if t not in ("image_upload_error", "payment_failed", "other_unmapped")
    ]
    articles = []
    for i, tag in enumerate(covered * 2):
        votes = int(rng.integers(5, 80))
        articles.append(
            {
                "id": 7000 + i,
                "title": texts.article_title(tag, i),
                "label_names": [tag],
                "vote_sum": int(votes * rng.uniform(0.2, 0.9)),
                "vote_count": votes,
                "section_id": 100 + i % 4,
                "locale": "en-za",
                "created_at": f"{YEAR - 1}-11-0{1 + i % 9}T09:00:00Z",
                "updated_at": f"{YEAR}-0{1 + i % 9}-15T09:00:00Z",
            }
        )
    # one weak article on failed payments: a knowledge-base gap with low helpfulness
    articles.append(
        {
            "id": 7999,
            "title": "Payments: general information",
            "label_names": ["payment_failed"],
            "vote_sum": -6,
            "vote_count": 20,
            "section_id": 101,
            "locale": "en-za",
            "created_at": f"{YEAR - 1}-10-01T09:00:00Z",
            "updated_at": f"{YEAR - 1}-10-01T09:00:00Z",
        }
    )
    w.write("zendesk", "articles", "articles", articles)


# ----------------------------------------------------------------------------------- Matomo
def _visits(w: JsonlWriter, rng: np.random.Generator, people: People, per_day: float,
            planter: ExperimentPlanter) -> None:
    signup_ts = np.array([s.timestamp() for s in people.signup])
    seen: set[str] = set()  # registered visitors seen so far (random anonymous ids never repeat)
    next_id = 1
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        n = int(rng.poisson(per_day * (1.15 if day.weekday() < 5 else 0.8)))
        day_start = datetime(day.year, day.month, day.day, tzinfo=UTC) - LOCAL_OFFSET
        starts = np.sort(rng.uniform(day_start.timestamp(), day_start.timestamp() + 86400, n))
        eligible = int(np.searchsorted(signup_ts, day_start.timestamp() + 86400))
        for k in range(n):
            ts = int(starts[k])
            if eligible and rng.random() < 0.55:
                person = int(rng.integers(0, eligible))
                user_id = str(people.ids[person])
                visitor = hashlib.md5(user_id.encode()).hexdigest()[:16]
                is_new_user = ts - signup_ts[person] < 30 * 86400
            else:
                user_id, is_new_user = None, False
                visitor = f"{int(rng.integers(0, 2**63)):016x}"
            channel = str(_choice(rng, REFERRERS, 1)[0])
            actions = _actions(rng, ts, is_new_user)
            returning = visitor in seen
            if user_id is not None:
                seen.add(visitor)
            last = actions[-1]["timestamp"]
            visit = {
                "idVisit": next_id,
                "visitorId": visitor,
                "userId": user_id,
                "visitorType": "returning" if returning else "new",
                "referrerType": channel,
                "referrerName": {
                    "search": "Google",
                    "social": "Facebook",
                    "campaign": "winter_skills_2025",
                    "website": "gumtree.co.za",
                }.get(channel, ""),
                "deviceType": ["smartphone", "desktop", "tablet"][
                    int(rng.choice(3, p=[0.68, 0.27, 0.05]))
                ],
                "visitDuration": int(last - ts) if len(actions) > 1 else 0,
                "actions": len(actions),
                "firstActionTimestamp": ts,
                "lastActionTimestamp": last,
                "serverDate": day.isoformat(),
                "actionDetails": actions,
            }
            planter.tag(visit, day)
            w.append("matomo", "visits", day.isoformat(), visit)
            next_id += 1
        w.flush()
        day += timedelta(days=1)


def _actions(rng: np.random.Generator, ts: int, is_new_user: bool) -> list[dict[str, Any]]:
    count = 1 if rng.random() < 0.35 else int(rng.integers(2, 10))
    out: list[dict[str, Any]] = []
    t = ts
    posting = rng.random() < 0.12
    for i in range(count):
        page = PAGES[int(rng.integers(0, len(PAGES)))]
        suffix = ["", "/", "?page=2", "#top", "?utm_source=whatsapp"][
            int(rng.choice(5, p=[0.6, 0.15, 0.1, 0.05, 0.1]))
        ]
        url = f"https://saypro.online{page}{suffix}"
        out.append(
            {"type": "action", "url": url, "pageTitle": page.strip("/") or "home", "timestamp": t}
        )
        t += int(rng.integers(5, 120))
        if i == 0 or count == 1:
            continue
        if page.startswith("/classifieds") and rng.random() < 0.6:
            out.append(
                {
                    "type": "event",
                    "url": url,
                    "timestamp": t,
                    "eventCategory": "classified_ad",
                    "eventAction": "view",
                }
            )
            if rng.random() < 0.25:
                out.append(
                    {
                        "type": "event",
                        "url": url,
                        "timestamp": t + 3,
                        "eventCategory": "classified_ad",
                        "eventAction": "click",
                    }
                )
                if rng.random() < 0.3:
                    out.append(
                        {
                            "type": "event",
                            "url": url,
                            "timestamp": t + 9,
                            "eventCategory": "classified_ad",
                            "eventAction": "contact_seller",
                        }
                    )
    if posting and count > 1:
        url = "https://saypro.online/post-ad"
        out.append(
            {
                "type": "event",
                "url": url,
                "timestamp": t,
                "eventCategory": "listing",
                "eventAction": "ad_post_started",
            }
        )
        success = 0.30 if is_new_user else 0.80  # planted: new users struggle to post
        if rng.random() < success:
            out.append(
                {
                    "type": "event",
                    "url": url,
                    "timestamp": t + 60,
                    "eventCategory": "listing",
                    "eventAction": "ad_post_completed",
                }
            )
        if rng.random() < 0.3:
            out.append(
                {
                    "type": "event",
                    "url": url,
                    "timestamp": t + 90,
                    "eventCategory": "listing",
                    "eventAction": "payment_started",
                }
            )
            if rng.random() < 0.75:
                out.append(
                    {
                        "type": "event",
                        "url": url,
                        "timestamp": t + 150,
                        "eventCategory": "listing",
                        "eventAction": "payment_completed",
                    }
                )
    if len(out) > 1 and rng.random() < 0.05:
        out.append({"type": "outlink", "url": "https://wa.me/27843137407", "timestamp": t + 200})
    return out


# ----------------------------------------------------------------------------------- Moodle
def _moodle(w: JsonlWriter, rng: np.random.Generator, people: People, scale: float) -> None:
    categories = [
        {"id": 1, "name": "Training", "idnumber": "training", "parent": 0, "coursecount": 0},
        {"id": 2, "name": "Digital skills", "idnumber": "digital", "parent": 1, "coursecount": 0},
        {"id": 3, "name": "Events", "idnumber": "events", "parent": 0, "coursecount": 0},
    ]
    w.write("moodle", "categories", "categories", categories)
    n_courses = max(12, int(40 * min(scale, 5)))
    courses = [
        {
            "id": 1,
            "shortname": "SayPro",
            "fullname": "SayPro Learning",
            "categoryid": 0,
            "startdate": 0,
            "enddate": 0,
            "format": "site",
            "visible": 1,
        }
    ]
    for c in range(n_courses):
        month = 1 + c % 12
        is_event = c % 5 == 4
        start = datetime(YEAR, month, 3, 7, tzinfo=UTC)
        courses.append(
            {
                "id": 100 + c,
                "shortname": f"{'EVT' if is_event else 'CRS'}{c:03d}",
                "fullname": texts.course_name(c, is_event),
                "categoryid": 3 if is_event else 1 + c % 2,
                "startdate": int(start.timestamp()),
                "enddate": int((start + timedelta(days=7 if is_event else 56)).timestamp()),
                "format": "topics",
                "visible": 1,
            }
        )
    w.write("moodle", "courses", "courses", courses)
    weights = np.where(people.target_youth, 6.0, 1.0)
    weights /= weights.sum()
    per_course = max(20, int(3000 * scale / n_courses))
    for course in courses[1:]:
        start = datetime.fromtimestamp(course["startdate"], UTC)
        students = rng.choice(
            len(people.ids), size=min(per_course, len(people.ids)), replace=False, p=weights
        )
        teachers = [(f"T{course['id']}", "editingteacher")]
        for idx, role in [(int(s), "student") for s in students] + teachers:
            is_teacher = role != "student"
            uid = 50_000 + idx if not is_teacher else 40_000 + course["id"]
            person_id = people.ids[idx] if not is_teacher else None
            p_complete = 0.76
            if not is_teacher and people.target_youth[idx] and start.month >= 4:
                p_complete = 0.42  # planted: EC unemployed youth completion drop from Q2
            completed = bool(rng.random() < p_complete) and not is_teacher
            last_access = start + timedelta(days=float(rng.uniform(1, 60)))
            w.append(
                "moodle", "enrolments", "enrolments",
                {
                    "id": uid,
                    "username": f"u{uid}",
                    "firstname": "Learner",
                    "lastname": str(uid),
                    "fullname": f"Learner {uid}",
                    "email": f"u{uid}@example.org",
                    "idnumber": person_id or "",
                    "firstaccess": int(start.timestamp()),
                    "lastaccess": int(last_access.timestamp()),
                    "lastcourseaccess": int(last_access.timestamp()) if rng.random() > 0.05 else 0,
                    "roles": [{"roleid": 3 if is_teacher else 5, "name": "", "shortname": role}],
                    "enrolledcourses": [{"id": course["id"], "shortname": course["shortname"]}],
                    "courseid": course["id"],
                }
            )
            if is_teacher:
                continue
            done_at = start + timedelta(days=float(rng.uniform(7, 60)))
            w.append(
                "moodle", "completions", "completions",
                {
                    "completionstatus": {
                        "completed": completed,
                        "aggregation": 1,
                        "completions": [
                            {
                                "type": 4,
                                "title": "Activity completion",
                                "status": "Yes" if completed else "No",
                                "complete": completed,
                                "timecompleted": int(done_at.timestamp()) if completed else None,
                                "details": {
                                    "type": "Activity",
                                    "criteria": "Final assessment",
                                    "requirement": "Marking yourself complete",
                                    "status": "",
                                },
                            }
                        ],
                    },
                    "warnings": [],
                    "courseid": course["id"],
                    "userid": uid,
                }
            )
            grade = float(np.clip(rng.normal(72 if completed else 41, 12), 0, 100))
            w.append(
                "moodle", "grades", "grades",
                {
                    "courseid": course["id"],
                    "userid": uid,
                    "userfullname": f"Learner {uid}",
                    "useridnumber": person_id,
                    "maxdepth": 2,
                    "gradeitems": [
                        {
                            "id": course["id"] * 10 + 1,
                            "itemname": "Final assessment",
                            "itemtype": "mod",
                            "itemmodule": "quiz",
                            "graderaw": round(grade, 2),
                            "grademin": 0,
                            "grademax": 100,
                            "gradepass": 50,
                            "percentageformatted": f"{grade:.2f} %",
                        },
                        {
                            "id": course["id"] * 10,
                            "itemname": None,
                            "itemtype": "course",
                            "itemmodule": None,
                            "graderaw": round(grade, 2),
                            "grademin": 0,
                            "grademax": 100,
                            "gradepass": 50,
                            "percentageformatted": f"{grade:.2f} %",
                        },
                    ],
                }
            )
    w.flush()


# ------------------------------------------------------------------------------------- Kobo
def _kobo(w: JsonlWriter, rng: np.random.Generator, people: People, scale: float) -> None:
    for i in np.flatnonzero(rng.random(len(people.ids)) < 0.85):
        at = people.signup[i] + timedelta(hours=float(rng.uniform(0, 48)))
        w.append("kobo", "registration", "registration",
            {
                "_id": 100_000 + int(i),
                "_uuid": hashlib.md5(f"r{i}".encode()).hexdigest(),
                "_submission_time": at.strftime("%Y-%m-%dT%H:%M:%S"),
                "_status": "submitted_via_web",
                "_submitted_by": None,
                "formhub/uuid": "reg2025",
                "__version__": "v1",
                "meta/instanceID": f"uuid:r{i}",
                "group_demo/beneficiary_id": people.ids[i],
                "group_demo/province": people.province[i],
                "group_demo/settlement_type": people.settlement[i],
                "group_demo/age_band": people.age_band[i],
                "group_demo/gender": people.gender[i],
                "group_work/employment_status": people.employment[i],
                "group_demo/single_parent": people.single_parent[i],
                "group_demo/language": people.language[i],
                "group_contact/phone": _phone(rng),
            }
        )
    w.flush()
    n = int(2000 * scale)
    signup_ts = np.array([s.timestamp() for s in people.signup])
    times = np.sort(
        rng.uniform(
            datetime(YEAR, 1, 15, tzinfo=UTC).timestamp(),
            datetime(YEAR, 12, 31, tzinfo=UTC).timestamp(),
            n,
        )
    )
    for k in range(n):
        eligible = max(1, int(np.searchsorted(signup_ts, times[k])))
        i = int(rng.integers(0, eligible))
        nps = int(
            rng.choice(11, p=[0.02, 0.01, 0.02, 0.03, 0.03, 0.05, 0.06, 0.12, 0.16, 0.2, 0.3])
        )
        csat = int(np.clip(round(1 + nps * 0.4 + rng.normal(0, 0.6)), 1, 5))
        record = {
            "_id": 500_000 + k,
            "_uuid": hashlib.md5(f"f{k}".encode()).hexdigest(),
            "_submission_time": datetime.fromtimestamp(float(times[k]), UTC).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "_status": "submitted_via_web",
            "formhub/uuid": "fb2025",
            "__version__": "v3",
            "meta/instanceID": f"uuid:f{k}",
            "beneficiary_id": people.ids[i],
            "group_fb/programme": ["course", "events", "classifieds", "community"][k % 4],
            "group_fb/nps": str(nps),
            "group_fb/csat": str(csat),
            "group_fb/employment_status": _outcome(rng, str(people.employment[i])),
            "group_fb/comment": texts.feedback_comment(rng, nps),
        }
        if rng.random() < 0.03:
            del record["group_fb/nps"]  # question skipped
        w.append("kobo", "feedback", "feedback", record)
    w.flush()
    folder = w.out / "kobo" / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    for form, definition in _form_definitions().items():
        (folder / f"{form}.json").write_bytes(orjson.dumps(definition))


# Form layouts: (group or None, question, Kobo type, choice list name or None)
_FORMS: dict[str, tuple[str, str, list[tuple[str | None, str, str, str | None]]]] = {
    "registration": (FORM_UIDS["registration"], "SayPro beneficiary registration", [
        ("group_demo", "beneficiary_id", "text", None),
        ("group_demo", "province", "select_one", "provinces"),
        ("group_demo", "settlement_type", "select_one", "settlements"),
        ("group_demo", "age_band", "select_one", "age_bands"),
        ("group_demo", "gender", "select_one", "genders"),
        ("group_demo", "single_parent", "select_one", "yes_no"),
        ("group_demo", "language", "select_one", "languages"),
        ("group_work", "employment_status", "select_one", "employment"),
        ("group_contact", "phone", "text", None),
    ]),
    "feedback": (FORM_UIDS["feedback"], "SayPro programme feedback", [
        (None, "beneficiary_id", "text", None),
        ("group_fb", "programme", "select_one", "programmes"),
        ("group_fb", "nps", "select_one", "scale_0_10"),
        ("group_fb", "csat", "select_one", "scale_1_5"),
        ("group_fb", "employment_status", "select_one", "employment"),
        ("group_fb", "comment", "text", None),
    ]),
}
_CHOICE_LISTS = {
    "provinces": list(PROVINCES), "settlements": list(SETTLEMENTS), "age_bands": list(AGE_BANDS),
    "genders": list(GENDERS), "yes_no": ["yes", "no"], "languages": LANGUAGES,
    "employment": list(EMPLOYMENT), "programmes": ["course", "events", "classifieds", "community"],
    "scale_0_10": [str(i) for i in range(11)], "scale_1_5": [str(i) for i in range(1, 6)],
}


def _form_definitions() -> dict[str, dict[str, Any]]:
    """KoboToolbox assets as `GET /api/v2/assets/{uid}/` returns them: questions in groups,
    select_one questions naming their choice list, choices with code (`name`) and label."""
    out = {}
    for form, (uid, title, questions) in _FORMS.items():
        survey: list[dict[str, Any]] = []
        group = None
        for question_group, name, kind, list_name in questions:
            if question_group != group:
                if group:
                    survey.append({"type": "end_group", "$kuid": f"e{group}"})
                if question_group:
                    survey.append({"type": "begin_group", "name": question_group,
                                   "$kuid": f"b{question_group}", "$autoname": question_group,
                                   "label": [question_group.removeprefix("group_").title()]})
                group = question_group
            row = {"type": kind, "name": name, "$kuid": f"q{name}", "$autoname": name,
                   "$xpath": f"{group}/{name}" if group else name,
                   "label": [name.replace("_", " ").capitalize()], "required": kind != "text"}
            if list_name:
                row["select_from_list_name"] = list_name
            survey.append(row)
        if group:
            survey.append({"type": "end_group", "$kuid": f"e{group}"})
        lists = dict.fromkeys(q[3] for q in questions if q[3])
        choices = [{"list_name": list_name, "name": code, "$kuid": f"c{list_name}{code}",
                    "$autovalue": code, "label": [texts.choice_label(code)]}
                   for list_name in lists for code in _CHOICE_LISTS[list_name]]
        out[form] = {
            "uid": uid, "name": title, "asset_type": "survey", "owner__username": "saypro_me",
            "version_id": f"v{form[:3]}2025", "deployed_version_id": f"v{form[:3]}2025",
            "has_deployment": True, "deployment__active": True,
            "date_created": f"{YEAR - 1}-11-01T08:00:00Z",
            "date_modified": f"{YEAR}-01-10T08:00:00Z",
            "content": {"schema": "1", "survey": survey, "choices": choices,
                        "settings": {"default_language": "English (en)"},
                        "translations": [None]},
        }
    return out


def _outcome(rng: np.random.Generator, registered: str) -> str:
    """Employment reported in feedback: some people registered as unemployed found work."""
    if registered == "unemployed" and rng.random() < 0.35:
        return ["employed", "self_employed", "informal_trader"][int(rng.integers(0, 3))]
    return registered


STORIES = [
    {
        "id": "payment_surge",
        "description": "Billing and Payment tickets tagged payment_failed "
        "surge in 2025-Q3 and dominate the Pareto; the issue is recurring.",
        "expect": {
            "mart": "rca_pareto",
            "period_grain": "quarter",
            "period_start": "2025-07-01",
            "dimension": "issue_type",
            "rank_1_category": "Billing and Payment",
            "is_vital_few": True,
        },
    },
    {
        "id": "low_capacity_month",
        "description": "Low agent capacity in 2025-06: the median "
        "first reply is at least twice that of the other months.",
        "expect": {
            "mart": "support_monthly",
            "month_start": "2025-06-01",
            "metric": "median_first_reply_minutes",
            "ratio_to_other_months_median": 2.0,
        },
    },
    {
        "id": "ec_youth_completion_drop",
        "description": "Unemployed youth (18-34) in the Eastern "
        "Cape complete about 0.42 of courses from 2025-Q2 on, against about 0.76 for others.",
        "expect": {
            "mart": "kpi_scorecard",
            "kpi_id": "course_completion_rate",
            "segment_id": "unemployed_youth_eastern_cape",
            "period_grain": "quarter",
            "from_period": "2025-04-01",
            "status": "missed",
            "impact_tier": "high",
        },
    },
    {
        "id": "csat_follows_reply_time",
        "description": "The chance of a good CSAT rating falls "
        "with first-reply time; June's slow replies show as a CSAT dip.",
        "expect": {
            "mart": "support_monthly",
            "month_start": "2025-06-01",
            "metric": "csat",
            "below_other_months": True,
        },
    },
    {
        "id": "new_user_ad_post_issue",
        "description": "New users complete far fewer ad posts "
        "and raise most image_upload_error tickets (segment-specific issue).",
        "expect": {
            "mart": "rca_recurring_issues",
            "issue_type_tag": "image_upload_error",
            "top_segment_id": "new_users",
            "min_segment_lift": 2.0,
        },
    },
    {
        "id": "small_segment_suppressed",
        "description": "informal_traders_limpopo has fewer than "
        "10 feedback responses in most months: its survey KPIs are suppressed, not ranked.",
        "expect": {
            "mart": "kpi_values",
            "segment_id": "informal_traders_limpopo",
            "period_grain": "month",
            "reliability": "suppressed",
        },
    },
]


def generate(out_dir: Path, scale: float = 1.0, seed: int = 7) -> dict[str, Any]:
    """Write one organisation's year of vendor-shaped data; same seed, same bytes."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: choose a new folder for sample data")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = JsonlWriter(out_dir)
    people = _people(rng, max(200, int(3000 * scale)))
    anonymous = _zendesk_users(writer, rng, people)
    clock = TicketClock()
    cutoff = datetime(YEAR + 1, 1, 1, tzinfo=UTC) - LOCAL_OFFSET
    monthly_tickets = max(30, int(6000 * scale / 12))
    for month in range(1, 13):
        _ticket_month(
            writer,
            np.random.default_rng([seed, month]),
            people,
            month,
            int(monthly_tickets * (1.4 if month in (7, 8, 9) else 1.0)),  # Q3 surge
            clock,
            anonymous,
            cutoff,
        )
    _articles(writer, rng)
    # the planted experiments draw from their own stream: the rest of the sample is unchanged
    planter = ExperimentPlanter(np.random.default_rng([seed, 400]))
    _visits(writer, np.random.default_rng([seed, 100]), people, 60000 * scale / 365, planter)
    _moodle(writer, np.random.default_rng([seed, 200]), people, scale)
    _kobo(writer, np.random.default_rng([seed, 300]), people, scale)
    manifest = {
        "seed": seed,
        "scale": scale,
        "period": [f"{YEAR}-01-01", f"{YEAR}-12-31"],
        "counts": writer.counts,
        "experiments": planter.truth(),
    }
    stories = STORIES + planter.stories()
    (out_dir / "stories.json").write_bytes(orjson.dumps(stories, option=orjson.OPT_INDENT_2))
    (out_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest
