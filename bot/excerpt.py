"""Verbatim excerpts: the best sentences of a passage, cut at sentence bounds.

Like a search highlighter: sentences are scored by the question terms they hold, the best one is
taken, then others that add question terms while the excerpt stays within the budget; they are
shown in document order with ``…`` where text is skipped. Every piece is a substring of the
passage, which is itself exactly the cited lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable

from .analysis import matches
from .corpus import DATE_RE

ELLIPSIS = "…"
SEP = f" {ELLIPSIS} "
MAX_CHARS = 400
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
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")
_DIGIT = re.compile(r"\d")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text``, trimmed of surrounding space."""
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


def _window(
    text: str, s: int, e: int, weight: Callable[[int, int], float], budget: int
) -> tuple[int, int]:
    """A window of at most ``budget`` chars inside a long sentence, around its matched words."""
    words = [m.span() for m in re.finditer(r"\S+", text[s:e])]
    best = (s, min(e, s + budget))
    best_w = -1.0
    for i, (ws, _) in enumerate(words):
        j = i
        while j + 1 < len(words) and words[j + 1][1] - ws <= budget:
            j += 1
        a, b = s + ws, s + words[j][1]
        w = weight(a, b)
        if w > best_w:
            best, best_w = (a, b), w
    return best


def make_excerpt(
    text: str,
    query_terms: dict[str, float],
    want_date: bool = False,
    budget: int = MAX_CHARS,
    highlight: bool = True,
) -> tuple[str, list[tuple[int, int]], set[str], list[tuple[int, int]]]:
    """(excerpt, [(start, end) of each piece in ``text``], matched terms, highlight spans in
    the excerpt)."""
    whole = text.strip()
    if whole and len(whole) <= budget and "\n" not in whole:
        # a one-line passage that fits: all of its sentences are the excerpt
        a = len(text) - len(text.lstrip())
        b = a + len(whole)
        if not highlight:
            return whole, [(a, b)], set(), []
        toks = matches(text, query_terms)
        marks = _merge_spans((s - a, e - a) for _, s, e in toks if s >= a and e <= b)
        return whole, [(a, b)], {t for t, _, _ in toks}, marks
    toks = matches(text, query_terms)
    spans = sentence_spans(text)
    if not spans:
        return "", [], set(), []

    def terms_in(a: int, b: int) -> set[str]:
        return {t for t, s, e in toks if s >= a and e <= b}

    def weight(a: int, b: int) -> float:
        return sum(query_terms[t] for t in terms_in(a, b))

    unit_terms: list[set[str]] = [set() for _ in spans]
    starts = [a for a, _ in spans]
    for t, s, e in toks:
        u = bisect_right(starts, s) - 1
        if u >= 0 and e <= spans[u][1]:
            unit_terms[u].add(t)
    unit_date = (
        [
            bool(_DIGIT.search(text, a, b))
            and bool(_YEAR.search(text, a, b) or DATE_RE.search(text, a, b))
            for a, b in spans
        ]
        if want_date
        else [False] * len(spans)
    )

    def gain(i: int, have: set[str]) -> float:
        g = sum(query_terms[t] for t in unit_terms[i] - have)
        # repeated matches still add a little: leftover room goes to related sentences
        g += REPEAT_GAIN * sum(query_terms[t] for t in unit_terms[i] & have)
        if want_date and unit_date[i] and not any(unit_date[j] for j in chosen):
            g += max(query_terms.values(), default=1.0)
        return g

    chosen: list[int] = []
    have: set[str] = set()
    # best single sentence (earliest on ties)
    first = max(range(len(spans)), key=lambda i: (gain(i, set()), -i))
    chosen.append(first)
    have |= unit_terms[first]
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
    # "These agreements…", "It…": a sentence that points back needs the one before it
    head = min(chosen)
    window_first = False
    if head > 0 and head - 1 not in chosen and _ANAPHORA.match(text, spans[head][0]):
        left = budget - used - len(SEP)
        a, b = spans[head - 1]
        if b - a <= left:
            chosen.append(head - 1)
            used += b - a + len(SEP)
        elif left >= 80:
            chosen.append(head - 1)
            window_first = True
    chosen.sort()
    pieces = [spans[i] for i in chosen]
    if window_first:
        left = budget - sum(b - a + len(SEP) for a, b in pieces[1:]) - len(SEP)
        pieces[0] = _window(text, *pieces[0], weight, left)
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
    pos = 0
    lead = merged[0][0] > spans[0][0]
    if lead:
        out.append(ELLIPSIS + " ")
        pos = len(out[0])
    for k, (a, b) in enumerate(merged):
        if k:
            gap = text[merged[k - 1][1] : a]
            sep = "\n" if gap.strip() == "" else SEP
            out.append(sep)
            pos += len(sep)
        out.append(text[a:b])
        marks.extend((s - a + pos, e - a + pos) for _, s, e in toks if s >= a and e <= b)
        pos += b - a
    if merged[-1][1] < spans[-1][1]:
        out.append(" " + ELLIPSIS)
    return "".join(out), merged, have, _merge_spans(marks)


def _merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
