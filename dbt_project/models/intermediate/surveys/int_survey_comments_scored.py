"""Sentiment of feedback comments with VADER: transforms.sentiment, which documents the score
and labels; this model reads its input on DuckDB (the Spark build calls the same function,
orchestration/spark_build.py)."""

from transforms.sentiment import score_comments


def model(dbt, session):
    dbt.config(materialized="table")
    comments = (dbt.ref("stg_kobo__feedback_responses")
                .filter("comment_text is not null")
                .project("response_id, comment_text")
                .df())
    return score_comments(comments)
