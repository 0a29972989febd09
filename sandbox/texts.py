"""Plausible free text for the sample data (support comments, survey comments, names)."""

from __future__ import annotations

import numpy as np

PROBLEMS = {
    "login_issue": "I cannot log in to my SayPro account, it says my password is wrong",
    "app_crash": "The app closes by itself when I open my messages",
    "slow_loading": "The classifieds page takes forever to load on my phone",
    "ad_not_showing": "My ad was approved but it does not show in the listings",
    "image_upload_error": "I get an error when I upload the photos for my ad",
    "payment_failed": "My card payment for the ad failed but the money left my account",
    "refund_request": "Please refund me, I paid twice for the same listing",
    "invoice_query": "I need an invoice for the premium membership for my records",
    "subscription_billing": "Why was I billed again for the monthly subscription?",
    "feature_suggestion": "It would help to filter ads by township and not only by city",
    "search_filters": "The price filter ignores the maximum that I set",
    "account_question": "How do I change the phone number on my profile?",
    "how_to_post_ad": "How do I post an ad for my catering business?",
    "course_info": "When does the next digital skills course start in my area?",
    "other_unmapped": "Hello, I have a question about SayPro",
}
SUBJECTS = {tag: text.split(",")[0][:60] for tag, text in PROBLEMS.items()}
CONTACTS = ["You can reach me on 082 555 0134.", "My email is thandi.m@example.org.",
            "Call me on +27 71 234 5678 please.", "", "", "", ""]
REPLIES = [
    "Thank you for contacting SayPro support. We are looking into this for you.",
    "Sorry about the trouble. Please try again now, we fixed a problem on our side.",
    "Thanks for your patience. Could you send a screenshot of the error?",
    "We have escalated this to the technical team and will update you soon.",
]
FOLLOW_UPS = ["It is still not working, please help.", "The problem came back today.",
              "I tried again and it failed again."]
NOTES = ["Checked the logs, looks like the payment gateway timed out.",
         "Customer is premium, prioritise.", "Possible duplicate of an earlier ticket."]
POSITIVE = ["The facilitator was excellent and I learnt a lot.",
            "Very helpful programme, I found a job after the course.",
            "Great support from the SayPro team, thank you!",
            "I love the classifieds site, I sold my furniture in two days."]
NEUTRAL = ["The course was okay.", "Some sessions were useful.", "It was fine.",
           "The venue was far but the content was fine."]
NEGATIVE = ["The data costs are too high and the videos would not load.",
            "Nobody answered my questions, very disappointing.",
            "The course was cancelled twice and I lost transport money.",
            "Terrible experience, my payment failed and nobody helped."]
COURSES = ["Digital Skills Basics", "Entrepreneurship Foundations", "Bookkeeping for Small "
           "Business", "Job Readiness", "Online Selling", "Customer Service", "Financial "
           "Literacy", "Coding for Beginners"]
EVENTS = ["Career Day", "Funding Info Session", "Community Workshop"]
def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


def opening(rng: np.random.Generator, tag: str) -> str:
    return f"{PROBLEMS[tag]}. {_pick(rng, CONTACTS)}".strip()


def reply(rng: np.random.Generator, tag: str) -> str:
    return _pick(rng, REPLIES)


def follow_up(rng: np.random.Generator) -> str:
    return _pick(rng, FOLLOW_UPS)


def internal_note(rng: np.random.Generator) -> str:
    return _pick(rng, NOTES)


def subject(tag: str) -> str:
    return SUBJECTS[tag]


def article_title(tag: str, i: int) -> str:
    verb = "How to fix" if i % 2 == 0 else "FAQ:"
    return f"{verb} {tag.replace('_', ' ')}"


def course_name(c: int, is_event: bool) -> str:
    names = EVENTS if is_event else COURSES
    return f"{names[c % len(names)]} ({c // len(names) + 1})"


def feedback_comment(rng: np.random.Generator, nps: int) -> str:
    if rng.random() < 0.3:
        return ""
    if nps >= 9:
        return _pick(rng, POSITIVE)
    if nps >= 7:
        return _pick(rng, NEUTRAL)
    return _pick(rng, NEGATIVE)


CHOICE_LABELS = {  # choice codes whose label is not the code in title case
    "kwazulu_natal": "KwaZulu-Natal", "peri_urban": "Peri-urban", "prefer_not": "Prefer not to say",
    "self_employed": "Self-employed", "informal_trader": "Informal trader", "55+": "55 and over",
    "zu": "isiZulu", "xh": "isiXhosa", "af": "Afrikaans", "en": "English", "nso": "Sepedi",
    "tn": "Setswana", "st": "Sesotho", "ts": "Xitsonga", "ss": "siSwati", "ve": "Tshivenda",
    "nr": "isiNdebele",
}


def choice_label(code: str) -> str:
    return CHOICE_LABELS.get(code, code.replace("_", " ").capitalize())
