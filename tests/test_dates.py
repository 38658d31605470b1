"""Dates, counts and amounts found in text (bot/dates.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import answers, dates
from bot.dates import amount_spans, count_spans, date_spans


def spans_text(text, spans):
    return [text[a:b] for a, b in spans]


def test_dates_in_their_usual_shapes():
    text = "Launched on June 21 last year; signed 07-Feb-2025, in May 2022, 2016 and 2025-2035."
    got = spans_text(text, date_spans(text))
    assert "June 21 last year" in got
    assert "07-Feb-2025" in got
    assert any("May 2022" in g for g in got)
    assert "2016" in got and "2025-2035" in got


def test_years_of_history_decades_and_centuries_are_dates_too():
    """Not only this century's news: "When was the Battle of Hastings?" is answered by
    "In 1066, ..." and "when did X go up against Y?" by "In the 1060s, ..."."""
    text = "In 1066, the duke won; in the 1060s they fought; by the 11th century, and in AD 800."
    got = spans_text(text, date_spans(text))
    assert got == ["1066", "1060s", "11th century", "AD 800"]
    for year in ("1066", "1650"):
        assert spans_text(year, answers.answer_spans(year, "year")) == [year]
    assert count_spans("In 1066 the duke won") == []


def test_counts_are_not_model_names_or_years():
    text = "It flies the MH 60R, the C 17 and the P-8I since 2016; three squadrons and 12 jets."
    got = spans_text(text, count_spans(text))
    assert got == ["three", "12"]


def test_a_year_range_and_a_ten_year_plan_are_counts():
    text = "a 10-year framework covering 2025-2035"
    assert spans_text(text, count_spans(text)) == ["10-year", "2025-2035"]


def test_amounts_need_money_or_magnitude():
    text = "It cost $3 billion, or 25,000 crore, for 40 aircraft."
    got = spans_text(text, amount_spans(text))
    assert got == ["$3 billion", "25,000 crore"]


def test_a_time_of_day_and_one_of_are_not_counts():
    text = "07-Feb-2025, 03:02 PM: one of the 2+2 keepers said two boats waited 45 minutes."
    assert spans_text(text, count_spans(text)) == ["two", "45"]


def test_the_day_of_a_date_is_not_a_count():
    text = "Introduced on May 24, 2022 and launched 21 June, it drew 45 startups to 3 summits."
    assert spans_text(text, count_spans(text)) == ["45", "3"]


# words of the folded patterns (dates, reasons, purposes), in any case, among other text
_PIECES = [
    "June 21 LAST year",
    "21st of june",
    "Sept. 5, 2024",
    "07-FEB-2025",
    "12/03/24",
    "in May 2022",
    "2025-2035",
    "Because",
    "DUE TO",
    "driven by",
    "Owing to",
    "caused",
    "Leads to",
    "for THEIR part",
    "amid",
    "concerns",
    "Aims at",
    "designed to",
    "Goal",
    "to Promote",
    "known as",
    "ſince",
    "ſeptember",
    "K",
    "İn",
    "ﬁnal",
    "x",
    ", ",
    ". ",
    "\n",
    "-",
    "1990",
    "5",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map(" ".join))
def test_folded_patterns_find_what_case_insensitive_ones_find(text: str) -> None:
    """On ASCII text a folded pattern runs over the lower-cased text; the spans are those of
    the case-insensitive pattern, on any text (non-ASCII pieces: "ſ" folds to "s")."""
    for pattern in (dates._DATE, dates._LOOSE_DATE, dates._MONTH_DAY, dates._RELATIVE,
                    answers._REASON, answers._PURPOSE):  # fmt: skip
        assert pattern.spans(text) == [m.span() for m in pattern.any_case.finditer(text)]


def test_a_folded_pattern_must_be_written_in_lower_case() -> None:
    with pytest.raises(ValueError):
        dates.Folded(r"\bMay\b")
    with pytest.raises(ValueError):  # \W, \S, \D, \B would change meaning when lower-cased
        dates.Folded(r"\W+")
