"""Sentiment of feedback comments with VADER (vaderSentiment's lexicon and rules).

One row per feedback response that has a (masked) comment: the VADER compound score in [-1, 1]
and a label with VADER's documented cut-offs: negative (score <= -0.05), positive (>= 0.05),
neutral otherwise. Comments are masked for e-mail addresses and phone numbers in staging, so
no PII reaches the model.
"""

from __future__ import annotations

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_AT_MOST = -0.05
POSITIVE_AT_LEAST = 0.05


def label(score: float) -> str:
    if score <= NEGATIVE_AT_MOST:
        return "negative"
    if score >= POSITIVE_AT_LEAST:
        return "positive"
    return "neutral"


def score_comments(comments: pd.DataFrame) -> pd.DataFrame:
    """The rows of int_survey_comments_scored from `comments` (response_id, comment_text; the
    responses with a comment)."""
    texts = comments["comment_text"].astype(str)
    # VADER runs in Python, one text at a time: score each distinct text once (short comments
    # repeat a lot), then map the scores back onto the responses.
    analyzer = SentimentIntensityAnalyzer()
    score_of = {text: analyzer.polarity_scores(text)["compound"] for text in texts.unique()}
    scores = texts.map(score_of).to_numpy(dtype="float64")
    return pd.DataFrame({
        "response_id": comments["response_id"].astype("int64").to_numpy(),
        "sentiment_score": scores,
        # a string dtype, not object: with no comments at all (Kobo not configured) DuckDB
        # could not tell the empty column's type
        "sentiment_label": pd.Series([label(s) for s in scores], dtype="string"),
    })
