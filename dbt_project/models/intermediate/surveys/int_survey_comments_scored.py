"""Sentiment of feedback comments with VADER (vaderSentiment's lexicon and rules).

One row per feedback response that has a (masked) comment: the VADER compound score in [-1, 1]
and a label with VADER's documented cut-offs: negative (score <= -0.05), positive (>= 0.05),
neutral otherwise. Comments are masked for e-mail addresses and phone numbers in staging, so
no PII reaches the model.
"""

import numpy as np
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


def model(dbt, session):
    dbt.config(materialized="table")
    comments = dbt.ref("stg_kobo__feedback_responses").df()
    comments = comments.loc[comments["comment_text"].notna(), ["response_id", "comment_text"]]
    analyzer = SentimentIntensityAnalyzer()
    scores = np.array(
        [analyzer.polarity_scores(str(text))["compound"] for text in comments["comment_text"]],
        dtype="float64",
    )
    return pd.DataFrame({
        "response_id": comments["response_id"].astype("int64").to_numpy(),
        "sentiment_score": scores,
        "sentiment_label": pd.Series([label(s) for s in scores], dtype="object"),
    })
