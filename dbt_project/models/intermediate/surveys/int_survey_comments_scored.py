"""Sentiment of survey comments with VADER (vaderSentiment's lexicon and rules).

The compound score is in [-1, 1]; labels use VADER's documented cut-offs (±0.05). Comments are
already masked for e-mail addresses and phone numbers in staging.
"""

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def model(dbt, session):
    dbt.config(materialized="table")
    comments = dbt.ref("stg_kobo__feedback_responses").df()
    comments = comments.loc[comments["comment_text"].notna(), ["response_id", "comment_text"]]
    analyzer = SentimentIntensityAnalyzer()
    scores = [analyzer.polarity_scores(text)["compound"] for text in comments["comment_text"]]
    out = pd.DataFrame({"response_id": comments["response_id"].astype("int64"),
                        "sentiment_score": pd.Series(scores, dtype="float64")})
    out["sentiment_label"] = pd.cut(out["sentiment_score"], [-1.01, -0.05, 0.0499999, 1.01],
                                    labels=["negative", "neutral", "positive"]).astype(str)
    return out
