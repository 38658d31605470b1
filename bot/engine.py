"""Corpus folder -> ready :class:`Searcher` (the one place that wires corpus, index and store)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .analysis import terms
from .corpus import Corpus, CorpusProblem, load_corpus
from .index import BM25Index
from .search import Hit, Searcher
from .store import ArticleMeta, PassageStore

log = logging.getLogger(__name__)


@dataclass
class Engine:
    """A searchable corpus: what every front end holds."""

    searcher: Searcher
    corpus_dir: Path
    problems: list[CorpusProblem]
    build_seconds: float

    @property
    def n_articles(self) -> int:
        return len(self.searcher.store.articles())

    @property
    def n_passages(self) -> int:
        return len(self.searcher.store)

    def articles(self) -> list[ArticleMeta]:
        return self.searcher.store.articles()

    def search(self, question: str, top: int = 3) -> list[Hit]:
        return self.searcher.search(question, top=top)


def open_engine(
    corpus_dir: Path, settings: object = None, progress: bool = False, force_rebuild: bool = False
) -> Engine:
    """The engine for ``corpus_dir`` (index cache: see issue 4; builds in memory for now)."""
    max_bytes = getattr(settings, "max_file_bytes", 5 * 1024 * 1024)
    return build_engine(corpus_dir, max_file_bytes=max_bytes)


def build_engine(corpus_dir: Path, max_file_bytes: int = 5 * 1024 * 1024) -> Engine:
    """Read the corpus and index it. Raises CorpusError when nothing can be served."""
    t0 = time.perf_counter()
    corpus: Corpus = load_corpus(corpus_dir, max_bytes=max_file_bytes)
    store = PassageStore.from_articles(corpus.articles)
    index = BM25Index.build(terms(p.text) for p in store.passages())
    dt = time.perf_counter() - t0
    return Engine(Searcher(index, store), Path(corpus_dir), corpus.problems, dt)
