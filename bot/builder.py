"""Building an index from article files, in chunks, on every core.

A chunk of files is parsed and analysed on its own (in a worker process for large corpora) with
a local vocabulary; chunks are then merged in corpus order. Handing out global term ids chunk by
chunk, each chunk's words in their local first-appearance order, gives exactly the ids a single
pass would: the order rank-bm25's dictionaries have, on which its idf average depends. So the
parallel build's scores are bit-identical to the sequential ones.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .analysis import TermIds, analyze_word, terms
from .corpus import Article, CorpusError, CorpusProblem, list_article_files, load_article
from .index import BM25Index
from .spelling import SpellIndex, spellable
from .store import ArticleMeta, PassageStore, find_acronyms

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
    text_lens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    blob: bytes = b""  # the passages' UTF-8 texts, one after another
    acronyms: list[tuple[str, list[str]]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # surface words (spelling vocabulary)
    problems: list[CorpusProblem] = field(default_factory=list)
    vocab: list[str] = field(default_factory=list)  # local term ids -> terms
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    lens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def chunk_of_articles(
    articles: Iterable[Article], problems: list[CorpusProblem] | None = None
) -> Chunk:
    ch = Chunk(problems=list(problems or []))
    tids = TermIds()
    ids: list[int] = []
    lens: list[int] = []
    texts: list[bytes] = []
    file_idx: list[int] = []
    lines: list[tuple[int, int]] = []
    for art in articles:
        ch.files.append(art.file)
        ch.metas.append(ArticleMeta(art.file, art.title, art.date, len(art.passages)))
        for p in art.passages:
            texts.append(p.text.encode("utf-8", "surrogatepass"))
            file_idx.append(len(ch.files) - 1)
            lines.append((p.line_start, p.line_end))
            pid = tids.ids(p.text)
            ids.extend(pid)
            lens.append(len(pid))
            if "(" in p.text:
                for sf, lf in find_acronyms(p.text):
                    sf_terms = analyze_word(sf)
                    lf_terms = terms(lf)
                    if len(sf_terms) == 1 and lf_terms:
                        ch.acronyms.append((sf_terms[0], lf_terms))
    ch.blob = b"".join(texts)
    ch.text_lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ch.file_idx = np.asarray(file_idx, dtype=np.int32)
    ch.lines = np.asarray(lines, dtype=np.int32).reshape(-1, 2)
    ch.vocab = sorted(tids.vocab, key=tids.vocab.__getitem__)
    ch.ids = np.asarray(ids, dtype=np.int32)
    ch.lens = np.asarray(lens, dtype=np.int32)
    # the words a misspelt question word may be read as
    ch.words = [w for w in tids.surfaces if spellable(w)]
    return ch


def chunk_of_files(paths: list[str], folder: str, max_bytes: int) -> Chunk:
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    for path in paths:
        got = load_article(Path(path), Path(folder), max_bytes)
        if isinstance(got, CorpusProblem):
            problems.append(got)
        else:
            articles.append(got)
    return chunk_of_articles(articles, problems)


Built = tuple[BM25Index | None, PassageStore | None, list[CorpusProblem]]


def assemble(chunks: Iterable[Chunk], progress: Callable[[int], None] | None = None) -> Built:
    """Merge chunks, in corpus order, into one index and one passage store (``None`` for both
    when no article is usable)."""
    vocab: dict[str, int] = {}
    ids_parts: list[np.ndarray] = []
    lens_parts: list[np.ndarray] = []
    files: list[str] = []
    metas: dict[str, ArticleMeta] = {}
    file_idx_parts: list[np.ndarray] = []
    lines_parts: list[np.ndarray] = []
    lens_of_texts: list[np.ndarray] = []
    blobs: list[bytes] = []
    acronyms: dict[str, list[list[str]]] = {}
    words: set[str] = set()
    problems: list[CorpusProblem] = []
    for ch in chunks:
        remap = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for t in ch.vocab), dtype=np.int32, count=len(ch.vocab)
        )
        if ch.ids.size:
            ids_parts.append(remap[ch.ids])
        lens_parts.append(ch.lens)
        file_idx_parts.append(ch.file_idx + len(files))
        files.extend(ch.files)
        for m in ch.metas:
            metas[m.file] = m
        lines_parts.append(ch.lines)
        lens_of_texts.append(ch.text_lens)
        blobs.append(ch.blob)
        for sf, lf in ch.acronyms:
            exps = acronyms.setdefault(sf, [])
            if lf not in exps:
                exps.append(lf)
        words.update(ch.words)
        problems.extend(ch.problems)
        if progress is not None:
            progress(len(ch.lens))
    if not files:
        return None, None, problems
    term_ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int32)
    doc_len = np.concatenate(lens_parts).astype(np.int32)
    index = BM25Index._from_arrays(vocab, term_ids, doc_len)
    text_lens = np.concatenate(lens_of_texts)
    offsets = np.zeros(text_lens.size + 1, dtype=np.int64)
    np.cumsum(text_lens, out=offsets[1:])
    store = PassageStore(
        files,
        np.concatenate(file_idx_parts).astype(np.int32),
        np.concatenate(lines_parts).astype(np.int32).reshape(-1, 2),
        offsets,
        b"".join(blobs),
        metas,
        acronyms,
        _spell_index(words, index),
    )
    return index, store, problems


def _spell_index(words: Iterable[str], index: BM25Index) -> SpellIndex:
    """Spelling vocabulary: corpus words, ranked by how many passages use their term."""
    counts: list[tuple[str, int]] = []
    for w in words:
        ts = analyze_word(w)
        tid = index.vocab.get(ts[0]) if len(ts) == 1 else None
        if tid is not None:
            counts.append((w, index.df(tid)))
    return SpellIndex.build(counts)


def build_from_folder(
    folder: Path, max_bytes: int, progress: Callable[[int], None] | None = None
) -> tuple[BM25Index, PassageStore, list[CorpusProblem]]:
    """Index every article file of ``folder``; large corpora use all cores."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    paths = [str(p) for p in list_article_files(folder)]
    groups = [paths[i : i + FILES_PER_CHUNK] for i in range(0, len(paths), FILES_PER_CHUNK)]
    workers = min(os.cpu_count() or 1, len(groups))
    n = len(groups)
    if len(paths) <= PARALLEL_OVER_FILES or workers < 2:
        index, store, problems = assemble(
            (chunk_of_files(g, str(folder), max_bytes) for g in groups), progress
        )
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunks = pool.map(chunk_of_files, groups, [str(folder)] * n, [max_bytes] * n)
            index, store, problems = assemble(chunks, progress)
    for p in problems:
        log.warning("skipping corpus file %s: %s", p.file, p.reason)
    if index is None or store is None:
        detail = f" ({len(problems)} unusable file(s))" if problems else ""
        raise CorpusError(f"no usable article in corpus folder {folder}{detail}")
    return index, store, problems
