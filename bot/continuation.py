"""More on that: the text that continues a quote, as hits.

A chat that asks "tell me more" after an answer gets what comes after its best quote in the
article: the rest of the quoted passage (the sentences after the excerpt), then the passages
that follow it, each from its start, in article order, as many sentences as fit in
:data:`excerpt.MAX_CHARS`. Passages already quoted are skipped. Every quote is a verbatim run of
sentences of its passage (``…`` where it starts inside one, or stops before its end), so the
front ends render and verify it as any other hit.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from .analysis import matches
from .corpus import reading_text
from .excerpt import ELLIPSIS, MAX_CHARS, SEP, sentence_spans
from .search import Hit, Searcher

TAIL_CHARS = 80  # the end of a quote kept to find where it stopped in its passage


@dataclass(frozen=True, slots=True)
class Quote:
    """Where a quote stood: its file and lines, and its last words (``tail``: where in its
    passage it stopped)."""

    file: str
    line_start: int
    line_end: int
    tail: str = ""

    @classmethod
    def of(cls, hit: Hit) -> Quote:
        text = hit.text
        if text.endswith(" " + ELLIPSIS):
            text = text[:-2]
        last = re.split(re.escape(SEP) + "|\n", text)[-1]  # the last verbatim piece
        return cls(hit.file, hit.line_start, hit.line_end, last[-TAIL_CHARS:])


def continuation(
    searcher: Searcher,
    after: Quote,
    skip: Collection[Quote] = (),
    words: str = "",
    top: int = 3,
    highlight: bool = True,
) -> list[Hit]:
    """Up to ``top`` hits that continue the quote ``after``: the rest of its passage, then the
    passages after it in its article. ``skip``: quotes already given (their passages are not
    given again); ``words``: the topic, for the bold (none is required)."""
    store = searcher.store
    doc = store.passage_at(after.file, after.line_start)
    if doc is None:
        return []
    terms = searcher.plan(words).highlight_terms if highlight and words else {}
    hits: list[Hit] = []
    p = store.passage(doc)
    text = reading_text(p.text)
    at = text.find(after.tail) if after.tail else -1
    if at >= 0:
        hit = _run(searcher, doc, text, at + len(after.tail), terms)
        if hit is not None:
            hits.append(hit)
    nxt = doc + 1
    while len(hits) < top and store.same_article(doc, nxt):
        p = store.passage(nxt)
        if not any(
            q.file == p.file and q.line_start <= p.line_end and q.line_end >= p.line_start
            for q in skip
        ):
            hit = _run(searcher, nxt, reading_text(p.text), 0, terms)
            if hit is not None:
                hits.append(hit)
        nxt += 1
    return hits[:top]


def _run(
    searcher: Searcher, doc: int, text: str, start: int, terms: dict[str, float]
) -> Hit | None:
    """The sentences of passage ``doc`` (``text``: as it reads) from offset ``start`` on, as
    many as fit in the excerpt budget (at least one, cut at the budget if it is longer)."""
    spans = [(a, b) for a, b in sentence_spans(text) if a >= start]
    if not spans:
        return None
    first, last = spans[0][0], spans[0][1]
    for _, b in spans[1:]:
        if b - first > MAX_CHARS:
            break
        last = b
    if last - first > MAX_CHARS:  # one long sentence: cut at a word bound
        cut = text.rfind(" ", first, first + MAX_CHARS)
        last = cut if cut > first else first + MAX_CHARS
    chosen = [(a, b) for a, b in spans if b <= last] or [(first, last)]
    chosen[-1] = (chosen[-1][0], last)
    # adjacent sentences as they stand; sentences of another line joined by one line break
    out = ELLIPSIS + " " if text[:first].strip() else ""
    marks: list[tuple[int, int]] = []
    held: set[str] = set()
    for k, (a, b) in enumerate(chosen):
        if k:
            gap = text[chosen[k - 1][1] : a]
            out += "\n" if "\n" in gap else gap
        for t, s, e in matches(text[a:b], terms) if terms else ():
            held.add(t)
            marks.append((len(out) + s, len(out) + e))
        out += text[a:b]
    if text[last:].strip():
        out += " " + ELLIPSIS
    p = searcher.store.passage(doc)
    art = searcher.store.article_of(doc)
    return Hit(
        file=p.file,
        line_start=p.line_start + p.text.count("\n", 0, first),
        line_end=p.line_start + p.text.count("\n", 0, last),
        score=0.0,
        text=out,
        title=art.title,
        date=art.date,
        matched_terms=tuple(sorted(held)),
        highlights=tuple(sorted(set(marks))),
    )
