"""Verbatim excerpts: the best sentences of a passage, cut at sentence bounds.

Like a search highlighter: sentences are scored by the question terms they hold, the best one is
taken, then others that add question terms while the excerpt stays within the budget; they are
shown in document order with ``…`` where text is skipped. Every piece is a substring of the
passage, which is itself exactly the cited lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from math import fsum

from .analysis import matches
from .answers import answer_spans

ELLIPSIS = "…"
SEP = f" {ELLIPSIS} "
MAX_CHARS = 600
REPEAT_GAIN = 0.25

# Abbreviations after which a period does not end a sentence.
_ABBREV = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "lt",
        "col",
        "sgt",
        "capt",
        "adm",
        "cmdr",
        "maj",
        "gov",
        "sen",
        "rep",
        "st",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "no",
        "nos",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "fig",
        "approx",
        "dept",
        "est",
        "govt",
        "mt",
        "ft",
        "pvt",
        "rs",
    ]
)
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n+""")
_LAST_WORD = re.compile(r"([\w.]+)$")
_ANAPHORA = re.compile(r"(?:These|This|Those|That|Such|It|They|Both)\b")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text``, trimmed of surrounding space."""
    return list(_kept_sentence_spans(text))


@lru_cache(maxsize=4096)  # (passages come back question after question)
def _kept_sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(_sentence_spans(text))


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0)[0] == ".":
            # the word before the period: an abbreviation or an initial does not end a sentence
            before = text[max(start, m.start() - 24) : m.start()]
            word = _LAST_WORD.search(before)
            if word:
                w = word.group(1)
                if (
                    w.lower() in _ABBREV
                    or (len(w) == 1 and w.isupper())
                    or re.fullmatch(r"(?:\w\.)+\w", w)  # U.S, e.g
                ):
                    continue
        end = m.end() if m.group(0)[0] != "\n" else m.start()
        _add(spans, text, start, end)
        start = m.end()
    _add(spans, text, start, len(text))
    return spans


def _add(spans: list[tuple[int, int]], text: str, s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


_CLAUSE = re.compile(r"[,;:–—]\s")


def _window(
    text: str, s: int, e: int, weight: Callable[[int, int], float], budget: int
) -> tuple[int, int]:
    """A window of at most ``budget`` chars inside a long sentence, around its matched words,
    starting at the sentence start or after a clause break (comma, semicolon, dash)."""
    starts = [s] + [s + m.end() for m in _CLAUSE.finditer(text, s, e)]
    ends = [s + m.start() + 1 for m in _CLAUSE.finditer(text, s, e)] + [e]
    best = (s, min(e, s + budget))
    best_w = -1.0
    for a in starts:
        fitting = [b for b in ends if a < b <= a + budget]
        if not fitting:
            continue
        b = max(fitting)
        w = weight(a, b)
        if w > best_w:
            best, best_w = (a, b), w
    if best_w < 0:  # no clause fits: cut at word bounds
        words = [m.span() for m in re.finditer(r"\S+", text[s:e])]
        for i, (ws, _) in enumerate(words):
            j = i
            while j + 1 < len(words) and words[j + 1][1] - ws <= budget:
                j += 1
            a, b = s + ws, s + words[j][1]
            w = weight(a, b)
            if w > best_w:
                best, best_w = (a, b), w
    return best


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A verbatim quote of a passage: whole sentences in document order, ``…`` where text is
    skipped. ``pieces`` are the quoted (start, end) spans of the passage; ``highlights`` (the
    matched words) and ``answers`` (the span of the asked kind) are spans of ``text``."""

    text: str
    pieces: tuple[tuple[int, int], ...]
    matched: frozenset[str]
    highlights: tuple[tuple[int, int], ...] = ()
    answers: tuple[tuple[int, int], ...] = ()


def make_excerpt(
    text: str,
    query_terms: dict[str, float],
    answer_kind: str | None = None,
    budget: int = MAX_CHARS,
    highlight: bool = True,
    question_terms: Collection[str] = (),
    answers_of: Callable[[str, str | None, Collection[str]], list[tuple[int, int]]] = answer_spans,
) -> Excerpt:
    """The best sentences of ``text`` for the question (see the module docstring).
    ``answers_of``: :func:`answers.answer_spans`, or a caller's memo of it."""
    whole = text.strip()
    if whole and len(whole) <= budget and "\n" not in whole:
        # a one-line passage that fits is quoted whole, and answers as a whole
        a = len(text) - len(text.lstrip())
        answers = answers_of(whole, answer_kind, question_terms) if answer_kind else []
        if not highlight:
            return Excerpt(whole, ((a, a + len(whole)),), frozenset(), (), tuple(answers))
        toks = [(t, s - a, e - a) for t, s, e in matches(text, query_terms)]
        return Excerpt(
            whole,
            ((a, a + len(whole)),),
            frozenset(t for t, _, _ in toks),
            tuple(_merge_spans((s, e) for _, s, e in toks)),
            tuple(answers),
        )
    toks = matches(text, query_terms)
    spans = sentence_spans(text)
    if not spans:
        return Excerpt("", (), frozenset())
    unit_terms: list[set[str]] = [set() for _ in spans]
    starts = [a for a, _ in spans]
    for t, s, e in toks:
        u = bisect_right(starts, s) - 1
        if u >= 0 and e <= spans[u][1]:
            unit_terms[u].add(t)
    unit_answers = [
        answers_of(text[a:b], answer_kind, question_terms) if answer_kind else [] for a, b in spans
    ]
    if unit_answers[0] and len(spans) > 1 and "\n" in text[spans[0][1] : spans[1][0]]:
        # a dateline (or another short lead line) stands for the whole passage below it
        unit_terms[0] |= set().union(*unit_terms[1:])
    chosen = _choose(text, spans, unit_terms, unit_answers, query_terms, budget)
    pieces = [spans[i] for i in chosen]

    def weight(a: int, b: int) -> float:
        return sum(query_terms[t] for t, s, e in toks if s >= a and e <= b)

    if len(pieces) == 1 and pieces[0][1] - pieces[0][0] > budget:
        pieces = [_window(text, *pieces[0], weight, budget - 2 * len(SEP))]
    # merge pieces that are adjacent sentences of the same line
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        if merged and text[merged[-1][1] : a].strip() == "" and "\n" not in text[merged[-1][1] : a]:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    out: list[str] = []
    marks: list[tuple[int, int]] = []
    answers: list[tuple[int, int]] = []
    matched: set[str] = set()
    pos = 0
    if merged[0][0] > spans[0][0]:
        out.append(ELLIPSIS + " ")
        pos = len(out[0])
    for k, (a, b) in enumerate(merged):
        if k:
            gap = text[merged[k - 1][1] : a]
            sep = "\n" if gap.strip() == "" else SEP
            out.append(sep)
            pos += len(sep)
        out.append(text[a:b])
        inside = [(t, s, e) for t, s, e in toks if s >= a and e <= b]
        matched.update(t for t, _, _ in inside)
        if highlight:
            marks.extend((s - a + pos, e - a + pos) for _, s, e in inside)
        for u, (ua, ub) in enumerate(spans):
            if ua >= b or ub <= a or not unit_terms[u]:
                continue  # only sentences that hold the question's words point at an answer
            for s, e in unit_answers[u]:
                s, e = s + ua, e + ua
                if s >= a and e <= b:
                    answers.append((s - a + pos, e - a + pos))
        pos += b - a
    if merged[-1][1] < spans[-1][1]:
        out.append(" " + ELLIPSIS)
    return Excerpt(
        "".join(out),
        tuple(merged),
        frozenset(matched),
        tuple(_merge_spans(marks)),
        tuple(_merge_spans(answers)),
    )


def _choose(
    text: str,
    spans: list[tuple[int, int]],
    unit_terms: list[set[str]],
    unit_answers: list[list[tuple[int, int]]],
    query_terms: dict[str, float],
    budget: int,
) -> list[int]:
    """Greedy choice of sentences: the best one, then those that add question words."""
    top_weight = max(query_terms.values(), default=1.0)
    chosen: list[int] = []

    def gain(i: int, have: set[str]) -> float:
        # (fsum: exact, so the same in every process whatever order a set's terms come in)
        g = fsum(query_terms[t] for t in unit_terms[i] - have)
        # repeated matches still add a little: leftover room goes to related sentences
        g += REPEAT_GAIN * fsum(query_terms[t] for t in unit_terms[i] & have)
        if unit_answers[i] and unit_terms[i] and not any(unit_answers[j] for j in chosen):
            g += top_weight  # the sentence that holds the kind of answer asked for
        return g

    first = max(range(len(spans)), key=lambda i: (gain(i, set()), -i))
    chosen.append(first)
    have = set(unit_terms[first])
    used = spans[first][1] - spans[first][0]
    while True:
        best_i, best_g = -1, 0.0
        for i, (a, b) in enumerate(spans):
            if i in chosen or used + (b - a) + len(SEP) > budget:
                continue
            g = gain(i, have)
            if g > best_g:
                best_i, best_g = i, g
        if best_i < 0:
            break
        chosen.append(best_i)
        have |= unit_terms[best_i]
        used += spans[best_i][1] - spans[best_i][0] + len(SEP)
    # "These agreements…", "It…": a sentence that points back needs the one before it, whole
    head = min(chosen)
    if head > 0 and head - 1 not in chosen and _ANAPHORA.match(text, spans[head][0]):
        a, b = spans[head - 1]
        if used + (b - a) + len(SEP) <= budget:
            chosen.append(head - 1)
    return sorted(chosen)


def _merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
