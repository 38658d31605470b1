"""Passages and what the corpus itself teaches the analyser: acronyms and names.

- Acronyms the articles define (``Basic Exchange and Cooperation Agreement (BECA)``) are found with
  the Schwartz–Hearst algorithm, so a question with either form finds the other.
- Names (capitalised words of the articles) are the vocabulary for typo tolerance: a question word
  the index does not know may be read as a name within one or two edits (``Jaishankr``).
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import analyze_word
from .corpus import Article, Passage
from .lexicon import zipf

NAME_MAX_ZIPF = 4.0  # words at least this common in English are not treated as names
_PAREN = re.compile(r"\(([^()\s]{2,10})\)")


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


def names_of(surfaces: Iterable[str]) -> dict[str, str]:
    """Capitalised words that are names, not common words ("Hegseth", not "Prime")."""
    names: dict[str, str] = {}
    for w in surfaces:
        if len(w) >= 4 and w[0].isupper() and w[1:].islower() and w.isascii() and w.isalpha():
            low = w.lower()
            if low in names:
                continue
            t = analyze_word(w)
            if len(t) == 1 and zipf(low) < NAME_MAX_ZIPF:
                names[low] = t[0]
    return names


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
    """Passages by number (texts in one UTF-8 blob, spans in arrays), article metadata,
    acronyms and names. Saved next to the index and memory-mapped on load, so passage texts
    stay on disk until an excerpt needs one."""

    ARRAYS = ("file_idx", "lines", "text_off")

    def __init__(
        self,
        files: list[str],
        file_idx: np.ndarray,
        lines: np.ndarray,
        text_off: np.ndarray,
        blob: bytes | mmap.mmap,
        articles: dict[str, ArticleMeta],
        acronyms: dict[str, list[list[str]]],
        names: dict[str, str],
    ) -> None:
        self._files = files
        self._file_idx = file_idx
        self._lines = lines
        self._text_off = text_off
        self._blob = blob
        self._articles = articles
        self._acronyms = acronyms
        self._names = names
        self._names_by_len: dict[int, list[str]] = {}
        for name in names:
            self._names_by_len.setdefault(len(name), []).append(name)
        # long forms by their first term: a question is checked against the few that can match
        self._long_forms: dict[str, list[tuple[str, list[str]]]] = {}
        for sf, exps in acronyms.items():
            for lf in exps:
                self._long_forms.setdefault(lf[0], []).append((sf, lf))

    @classmethod
    def from_articles(cls, articles: Iterable[Article]) -> PassageStore:
        """The store for already parsed articles (the index build makes it the same way)."""
        from .builder import assemble, chunk_of_articles

        _, store, _ = assemble([chunk_of_articles(articles)])
        if store is None:
            raise ValueError("no passages")
        return store

    # -- persistence ---------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        for name in self.ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, f"_{name}"), allow_pickle=False)
        blob = self._blob if isinstance(self._blob, bytes) else bytes(self._blob)
        (folder / "texts.bin").write_bytes(blob)
        meta = {
            "files": self._files,
            "articles": [[a.file, a.title, a.date, a.passages] for a in self._articles.values()],
            "acronyms": self._acronyms,
            "names": self._names,
        }
        (folder / "store.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> PassageStore:
        meta = json.loads((folder / "store.json").read_text("utf-8"))
        arrays = {
            n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in cls.ARRAYS
        }
        size = (folder / "texts.bin").stat().st_size
        off = arrays["text_off"]
        if off.shape[0] != arrays["file_idx"].shape[0] + 1 or int(off[-1]) != size:
            raise ValueError("passage store is truncated")
        blob: bytes | mmap.mmap = b""
        if size:
            with open(folder / "texts.bin", "rb") as fh:
                blob = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        articles = {a[0]: ArticleMeta(a[0], a[1], a[2], a[3]) for a in meta["articles"]}
        return cls(
            meta["files"],
            np.array(arrays["file_idx"]),
            np.array(arrays["lines"]),
            np.array(off),
            blob,
            articles,
            meta["acronyms"],
            meta["names"],
        )

    def check(self) -> None:
        """Spans, file numbers and text offsets agree (ValueError if not): a loaded store must
        not raise on a question later."""
        n = len(self)
        off, lines, fidx = self._text_off, self._lines, self._file_idx
        if off.shape != (n + 1,) or lines.shape != (n, 2):
            raise ValueError("passage arrays disagree in size")
        if n and (int(off[0]) != 0 or np.any(np.diff(off) < 0) or int(off[-1]) > len(self._blob)):
            raise ValueError("passage text offsets out of order")
        if n and (int(fidx.min()) < 0 or int(fidx.max()) >= len(self._files)):
            raise ValueError("a passage names a file that does not exist")
        if n and (int(lines.min()) < 1 or np.any(lines[:, 0] > lines[:, 1])):
            raise ValueError("passage line spans are invalid")

    # -- access --------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._file_idx.shape[0])

    def text(self, i: int) -> str:
        a, b = int(self._text_off[i]), int(self._text_off[i + 1])
        return self._blob[a:b].decode("utf-8", "surrogatepass")

    def passage(self, i: int) -> Passage:
        ls, le = (int(x) for x in self._lines[i])
        return Passage(self._files[int(self._file_idx[i])], ls, le, self.text(i))

    def passages(self) -> list[Passage]:
        return [self.passage(i) for i in range(len(self))]

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

    def long_forms_starting(self, term: str) -> list[tuple[str, list[str]]]:
        """(acronym, long form) pairs whose long form starts with ``term``."""
        return self._long_forms.get(term, [])

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
