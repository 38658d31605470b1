"""Passages and what the corpus itself teaches the analyser: acronyms and names.

- Acronyms the articles define (``Basic Exchange and Cooperation Agreement (BECA)``) are found with
  the Schwartz–Hearst algorithm, so a question with either form finds the other.
- Names (capitalised words of the articles) are the vocabulary for typo tolerance: a question word
  the index does not know may be read as a name within one or two edits (``Jaishankr``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .analysis import analyze_word, terms
from .corpus import Article, Passage
from .lexicon import zipf

NAME_MAX_ZIPF = 4.0  # words at least this common in English are not treated as names
_PAREN = re.compile(r"\(([^()\s]{2,10})\)")
_NAME = re.compile(r"\b[A-Z][a-z]{3,}\b")


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    file: str
    title: str | None
    date: str | None
    passages: int


def find_acronyms(text: str) -> Iterator[tuple[str, str]]:
    """(short form, long form) pairs defined as ``Long Form (SF)`` in ``text``."""
    for m in _PAREN.finditer(text):
        sf = m.group(1)
        if not (
            sf[0].isalnum() and sum(c.isupper() for c in sf) >= 2 and any(c.isalpha() for c in sf)
        ):
            continue
        before = text[: m.start()].rstrip()
        words = before.split()
        n = min(len(sf) + 5, 2 * len(sf))
        cand = " ".join(words[-n:])
        lf = _best_long_form(sf, cand)
        if lf and len(lf.split()) >= 2 and len(lf) > len(sf):
            yield sf, lf


def _best_long_form(sf: str, lf: str) -> str | None:
    """Schwartz & Hearst (2003): the shortest tail of ``lf`` that spells ``sf``."""
    s, i = len(sf) - 1, len(lf) - 1
    while s >= 0:
        c = sf[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (lf[i].lower() != c or (s == 0 and i > 0 and lf[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = lf.rfind(" ", 0, i + 1) + 1
    return lf[start:]


def _edit_distance(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        lo = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev[j - 2] + 1 if j >= 2 else cur[j])  # transposition
            lo = min(lo, cur[j])
        if lo > limit:
            return limit + 1
        prev = cur
    return prev[-1]


class PassageStore:
    """Passages by number, article metadata, acronyms and names."""

    def __init__(
        self,
        passages: list[Passage],
        articles: dict[str, ArticleMeta],
        acronyms: dict[str, list[list[str]]],
        names: dict[str, str],
    ) -> None:
        self._passages = passages
        self._articles = articles
        self._acronyms = acronyms
        self._names = names
        self._names_by_len: dict[int, list[str]] = {}
        for name in names:
            self._names_by_len.setdefault(len(name), []).append(name)

    @classmethod
    def from_articles(cls, articles: Iterable[Article]) -> PassageStore:
        passages: list[Passage] = []
        metas: dict[str, ArticleMeta] = {}
        acronyms: dict[str, list[list[str]]] = {}
        name_counts: Counter[str] = Counter()
        for art in articles:
            metas[art.file] = ArticleMeta(art.file, art.title, art.date, len(art.passages))
            for p in art.passages:
                passages.append(p)
                for sf, lf in find_acronyms(p.text):
                    sf_terms = analyze_word(sf)
                    lf_terms = terms(lf)
                    if len(sf_terms) != 1 or not lf_terms:
                        continue
                    exps = acronyms.setdefault(sf_terms[0], [])
                    if lf_terms not in exps:
                        exps.append(lf_terms)
                name_counts.update(m.group(0).lower() for m in _NAME.finditer(p.text))
        names: dict[str, str] = {}
        for name in name_counts:
            t = analyze_word(name)
            # names, not capitalised common words ("Prime", "Deputy")
            if len(t) == 1 and zipf(name) < NAME_MAX_ZIPF:
                names[name] = t[0]
        return cls(passages, metas, acronyms, names)

    def __len__(self) -> int:
        return len(self._passages)

    def passage(self, i: int) -> Passage:
        return self._passages[i]

    def passages(self) -> list[Passage]:
        return self._passages

    def article_meta(self, file: str) -> ArticleMeta:
        return self._articles.get(file) or ArticleMeta(file, None, None, 0)

    def articles(self) -> list[ArticleMeta]:
        return list(self._articles.values())

    def expansions(self, term: str) -> list[list[str]]:
        return self._acronyms.get(term, [])

    def acronyms_items(self) -> Iterable[tuple[str, list[str]]]:
        for sf, exps in self._acronyms.items():
            for lf in exps:
                yield sf, lf

    def fuzzy_name(self, surface: str) -> str | None:
        """The index term of the article name closest to ``surface`` (1-2 edits), if any."""
        w = surface.lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if len(w) < 5 or not w.isalpha() or zipf(w) >= NAME_MAX_ZIPF:
            return None  # a real English word is not a typo
        limit = 1 if len(w) <= 6 else 2
        best: tuple[int, str] | None = None
        for n in range(len(w) - limit, len(w) + limit + 1):
            for name in self._names_by_len.get(n, ()):
                if name[0] != w[0] and name[1:2] != w[1:2]:
                    continue
                d = _edit_distance(w, name, limit)
                if d <= limit and (best is None or d < best[0]):
                    best = (d, name)
        return self._names[best[1]] if best else None
