"""Passages and what the corpus itself teaches the analyser: its vocabulary.

- The corpus's words are the vocabulary for spelling correction (``spelling.py``): a question
  word the index does not know may be read as the closest of them (``Jaishankr``).
"""

from __future__ import annotations

import json
import mmap
import os
import re
import shutil
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .corpus import Passage
from .documents import Locator
from .spelling import Lines, SpellIndex

try:  # compiled helpers of the question path (bot/_native_query.c); optional, same results
    from . import _native_query
except ImportError:  # pragma: no cover - built by `pip install -e .` where a compiler is
    _native_query = None

_POINTS_BACK = re.compile(r"\W{0,3}(?:He|She|They|His|Her|Their|It|Its)\b")


def points_back(text: str) -> bool:
    """Whether a passage starts with a personal pronoun ("He said …"): it is then about whom
    the passage before it names."""
    head = text[:16].encode("utf-8", "surrogatepass")[:16]  # its first 16 bytes
    return bool(_POINTS_BACK.match(head.decode("utf-8", "ignore")))


RECENT_TEXTS = 64


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    """An article's file, title, date and number of passages; its source URL, format, and
    the pages or sections of its extracted text: ``locators`` (first line, kind, label)."""

    file: str
    title: str | None
    date: str | None
    passages: int
    source: str | None = None
    format: str = "txt"
    locators: tuple[tuple[int, str, str], ...] = ()

    def locator(self, line: int) -> Locator | None:
        """The page or section line ``line`` of the (extracted) text stands in, if known."""
        if not self.locators:
            return None
        k = bisect_right([a for a, _, _ in self.locators], line) - 1
        return Locator(self.locators[k][1], self.locators[k][2]) if k >= 0 else None

    def row(self) -> list:
        """The row ``articles.jsonl`` keeps (the first four fields alone for a plain article
        without a source, as before)."""
        if self.source is None and self.format == "txt" and not self.locators:
            return [self.file, self.title, self.date, self.passages]
        return [self.file, self.title, self.date, self.passages, self.source, self.format,
                [list(x) for x in self.locators]]  # fmt: skip

    @classmethod
    def from_row(cls, row: Sequence) -> ArticleMeta:
        if len(row) == 4:
            return cls(*row)
        file, title, date, passages, source, fmt, locators = row
        return cls(file, title, date, passages, source, fmt,
                   tuple((int(a), str(k), str(lb)) for a, k, lb in locators))  # fmt: skip


class TextFile:
    """The passage texts of a saved index, read a slice at a time with ``pread`` (no shared
    file position: safe from several threads). Unlike pages of a memory map, texts read this
    way do not stay in the process's resident memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed with the store
        self._size = os.fstat(self._file.fileno()).st_size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, span: slice) -> bytes:
        return os.pread(self._file.fileno(), span.stop - span.start, span.start)


class ArticleRows(Sequence[list]):
    """(file, title, date, passages) of each article, one JSON row a line, parsed when asked
    for; a row that does not parse reads as unknown (its hits then fail verification)."""

    UNKNOWN = (None, None, None, 0)

    def __init__(self, data: bytes) -> None:
        self._lines = Lines(data)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, k: int) -> list:  # type: ignore[override]
        try:
            row = json.loads(self._lines[k])
        except ValueError:
            return list(self.UNKNOWN)
        ok = isinstance(row, list) and len(row) in (4, 7) and isinstance(row[0], str)
        if ok and len(row) == 7:
            ok = isinstance(row[6], list) and all(
                isinstance(x, list) and len(x) == 3 and isinstance(x[0], int) for x in row[6]
            )
        return row if ok else list(self.UNKNOWN)


class PassageStore:
    """Passages by number (texts in one UTF-8 blob, spans in arrays), article metadata and the
    spelling vocabulary. Saved next to the index; on load the arrays are memory-mapped and
    passage texts stay on disk until an excerpt needs one (:class:`TextFile`)."""

    ARRAYS = ("file_idx", "lines", "points_back", "text_off")

    def __init__(
        self,
        files: list[str],
        file_idx: np.ndarray,
        lines: np.ndarray,
        points_back: np.ndarray,
        text_off: np.ndarray,
        blob: bytes | mmap.mmap | TextFile,
        articles: Sequence[list],
        spell: SpellIndex,
    ) -> None:
        self._files = files
        self._file_idx = file_idx
        self._lines = lines
        self._points_back = points_back
        # the first passage of each file (passages are stored article by article)
        self._file_start = np.searchsorted(file_idx, np.arange(len(files)), "left")
        self._text_off = text_off
        self._blob = blob
        # the latest texts read: a question reads a candidate's text to look for the kind of
        # answer it asks for, then again for the excerpt
        self._recent_text = lru_cache(maxsize=RECENT_TEXTS)(self._read_text)
        # (file, title, date, passages) of each file, in file order; ArticleMeta objects are
        # made when asked for (a loaded index of 100k articles builds none at start)
        self._article_rows = articles
        self._articles: dict[str, ArticleMeta] | None = None
        self.spell = spell

    # -- persistence ---------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        for name in self.ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, f"_{name}"), allow_pickle=False)
        if isinstance(self._blob, TextFile):
            shutil.copyfile(self._blob.path, folder / "texts.bin")
        else:  # a mapped blob is written, not copied
            (folder / "texts.bin").write_bytes(self._blob)
        meta = {"files": self._files}
        self.spell.save(folder)
        (folder / "store.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        # one JSON row a line, read one at a time when a hit needs its article's title
        rows = "\n".join(json.dumps(r, ensure_ascii=False) for r in self._article_rows)
        (folder / "articles.jsonl").write_text(rows, "utf-8")

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
        blob: bytes | TextFile = TextFile(folder / "texts.bin") if size else b""
        articles = ArticleRows((folder / "articles.jsonl").read_bytes())
        if len(articles) != len(meta["files"]):
            raise ValueError("article metadata does not match the file list")
        return cls(
            meta["files"],
            np.array(arrays["file_idx"]),
            np.array(arrays["lines"]),
            np.array(arrays["points_back"]),
            np.array(off),
            blob,
            articles,
            SpellIndex.load(folder),
        )

    def check(self) -> None:
        """Spans, file numbers and text offsets agree (ValueError if not): a loaded store must
        not raise on a question later."""
        n = len(self)
        off, lines, fidx = self._text_off, self._lines, self._file_idx
        if off.shape != (n + 1,) or lines.shape != (n, 2) or self._points_back.shape != (n,):
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
        return self._recent_text(int(i))

    def _read_text(self, i: int) -> str:
        a, b = int(self._text_off[i]), int(self._text_off[i + 1])
        return self._blob[a:b].decode("utf-8", "surrogatepass")

    def antecedents(self, docs: np.ndarray) -> np.ndarray:
        """For each passage, the one before it when it opens with a personal pronoun ("He
        said …") and that one is of the same article (it names whom the pronoun means); else
        the passage itself."""
        return self._related(docs)[1]

    def leads(self, docs: np.ndarray) -> np.ndarray:
        """The first passage of each passage's article (passages are stored article by
        article, so the first passage of each file is known)."""
        return self._related(docs)[0]

    def with_related(self, docs: np.ndarray) -> np.ndarray:
        """``docs``, then their :meth:`leads`, then their :meth:`antecedents` (one array)."""
        if (
            _native_query is not None
            and docs.dtype == np.int32
            and self._file_idx.dtype == np.int32
            and self._points_back.dtype == np.bool_
            and self._file_start.dtype == np.int64
        ):  # the same, compiled (bot/_native_query.c)
            out = np.empty(3 * docs.shape[0], dtype=np.int32)
            _native_query.with_related(
                self._file_idx, self._points_back, self._file_start, docs, out
            )
            return out
        lead, ante = self._related(docs)
        return np.concatenate((docs, lead, ante))

    def _related(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The leads and antecedents of ``docs``, worked out for them alone (a question asks
        about 30 passages; working them out for every passage up front cost a first answer
        20 ms at a million)."""
        docs = np.asarray(docs)
        fidx = self._file_idx[docs]
        before = np.maximum(docs - 1, 0)
        back = self._points_back[docs] & (docs > 0) & (self._file_idx[before] == fidx)
        lead = self._file_start[fidx].astype(docs.dtype, copy=False)
        return lead, np.where(back, before, docs).astype(docs.dtype, copy=False)

    def same_article(self, i: int, j: int) -> bool:
        return 0 <= j < len(self) and int(self._file_idx[i]) == int(self._file_idx[j])

    def passage_at(self, file: str, line: int) -> int | None:
        """The passage of ``file`` whose lines hold ``line``, or None (a quote's place, found
        again: "more on that" continues after it)."""
        try:
            k = self._files.index(file)
        except ValueError:
            return None
        first = int(self._file_start[k])
        end = int(self._file_start[k + 1]) if k + 1 < len(self._files) else len(self)
        starts = self._lines[first:end, 0]
        i = first + int(np.searchsorted(starts, line, "right")) - 1
        if first <= i < end and int(self._lines[i, 0]) <= line <= int(self._lines[i, 1]):
            return i
        return None

    def passage(self, i: int) -> Passage:
        ls, le = self._lines[i].tolist()
        return Passage(self._files[int(self._file_idx[i])], ls, le, self.text(i))

    def passages(self) -> list[Passage]:
        return [self.passage(i) for i in range(len(self))]

    def article_of(self, doc: int) -> ArticleMeta:
        """The title and date of passage ``doc``'s article."""
        k = int(self._file_idx[doc])
        file = self._files[k]
        rows = self._article_rows
        if k < len(rows):
            row = rows[k]
            if row[0] == file:  # stored in file order
                return ArticleMeta.from_row(row)
        return self.article_meta(file)

    def article_meta(self, file: str) -> ArticleMeta:
        return self._by_file().get(file) or ArticleMeta(file, None, None, 0)

    def articles(self) -> list[ArticleMeta]:
        return list(self._by_file().values())

    def _by_file(self) -> dict[str, ArticleMeta]:
        if self._articles is None:
            rows = (r for r in self._article_rows if r[0] is not None)
            self._articles = {r[0]: ArticleMeta.from_row(r) for r in rows}
        return self._articles
