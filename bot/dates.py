"""Dates, years, numbers and amounts in article text: the one place their patterns live.

Used by the corpus reader (datelines), by the evidence checks of the search ("when" questions
need a date, "how many" a count, "how much" an amount) and by the excerpt (the span that answers
is marked). Every pattern finds spans in text; nothing here knows about the articles.
"""

from __future__ import annotations

import re


class Folded:
    """A case-insensitive pattern whose letters are all lower case, for finding spans: on ASCII
    text it runs case-sensitively over the lower-cased text (the same spans: lower-casing ASCII
    changes only A-Z, one for one), which Python's ``re`` does two to three times faster than
    folding case character by character; other text goes to the case-insensitive pattern."""

    __slots__ = ("any_case", "_lower")

    def __init__(self, pattern: str) -> None:
        if any("A" <= c <= "Z" for c in pattern):  # a capital or \W, \S, \B, \D escape
            raise ValueError("a folded pattern is written in lower case")
        self.any_case = re.compile(pattern, re.IGNORECASE)
        self._lower = re.compile(pattern)

    def spans(self, text: str) -> list[tuple[int, int]]:
        if text.isascii():
            return [m.span() for m in self._lower.finditer(text.lower())]
        return [m.span() for m in self.any_case.finditer(text)]


MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE_RE = re.compile(
    r"\b(?:\d{1,2}[-/ .]" + MONTHS + r"[-/ .,]+\d{2,4}"
    r"|" + MONTHS + r"\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)? " + MONTHS + r",? \d{4}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}/\d{2,4})\b",
    re.IGNORECASE,
)
_DATE = Folded(DATE_RE.pattern)  # (DATE_RE itself gives datelines their text as written)
# a year of the last thousand years (history as well as news), its decade ("the 1060s"), a
# century ("the 11th century") or an era-marked year ("AD 800", "44 BC")
_CENTURY = r"(?:1\d|20)"  # the first two digits of a year
_YEAR = _CENTURY + r"\d{2}"
YEAR_RE = re.compile(
    r"\b" + _YEAR + r"s?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)[ -]century\b"
    r"|\b\d{1,4} (?:AD|BC|BCE|CE)\b|\bAD \d{1,4}\b"
)
# Dates written without a year, month-and-year forms, and year ranges.
# a day of a month: "May 24", "June 21st", "21 of June"
_MONTH_DAY_PARTS = (
    r"(?:" + MONTHS + r")\.? \d{1,2}(?:st|nd|rd|th)?\b",
    r"\d{1,2}(?:st|nd|rd|th)? (?:of )?" + MONTHS + r"\b",
)
_LOOSE_DATE = Folded(
    r"\b(?:"
    + "|".join(
        (
            _MONTH_DAY_PARTS[0] + r"(?:,? (?:last|this|next) year)?",
            _MONTH_DAY_PARTS[1],
            r"(?:in |by |since |from )?" + MONTHS + r",? " + _YEAR + r"\b",
            _YEAR + r"\s*[-–]\s*" + _CENTURY + r"?\d{2}\b",
            r"(?:last|this|next) (?:year|month|week)\b",
        )
    )
    + ")"
)
_DIGIT = re.compile(r"\d")
_MONTH_DAY = Folded(r"\b(?:" + "|".join(_MONTH_DAY_PARTS) + ")")
# numbers written as words, by value ("twenty" is 20): a question's "twenty years" meets "20 years"
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
NUMBER_NAMES = {w: n for n, w in enumerate(_ONES.split())} | {
    w: 10 * n for n, w in enumerate(_TENS.split(), 2)
}
_RELATIVE = Folded(r"\b(?:last|this|next) (?:year|month|week)\b")
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|hundred|thousand|dozens?|several|a few|hundreds|thousands)"
)
# A count: a number standing alone (not part of a model name such as "M777" or "P 8I"),
# or a number word followed by a noun.
_COUNT = re.compile(
    r"(?<![\w-])(?<!(?-i:[A-Z]) )(?<![\d][:+])\d{1,3}(?:,\d{3})*(?:\.\d+)?"
    r"(?:-(?:year|month|day|week|member|nation|point))?"
    r"(?![\w-]*\d)(?!\w)(?![:+]\d)"  # not a time of day ("03:02 PM") nor a name ("2+2")
    r"|\b" + _NUMBER_WORDS + r"-(?:year|month|day|week|member|nation|point)\b"  # "ten-year"
    r"|\b" + _NUMBER_WORDS + r"\b(?= (?!of\b|another\b)\w)",  # not "one of", "one another"
    re.IGNORECASE,
)
_YEAR_RANGE = re.compile(r"\b" + _YEAR + r"\s*[-–]\s*" + _YEAR + r"\b")
_AMOUNT = re.compile(
    r"(?:[$€£₹]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|crore|lakh|bn|mn|m|k))?"
    r"|\b\d[\d,.]*\s?(?:million|billion|trillion|crore|lakh)?\s?"
    r"(?:dollars|usd|rupees|inr|euros?|pounds)\b"
    r"|\b\d[\d,.]*\s?(?:million|billion|trillion|crore|lakh)\b)",
    re.IGNORECASE,
)


def date_spans(text: str) -> list[tuple[int, int]]:
    """Spans of full dates, loose dates ("June 21 last year", "May 2022") and years."""
    if not _DIGIT.search(text):  # the one date form without a digit: "last year"
        return _RELATIVE.spans(text)
    spans = _DATE.spans(text) + _LOOSE_DATE.spans(text)
    spans += [m.span() for m in YEAR_RE.finditer(text)]
    return _outermost(spans)


def count_spans(text: str) -> list[tuple[int, int]]:
    """Numbers that count something (not dates' years, not model designations)."""
    years = YEAR_RE.findall(text)
    # the day of a date ("May 24, 2022", "21 June") counts nothing
    days = _DATE.spans(text) + _MONTH_DAY.spans(text)
    spans = [
        m.span()
        for m in _COUNT.finditer(text)
        if (m.group(0) not in years or "-" in m.group(0))
        and not any(a <= m.start() < b for a, b in days)
    ]
    spans += [m.span() for m in _YEAR_RANGE.finditer(text)]  # "2025-2035" spans ten years
    return _outermost(spans)


def amount_spans(text: str) -> list[tuple[int, int]]:
    """Money and large amounts ("$3 billion", "500 crore", "2 million dollars")."""
    return _outermost([m.span() for m in _AMOUNT.finditer(text) if _DIGIT.search(m.group(0))])


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
            continue
        out.append((s, e))
    return out


# ordinals written as words, by value (conversation.py: "and the first one?" is an ellipsis)
ORDINAL_WORDS = {
    w: n
    for n, w in enumerate(
        ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
         "tenth", "eleventh", "twelfth"),
        1,
    )
}  # fmt: skip
