"""Planted A/B experiments of the sample organisation (DESIGN.md section 11).

Each experiment tags some of the sample's existing Matomo visits in its dates as arriving
through its campaign link (`mtm_campaign` = the experiment's campaign, `mtm_content` = the
variant), the way Matomo reports such visits: `referrerType` campaign, `referrerName` and
`campaignName` the campaign, `campaignContent` the variant. No visit is added, so counts and the
other planted stories stay as they were; the draws come from their own random stream, so every
other value of the sample is unchanged too.

The four experiments have a known truth: a real lift, no effect, a broken split (sample-ratio
mismatch) and one too small to conclude. `dbt_project/seeds/experiments.csv` registers them
for the demo; the generator writes their truth to `manifest.json` and their expected decisions
to `stories.json`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

CONVERTING_ACTIONS = ("contact_seller", "ad_post_completed")


@dataclass(frozen=True)
class PlantedExperiment:
    experiment_id: str
    campaign: str
    source: str  # campaignSource / campaignMedium of the links
    medium: str
    unit: str  # visitor | person (the unit the registry assigns)
    variants: tuple[str, ...]  # control first
    start: date  # local dates, end inclusive
    end: date
    reach: float  # chance that a visit in the dates comes through the campaign link
    expected_decision: str
    story: str
    uplift: float = 0.0  # chance that a non-control visit gains a seller contact (the lift)
    untracked: float = 0.0  # share of non-control units whose links lose the campaign tags
    max_units: int | None = None  # no new units once this many are enrolled
    switch: float = 0.03  # chance that a later visit comes through another variant's link


PLANTED = (
    PlantedExperiment(
        "wa_contact_cta", "wa_broadcast_2025", "whatsapp", "broadcast", "visitor",
        ("control", "contact_now"), date(2025, 2, 3), date(2025, 3, 30), 0.7, "ship",
        "The WhatsApp broadcast with a 'Contact the seller now' button converts more visits "
        "(one in ten of its visits goes on to contact a seller): ship.",
        uplift=0.10,
    ),
    PlantedExperiment(
        "ad_slot_sidebar", "ad_placement_2025", "site", "banner", "visitor",
        ("top_banner", "sidebar"), date(2025, 4, 7), date(2025, 6, 1), 0.7, "no_difference",
        "Classified ads in the sidebar instead of the top banner: no effect planted, so no "
        "difference in ad click-through.",
    ),
    PlantedExperiment(
        "course_reminder_sms", "course_reminder_2025", "sms", "reminder", "person",
        ("email", "sms"), date(2025, 7, 1), date(2025, 8, 31), 0.7, "invalid",
        "Course reminders by SMS: the SMS link shortener drops the campaign tags for half of "
        "its people, so far fewer SMS people are counted than planned (sample-ratio "
        "mismatch): invalid.",
        untracked=0.5,
    ),
    PlantedExperiment(
        "events_banner_photo", "events_banner_2025", "site", "banner", "visitor",
        ("illustration", "photo"), date(2025, 9, 1), date(2025, 9, 14), 0.5, "inconclusive",
        "Events banner with a photo: only 40 visitors took part, far too few to detect the "
        "10% effect the team wanted: inconclusive.",
        max_units=40,
    ),
)


def _share(*parts: str) -> float:
    """A stable number in [0, 1) from its parts (assignment does not use the random stream)."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class _Enrolment:
    variant_of: dict[str, int] = field(default_factory=dict)  # unit -> first variant
    seen: dict[str, set[int]] = field(default_factory=dict)  # unit -> variants exposed
    untracked: set[str] = field(default_factory=set)


class ExperimentPlanter:
    """Tags the visits of the planted experiments, in visit order, and keeps their truth."""

    def __init__(self, rng: np.random.Generator,
                 experiments: tuple[PlantedExperiment, ...] = PLANTED) -> None:
        self.rng = rng
        self.experiments = experiments
        self.enrolments = {e.experiment_id: _Enrolment() for e in experiments}

    def tag(self, visit: dict[str, Any], day: date) -> None:
        """Tag one visit (local date `day`) if it comes through a running experiment's link."""
        for experiment in self.experiments:
            if experiment.start <= day <= experiment.end:
                self._tag(experiment, visit)
                return

    def _tag(self, e: PlantedExperiment, visit: dict[str, Any]) -> None:
        if self.rng.random() >= e.reach:
            return
        enrolment = self.enrolments[e.experiment_id]
        # the unit the registry counts; an anonymous visit of a person experiment still
        # follows the link (and is tagged), it just cannot count
        unit = visit["userId"] if e.unit == "person" else visit["visitorId"]
        key = unit or visit["visitorId"]
        if key in enrolment.variant_of:
            variant = enrolment.variant_of[key]
            if self.rng.random() < e.switch:  # a link of another variant was forwarded to them
                variant = (variant + 1 + int(self.rng.integers(0, len(e.variants) - 1))) \
                    % len(e.variants)
        else:
            if e.max_units is not None and len(enrolment.variant_of) >= e.max_units:
                return
            variant = int(_share(e.experiment_id, key) * len(e.variants))
            enrolment.variant_of[key] = variant
            if variant and _share(e.experiment_id, "untracked", key) < e.untracked:
                enrolment.untracked.add(key)
        if variant and key in enrolment.untracked:
            return
        if unit is not None:
            enrolment.seen.setdefault(unit, set()).add(variant)
        visit.update({
            "referrerType": "campaign", "referrerName": e.campaign,
            "campaignName": e.campaign, "campaignContent": e.variants[variant],
            "campaignSource": e.source, "campaignMedium": e.medium,
            "campaignKeyword": "", "campaignId": "", "campaignGroup": "",
            "campaignPlacement": "",
        })
        if variant and e.uplift and self.rng.random() < e.uplift:
            _add_seller_contact(visit)

    def truth(self) -> list[dict[str, Any]]:
        """Per experiment: the registry's fields and the units counted per variant (first
        variant, multi-variant units apart), for the tests and manifest.json."""
        out = []
        for e in self.experiments:
            seen = self.enrolments[e.experiment_id].seen
            single = [variants for variants in seen.values() if len(variants) == 1]
            out.append({
                "experiment_id": e.experiment_id, "campaign_name": e.campaign, "unit": e.unit,
                "variants": list(e.variants), "start_date": e.start.isoformat(),
                "end_date": e.end.isoformat(), "expected_decision": e.expected_decision,
                "planted_uplift": e.uplift, "untracked_share": e.untracked,
                "units": {v: sum(1 for s in single if i in s) for i, v in enumerate(e.variants)},
                "multi_variant_units": len(seen) - len(single),
            })
        return out

    def stories(self) -> list[dict[str, Any]]:
        return [{"id": f"experiment_{e.experiment_id}", "description": e.story,
                 "expect": {"mart": "experiment_results", "experiment_id": e.experiment_id,
                            "decision": e.expected_decision}}
                for e in self.experiments]


def _add_seller_contact(visit: dict[str, Any]) -> None:
    """The lift: the visit goes on to view an ad, click it and contact the seller (unless it
    already converted)."""
    actions = visit["actionDetails"]
    if any(a.get("eventAction") in CONVERTING_ACTIONS for a in actions):
        return
    t = int(visit["lastActionTimestamp"]) + 20
    url = "https://saypro.online/classifieds/services"
    actions.append({"type": "action", "url": url, "pageTitle": "classifieds/services",
                    "timestamp": t})
    for offset, event in ((5, "view"), (8, "click"), (14, "contact_seller")):
        actions.append({"type": "event", "url": url, "timestamp": t + offset,
                        "eventCategory": "classified_ad", "eventAction": event})
    visit["actions"] = len(actions)
    visit["lastActionTimestamp"] = t + 14
    visit["visitDuration"] = t + 14 - int(visit["firstActionTimestamp"])
