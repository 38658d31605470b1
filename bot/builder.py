"""Building an index from article files, in chunks, on every core.

A chunk of files is parsed and analysed on its own (in a worker process for large corpora) with
a local vocabulary; chunks are then merged in corpus order. Handing out global term ids chunk by
chunk, each chunk's words in their local first-appearance order, gives exactly the ids a single
pass would: the order rank-bm25's dictionaries have, on which its idf average depends. So the
parallel build's scores are bit-identical to the sequential ones.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import mmap
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .analysis import TermIds
from .corpus import (
    Article,
    CorpusError,
    CorpusProblem,
    SharedLines,
    article_file_names,
    file_keys,
    load_article,
    read_sources,
    shared_lines,
)
from .extracted import ExtractedTexts
from .index import BM25Index
from .spelling import SpellIndex, spellable
from .store import ArticleMeta, PassageStore, points_back

log = logging.getLogger("bot.corpus")

FILES_PER_CHUNK = 400
PARALLEL_OVER_FILES = 2 * FILES_PER_CHUNK  # smaller corpora are built in-process


@dataclass
class Chunk:
    """Everything one chunk of files contributes to the index and the passage store."""

    files: list[str] = field(default_factory=list)
    metas: list[ArticleMeta] = field(default_factory=list)
    file_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # chunk-local
    lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    points_back: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per passage
    text_lens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    blob: bytes = b""  # the passages' UTF-8 texts, one after another
    # surface words of one term (the spelling vocabulary) and their terms' local ids
    words: list[str] = field(default_factory=list)
    word_terms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    problems: list[CorpusProblem] = field(default_factory=list)
    # local term ids -> ids of the TermIds named ``numbering``, which met the terms
    # ``new_terms`` (its ids from ``first_new`` on) first in this chunk
    term_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    numbering: str = ""
    new_terms: list[str] = field(default_factory=list)
    first_new: int = 0
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    lens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def chunk_of_articles(
    articles: Iterable[Article],
    problems: list[CorpusProblem] | None = None,
    tids: TermIds | None = None,
) -> Chunk:
    """One chunk; ``tids`` keeps analysed words from chunk to chunk (fresh when ``None``)."""
    ch = Chunk(problems=list(problems or []))
    tids = TermIds() if tids is None else tids
    passages: list[str] = []
    texts: list[bytes] = []
    file_idx: list[int] = []
    lines: list[tuple[int, int]] = []
    back: list[bool] = []
    for art in articles:
        ch.files.append(art.file)
        ch.metas.append(
            ArticleMeta(
                art.file,
                art.title,
                art.date,
                len(art.passages),
                art.source,
                art.format,
                tuple((line, loc.kind, loc.label) for line, loc in art.locators),
            )
        )
        for p in art.passages:
            passages.append(p.text)
            texts.append(p.text.encode("utf-8", "surrogatepass"))
            file_idx.append(len(ch.files) - 1)
            lines.append((p.line_start, p.line_end))
            back.append(points_back(p.text))
    ch.blob = b"".join(texts)
    ch.text_lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ch.file_idx = np.asarray(file_idx, dtype=np.int32)
    ch.lines = np.asarray(lines, dtype=np.int32).reshape(-1, 2)
    ch.points_back = np.asarray(back, dtype=bool)
    ch.numbering, ch.first_new = tids.name, len(tids.terms)
    ch.term_ids, ch.ids, ch.lens, one_term = tids.chunk(passages)
    ch.new_terms = tids.terms[ch.first_new :]
    # the words a misspelt question word may be read as: those that are one term (each sent
    # with the first chunk of this process that has it)
    spell = [(w, t) for w, t in one_term.items() if spellable(w)]
    ch.words = [w for w, _ in spell]
    ch.word_terms = np.fromiter((t for _, t in spell), dtype=np.int32, count=len(spell))
    return ch


def chunk_of_files(
    paths: list[str],
    folder: str,
    max_bytes: int,
    tids: TermIds | None = None,
    shared: SharedLines | None = None,
    extracted: str | None = None,
    sources: dict[str, str] | None = None,
) -> Chunk:
    """One chunk of article files; ``shared``: the corpus's ``corpus.shared_lines``;
    ``extracted``: the folder of extracted texts (``extracted.py``; None: not stored);
    ``sources``: the corpus's ``sources.csv``."""
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    texts = ExtractedTexts(Path(extracted) if extracted else None)
    for path in paths:
        got = load_article(Path(path), Path(folder), max_bytes, shared, texts, sources)
        if isinstance(got, CorpusProblem):
            problems.append(got)
        else:
            articles.append(got)
    return chunk_of_articles(articles, problems, tids)


_WORKER_TERM_IDS: list[TermIds] = []  # a worker process's, kept for all its chunks


def _worker_chunk_of_files(
    paths: list[str],
    folder: str,
    max_bytes: int,
    shared: SharedLines,
    extracted: str | None,
    sources: dict[str, str],
) -> Chunk:
    if not _WORKER_TERM_IDS:
        _WORKER_TERM_IDS.append(TermIds())
    with no_cyclic_gc():
        return chunk_of_files(
            paths, folder, max_bytes, _WORKER_TERM_IDS[0], shared, extracted, sources
        )


def _file_keys(paths: list[str], folder: str, max_bytes: int) -> list[tuple[str, set[str]]]:
    return file_keys(map(Path, paths), Path(folder), max_bytes)


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cycle collector off for a stretch of indexing (then back as it was).

    Indexing allocates millions of small containers and keeps a growing vocabulary alive, and
    each full collection walks all of it (measured in one process: the first 40k passages of
    the 1M benchmark corpus 4.3 -> 2.3 CPU-s, the first 200k 14.3 -> 12.8). Nothing built here
    forms a reference cycle; reference counting frees it all."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


Built = tuple[BM25Index | None, PassageStore | None, list[CorpusProblem]]


@dataclass
class Merged:
    """Chunks merged in corpus order, before the index is built. Passage texts are already in
    ``blob_file`` (an unnamed temporary file): the parent never holds the corpus's text."""

    blob_file: BinaryIO
    vocab: dict[str, int] = field(default_factory=dict)
    ids_parts: list[np.ndarray] = field(default_factory=list)
    lens_parts: list[np.ndarray] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    metas: dict[str, ArticleMeta] = field(default_factory=dict)
    file_idx_parts: list[np.ndarray] = field(default_factory=list)
    lines_parts: list[np.ndarray] = field(default_factory=list)
    points_back_parts: list[np.ndarray] = field(default_factory=list)
    lens_of_texts: list[np.ndarray] = field(default_factory=list)
    words: dict[str, int] = field(default_factory=dict)  # spelling vocabulary: word -> term id
    problems: list[CorpusProblem] = field(default_factory=list)
    # per TermIds (by name): its term ids -> ours (-1: not met yet)
    numberings: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, ch: Chunk) -> None:
        ours = self.numberings.get(ch.numbering, np.zeros(0, np.int32))
        grown = ch.first_new + len(ch.new_terms)
        if ours.shape[0] < grown:
            ours = np.concatenate((ours, np.full(grown - ours.shape[0], -1, np.int32)))
        self.numberings[ch.numbering] = ours
        remap = ours[ch.term_ids]
        # the terms first met in this chunk get ids in the chunk's order (rank-bm25's order);
        # every other term was in an earlier chunk of the same TermIds, merged before
        vocab = self.vocab
        unmet = np.flatnonzero(remap < 0)
        if unmet.size:
            fresh = ch.term_ids[unmet]
            if int(fresh.min()) < ch.first_new:
                raise ValueError("chunks merged out of order: a term of an earlier chunk unmet")
            # in chunk order (a term another process met first keeps the id it has)
            new_terms, setdefault = ch.new_terms, vocab.setdefault
            got = [setdefault(new_terms[i], len(vocab)) for i in (fresh - ch.first_new).tolist()]
            remap[unmet] = ours[fresh] = got
        if ch.ids.size:
            self.ids_parts.append(remap[ch.ids])
        self.lens_parts.append(ch.lens)
        self.file_idx_parts.append(ch.file_idx + len(self.files))
        self.files.extend(ch.files)
        for m in ch.metas:
            self.metas[m.file] = m
        self.lines_parts.append(ch.lines)
        self.points_back_parts.append(ch.points_back)
        self.lens_of_texts.append(ch.text_lens)
        self.blob_file.write(ch.blob)
        self.words.update(zip(ch.words, remap[ch.word_terms].tolist(), strict=True))
        self.problems.extend(ch.problems)


def merge(chunks: Iterable[Chunk], progress: Callable[[int], None] | None = None) -> Merged:
    """Merge chunks in corpus order (the caller then calls :func:`finish`)."""
    merged = Merged(tempfile.TemporaryFile())  # noqa: SIM115 - closed by finish()
    try:
        for ch in chunks:
            merged.add(ch)
            if progress is not None:
                progress(len(ch.lens))
    except BaseException:
        merged.blob_file.close()
        raise
    return merged


def finish(merged: Merged) -> Built:
    """The index and the passage store of merged chunks (``None`` for both when no article
    is usable)."""
    m = merged
    with m.blob_file:
        if not m.files:
            return None, None, m.problems
        doc_len = np.concatenate(m.lens_parts).astype(np.int32)
        index = BM25Index.from_arrays(m.vocab, m.ids_parts, doc_len)
        blob: bytes | mmap.mmap = b""
        m.blob_file.flush()
        if m.blob_file.tell():
            blob = mmap.mmap(m.blob_file.fileno(), 0, access=mmap.ACCESS_READ)
    # (the mapping keeps the closed, unnamed file's pages)
    text_lens = np.concatenate(m.lens_of_texts)
    offsets = np.zeros(text_lens.size + 1, dtype=np.int64)
    np.cumsum(text_lens, out=offsets[1:])
    store = PassageStore(
        m.files,
        np.concatenate(m.file_idx_parts).astype(np.int32),
        np.concatenate(m.lines_parts).astype(np.int32).reshape(-1, 2),
        np.concatenate(m.points_back_parts).astype(bool),
        offsets,
        blob,
        [a.row() for a in m.metas.values()],
        _spell_index(m.words, index),
    )
    return index, store, m.problems


def assemble(chunks: Iterable[Chunk], progress: Callable[[int], None] | None = None) -> Built:
    """Merge chunks, in corpus order, into one index and one passage store."""
    return finish(merge(chunks, progress))


def _spell_index(words: dict[str, int], index: BM25Index) -> SpellIndex:
    """Spelling vocabulary: corpus words (word -> its one term's id), ranked by how many
    passages use their term."""
    df = np.diff(index.post_ptr)
    tids = np.fromiter(words.values(), dtype=np.int64, count=len(words))
    return SpellIndex.build(zip(words, df[tids].tolist(), strict=True))


def build_from_folder(
    folder: Path,
    max_bytes: int,
    progress: Callable[[int], None] | None = None,
    extracted: Path | None = None,
) -> tuple[BM25Index, PassageStore, list[CorpusProblem]]:
    """Index every article file of ``folder``; large corpora use all cores. ``extracted``:
    where the extracted texts of files that are not plain text are kept (None: not kept)."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    base = str(folder)
    names = article_file_names(folder)
    paths = [os.path.join(base, n) for n in names]
    sources = read_sources(folder)
    ex = str(extracted) if extracted is not None else None
    groups = [paths[i : i + FILES_PER_CHUNK] for i in range(0, len(paths), FILES_PER_CHUNK)]
    workers = min(os.cpu_count() or 1, len(groups))
    n = len(groups)
    # short lines in several files are site furniture: found first, over the whole corpus
    if len(paths) <= PARALLEL_OVER_FILES or workers < 2:
        tids = TermIds()
        with no_cyclic_gc():
            shared = shared_lines(_file_keys(paths, base, max_bytes))
            index, store, problems = assemble(
                (chunk_of_files(g, base, max_bytes, tids, shared, ex, sources) for g in groups),
                progress,
            )
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool, no_cyclic_gc():
            keys = pool.map(_file_keys, groups, [base] * n, [max_bytes] * n)
            shared = shared_lines(itertools.chain.from_iterable(keys))
            chunks = pool.map(
                _worker_chunk_of_files,
                groups,
                [base] * n,
                [max_bytes] * n,
                [shared] * n,
                [ex] * n,
                [sources] * n,
            )
            merged = merge(chunks, progress)
        # the workers are gone before the index is built: their memory is not held meanwhile
        with no_cyclic_gc():
            index, store, problems = finish(merged)
    ExtractedTexts(extracted).prune(set(names))
    for p in problems:
        log.warning("skipping corpus file %s: %s", p.file, p.reason)
    if index is None or store is None:
        detail = f" ({len(problems)} unusable file(s))" if problems else ""
        raise CorpusError(f"no usable article in corpus folder {folder}{detail}")
    return index, store, problems
