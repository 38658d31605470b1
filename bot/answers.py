"""Answer types: where in a piece of text the kind of answer a question asks for stands.

``query.answer_type`` reads the kind from the question (when -> date, what year -> year, how many
-> count, how long -> duration, how much -> amount, who -> person, "who is X?" -> identity,
where -> place, "stand for" -> long form, why -> reason, what-is/what-for -> purpose, "need
names" / "what is it called?" -> name); :func:`answer_spans` finds spans of that kind in a
sentence. The search uses them as evidence (a passage that names the thing asked about but
holds no span of the asked kind is a near miss, not an answer) and to pick the excerpt's
sentence; the excerpt marks the span, the way extractive QA readers point at theirs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from functools import lru_cache

from .analysis import STOPWORDS, analyze_word, tokenize
from .dates import (
    MONTHS,
    YEAR_RE,
    Folded,
    amount_spans,
    count_spans,
    date_spans,
)
from .lexicon import zipf
from .spelling import COMMON_ZIPF

# Kinds whose absence makes a passage a near miss.
STRICT_KINDS = frozenset({"year", "date", "count", "duration", "amount", "long_form", "name"})

_CAP = r"[A-Z][\w’'-]*(?:\.[\w’'-]+)*"  # a capitalised word (inner dots: U.S)
_WORD = re.compile(r"[\w’'-]+")
# what follows a count of time: its unit, maybe after an adjective ("two full days"); a year
# range ("2025-2035") is one by itself
_TIME_UNIT = re.compile(
    r"(?:[\s-]+(?:\w+\s+)?(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)\b"
    r"|(?<=\d{4}))",
    re.I,
)
_TIME_UNIT_WITHIN = re.compile(r"-(?:year|month|week|day)\b", re.I)  # "ten-year"
GIVEN_PREFIX = 5  # words shorter than this are forms of a question word only when equal
_NAME_SEQ = re.compile(_CAP + r"(?:\s+(?:of|the|for|and|de|van|von|bin|al)?\s*" + _CAP + r")+")
_DATE_WORD = re.compile(MONTHS + r"\.?|(?:mon|tues|wednes|thurs|fri|satur|sun)day")
_PLACE = re.compile(
    r"\b(?:in|at|to|from|near|across)\s+(?:the\s+)?(" + _CAP + r"(?:,?\s+" + _CAP + r")*)"
)
# Wording that gives a reason or a purpose (English, not the articles').
_REASON = Folded(
    r"\b(?:because|due to|driven by|owing to|as a result|caus(?:e|es|ed|ing)|lead(?:s)? to"
    r"|in order to|so that|for (?:its|their|his|her) \w+|amid|concerns?)\b"
)
_PURPOSE = Folded(
    r"\b(?:aim(?:s|ed)?(?: at| to)?|designed to|intended to|meant to|goal|purpose|objective"
    r"|focus(?:es|ed)? on|known as|refers? to|seeks? to|to (?:promote|foster|strengthen|"
    r"enhance|build|deter|support))\b"
)
_LONG_FORM = re.compile(
    r"((?:" + _CAP + r"[\s-]+(?:(?:and|of|for|the|on|in)\s+)*){1,9})\(([^()\s]{2,10})\)"
)


# Kinds whose spans do not depend on the question's words: kept per text across questions
# (passages come back question after question; a sentence's dates or counts are its own).
_WORDS_FREE_KINDS = frozenset({"date", "year", "count", "duration", "amount", "reason", "purpose"})
SPANS_KEPT = 4096


def answer_spans(
    text: str, kind: str | None, question_terms: Collection[str] = ()
) -> list[tuple[int, int]]:
    """Spans of ``text`` that are answers of ``kind`` (none for yes/no or untyped questions).

    ``question_terms`` are the question's index terms: a name or place the question itself
    gives is not its answer ("who is X" is answered by X's title, not by X alone)."""
    if kind in _WORDS_FREE_KINDS:
        return list(_kept_spans(text, kind))
    return _spans(text, kind, question_terms)


@lru_cache(maxsize=SPANS_KEPT)
def _kept_spans(text: str, kind: str) -> tuple[tuple[int, int], ...]:
    return tuple(_spans(text, kind, ()))


def _spans(text: str, kind: str | None, question_terms: Collection[str]) -> list[tuple[int, int]]:
    if kind == "date":
        return date_spans(text)
    if kind == "year":  # "what year": a year, not "June 21 last year"
        return [m.span() for m in YEAR_RE.finditer(text)]
    if kind == "count":
        return count_spans(text)
    if kind == "duration":  # "how long": a count of time ("ten-year", "45 minutes", "2025-2035")
        return [
            (a, b)
            for a, b in count_spans(text)
            if _TIME_UNIT.match(text, b) or _TIME_UNIT_WITHIN.search(text, a, b)
        ]
    if kind == "amount":
        return amount_spans(text)
    if kind == "long_form":
        return [
            (m.start(1), m.end(2) + 1)
            for m in _LONG_FORM.finditer(text)
            if set(analyze_word(m.group(2))) & set(question_terms)
        ]
    if kind == "identity":
        return _titles(text, question_terms)
    if kind == "name":
        return _proper_names(text, question_terms)
    if kind == "person":
        names = (_name_span(text, m) for m in _NAME_SEQ.finditer(text))
        return [sp for sp in names if sp and _adds(text[sp[0] : sp[1]], question_terms)]
    if kind == "reason":
        return _REASON.spans(text)
    if kind == "purpose":
        return _PURPOSE.spans(text)
    if kind == "place":
        return [m.span(1) for m in _PLACE.finditer(text) if _adds(m.group(1), question_terms)]
    return []


# a run of capitalised words, which may be a single one ("Malabar", "CH-47F", "Make in India")
_CAP_RUN = re.compile(_CAP + r"(?:\s+(?:(?:of|the|for|and|in|de)\s+)?" + _CAP + r")*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(]\s*)$")


def _proper_names(text: str, question_terms: Collection[str]) -> list[tuple[int, int]]:
    """Names ("what is it called?", "need names"): runs of capitalised words that say
    something beyond the question's own words; a single capitalised word that opens a sentence
    is a name only when it is not an everyday word ("Critical technologies include ...")."""
    out = []
    for m in _CAP_RUN.finditer(text):
        start, end = m.span()
        words = m.group(0).split()
        # leading function and date words are not part of the name ("The U.S. Navy")
        while words and (words[0].lower() in STOPWORDS or _DATE_WORD.fullmatch(words[0].lower())):
            start = text.index(words[1], start) if len(words) > 1 else end
            words.pop(0)
        if not words:
            continue
        opens = _SENTENCE_START.search(text, 0, m.start()) is not None
        if len(words) == 1 and opens and analyze_word(words[0]) and _everyday(words[0]):
            continue
        if _adds(text[start:end], question_terms):
            out.append((start, end))
    return out


def _everyday(word: str) -> bool:
    return zipf(word.lower()) >= COMMON_ZIPF


_APPOSITIVE_NAME = re.compile(r",\s+((?:[A-Z]\.\s*)*" + _CAP + r"(?:\s+" + _CAP + r")*)")


def _titles(text: str, question_terms: Collection[str]) -> list[tuple[int, int]]:
    """Spans that say who a person the question names is: a run of capitalised words that
    holds the name and more ("Defence Minister Rajnath Singh"), or a title set off by a comma
    right before the name ("Secretary of Defense, Pete Hegseth", "Minister, S. Jaishankar")."""
    out = []
    for m in _NAME_SEQ.finditer(text):
        sp = _name_span(text, m)
        if sp is None:
            continue
        # "Singh and Hegseth" names two people: each is a run of its own
        end = sp[0]
        for piece in re.split(r"(\s+and\s+)", text[sp[0] : sp[1]]):
            start, end = end, end + len(piece)
            if len(piece.split()) < 2:  # "and", or a name alone: no title
                continue
            if _names(piece, question_terms):
                if _adds(piece, question_terms):
                    out.append((start, end))
            elif (after := _APPOSITIVE_NAME.match(text, end)) and _names(
                after.group(1), question_terms
            ):
                out.append((start, after.end()))
    return out


def _names(span_text: str, question_terms: Collection[str]) -> bool:
    """Whether a span holds a word of the question."""
    return any(
        set(analyze_word(w)) & set(question_terms) for w in re.findall(r"[\w’'-]+", span_text)
    )


def _name_span(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The span of a run of capitalised words that can be a name: without a leading function
    word or date word ("On September", "The", "In"); None when no two words are left."""
    start, end = m.span()
    first = m.group(0).split(None, 1)[0].lower()
    if first not in STOPWORDS and not _DATE_WORD.fullmatch(first):
        return start, end  # the common case: the run starts with a name
    for w in re.finditer(r"\S+", m.group(0)):
        low = w.group(0).lower()
        if low not in STOPWORDS and not _DATE_WORD.fullmatch(low):
            break
        start = m.start() + w.end()
    span = text[start:end].strip()
    if len(span.split()) < 2:
        return None
    start = text.index(span, start)
    return start, start + len(span)


def _adds(span_text: str, question_terms: Collection[str]) -> bool:
    """Whether a span says something beyond the question's own words (a word of the span that
    is a form of one of them, "India" for "Indian", says nothing new)."""
    words: dict[int, list[str]] = {}  # the terms of each word ("INDUS-X": indusx, indus, x)
    for t in tokenize(span_text):
        words.setdefault(t.start, []).append(t.term)
    return any(not any(_given(t, question_terms) for t in ts) for ts in words.values())


def _given(term: str, question_terms: Collection[str]) -> bool:
    """Whether ``term`` is one of the question's terms or a form of one: the two share all
    but the last letter of the shorter one ("india"/"indian", "canada"/"canadian")."""
    if term in question_terms:
        return True
    for q in question_terms:
        short = min(len(q), len(term))
        if short >= GIVEN_PREFIX and len(os.path.commonprefix((q, term))) >= short - 1:
            return True
    return False
