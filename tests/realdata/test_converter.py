"""The real-data converter's documented rules (sandbox/realdata.py), without the data sets."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson

from sandbox.realdata import (
    convert_nps,
    decode_nps_bytes,
    presentation_start,
    submission_times,
)


def test_presentations_start_on_the_first_of_february_or_october_in_sast() -> None:
    assert presentation_start("2013B").astimezone(UTC) == datetime(2013, 1, 31, 22, tzinfo=UTC)
    assert presentation_start("2014J").astimezone(UTC) == datetime(2014, 9, 30, 22, tzinfo=UTC)


def test_nps_text_is_latin1_with_the_cp850_bytes_fixed() -> None:
    raw = b"pour \x82change, le m\xeame, 15\x80 et \x80a, TR\xd4S, \xaezen\xaf, n\xf81"
    assert decode_nps_bytes(raw) == "pour échange, le même, 15€ et Ça, TRÈS, «zen», n°1"


def test_submission_months_are_equal_slices_of_the_file_at_local_noon() -> None:
    times = submission_times(13_954)
    months = Counter(t.month for t in times)
    assert set(months) == set(range(1, 13))
    assert set(months.values()) == {1_162, 1_163}
    assert [t.month for t in times] == sorted(t.month for t in times)
    assert {(t.hour, t.utcoffset().total_seconds()) for t in times} == {(12, 7200.0)}
    assert (times[0].day, times[-1].day) == (1, 31)


def test_nps_rows_become_anonymous_kobo_submissions(tmp_path: Path) -> None:
    csv = tmp_path / "nps.csv"
    csv.write_bytes(b'"","id","nps","satisfaction","intention","explication","NbPassageKS",'
                    b'"CaTicket","t"\n'
                    b'"1",10,9,8,9,NA,3,9.5,1\n'
                    b'"2",11,NA,3,2,"tr\xe8s d\x82\xe7u",4,12,2\n')
    assert convert_nps(csv, tmp_path / "out") == {"kobo/feedback": 2, "kobo/forms": 1}
    lines = (tmp_path / "out" / "kobo" / "feedback" / "npsgame.jsonl").read_bytes().splitlines()
    first, second = (orjson.loads(line) for line in lines)
    assert (first["_id"], first["nps"], "comment" in first) == (1, "9", False)
    assert (second["_id"], "nps" in second, second["comment"]) == (2, False, "très déçu")
    assert not {"beneficiary_id", "csat"} & (first.keys() | second.keys())
    assert first["_submission_time"] == "2025-01-01T10:00:00"  # noon SAST in UTC
    form = orjson.loads((tmp_path / "out" / "kobo" / "forms" / "npsgame_feedback.json")
                        .read_bytes())
    assert [q["name"] for q in form["content"]["survey"]] == ["nps", "comment"]
