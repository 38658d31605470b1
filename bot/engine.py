"""Corpus folder -> ready :class:`Engine` (the one place that wires corpus, index and store).

The built index is saved under ``INDEX_DIR`` and reused while the corpus is unchanged (file
names, sizes and modification times, and the analysis code itself). A missing, stale, truncated
or corrupt cache is rebuilt with a log line. Writes are atomic: a new index is written to a
fresh folder and then published by replacing a one-line pointer file, so a crash mid-write
leaves the previous index in use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import (
    analysis,
    answers,
    builder,
    corpus,
    dates,
    excerpt,
    index,
    lexicon,
    query,
    search,
    spelling,
    store,
)
from .builder import build_from_folder
from .corpus import CorpusProblem, check_folder
from .index import BM25Index
from .search import Answer, Hit, Searcher
from .store import ArticleMeta, PassageStore

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


@dataclass
class Engine:
    """A searchable corpus: what every front end holds."""

    searcher: Searcher
    corpus_dir: Path
    problems: list[CorpusProblem]
    build_seconds: float
    signature: str = ""
    from_cache: bool = False
    loaded_at: float = field(default_factory=time.time)

    @property
    def n_articles(self) -> int:
        return len(self.searcher.store.articles())

    @property
    def n_passages(self) -> int:
        return len(self.searcher.store)

    def articles(self) -> list[ArticleMeta]:
        return self.searcher.store.articles()

    def search(
        self,
        question: str,
        top: int = 3,
        highlight: bool = True,
        context: Sequence[str] = (),
    ) -> list[Hit]:
        """Confident hits only."""
        return self.searcher.search(question, top=top, highlight=highlight, context=context)

    def idf(self, term: str) -> float | None:
        """BM25 idf of an index term, or None when no passage has it."""
        tid = self.searcher.index.vocab.get(term)
        return None if tid is None else float(self.searcher.index.idf[tid])

    def answer(
        self,
        question: str,
        top: int = 3,
        highlight: bool = True,
        context: Sequence[str] = (),
    ) -> Answer:
        """Confident hits, else related passages, else nothing (see ``search.Answer``)."""
        return self.searcher.answer(question, top=top, highlight=highlight, context=context)


@cache
def _code_version() -> str:
    """Changes to the analysis or index code invalidate saved indexes (hashed once a process:
    the code cannot change under a running one, and reload polling asks every few seconds)."""
    h = hashlib.sha1(str(CACHE_FORMAT).encode())
    modules = (analysis, answers, builder, corpus, dates, excerpt, index, lexicon, query)
    for mod in (*modules, search, spelling, store):
        h.update(Path(mod.__file__).read_bytes())  # type: ignore[arg-type]
    for data in lexicon.DATA_FILES:
        h.update(data.read_bytes() if data.exists() else b"")
    return h.hexdigest()[:16]


def corpus_signature(corpus_dir: Path, max_file_bytes: int) -> str:
    """Names, sizes and modification times of the article files (and the code version).

    Names come from one ``listdir`` and are stat-ed relative to the open folder: no ``Path``
    per file. (At 100k files the ``stat`` calls themselves are most of the cost.)"""
    h = hashlib.sha1(_code_version().encode())
    h.update(str(max_file_bytes).encode())
    check_folder(corpus_dir)
    fd = os.open(corpus_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        names = sorted(n for n in os.listdir(fd) if n.lower().endswith((".txt", ".md")))
        lines = []
        for n in names:
            try:
                st = os.stat(n, dir_fd=fd)
                lines.append(f"{n}\0{st.st_size}\0{st.st_mtime_ns}\n")
            except OSError:
                lines.append(f"{n}\0unreadable\n")
    finally:
        os.close(fd)
    h.update("".join(lines).encode("utf-8", "replace"))
    return h.hexdigest()


def _cache_base(index_dir: Path, corpus_dir: Path) -> Path:
    key = hashlib.sha1(str(corpus_dir.resolve()).encode()).hexdigest()[:12]
    return index_dir / f"index-{key}"


def build_engine(
    corpus_dir: Path, max_file_bytes: int = 5 * 1024 * 1024, progress: bool = False
) -> Engine:
    """Read the corpus and index it in memory. Raises CorpusError when nothing can be served."""
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="passage", desc="indexing", delay=1.0, mininterval=0.5)
    try:
        idx, st, problems = build_from_folder(
            Path(corpus_dir), max_file_bytes, bar.update if bar is not None else None
        )
    finally:
        if bar is not None:
            bar.close()
    dt = time.perf_counter() - t0
    return Engine(Searcher(idx, st, st.spell), Path(corpus_dir), problems, dt)


def _load(folder: Path, signature: str) -> tuple[BM25Index, PassageStore, list[CorpusProblem]]:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if manifest.get("signature") != signature:
        raise ValueError("out of date: the corpus or the search code changed")
    idx = BM25Index.load(folder)
    st = PassageStore.load(folder)
    if idx.n_docs != len(st):
        raise ValueError("index and passages disagree")
    problems = [CorpusProblem(f, r) for f, r in manifest.get("problems", [])]
    return idx, st, problems


def _save(base: Path, engine: Engine) -> None:
    base.mkdir(parents=True, exist_ok=True)
    folder = base / f"build-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    try:
        engine.searcher.index.save(folder)
        engine.searcher.store.save(folder)
        manifest = {
            "signature": engine.signature,
            "corpus": str(engine.corpus_dir.resolve()),
            "passages": engine.n_passages,
            "problems": [[p.file, p.reason] for p in engine.problems],
            "built": time.time(),
        }
        # the manifest is written last: a folder without one is never loaded
        (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
        pointer_tmp = base / f".current-{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(folder.name, "utf-8")
        os.replace(pointer_tmp, base / "current")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # old builds are no longer pointed at
    for old in base.glob("build-*"):
        if old.name != folder.name:
            shutil.rmtree(old, ignore_errors=True)


def open_engine(
    corpus_dir: Path,
    settings: object = None,
    progress: bool = False,
    force_rebuild: bool = False,
) -> Engine:
    """The engine for ``corpus_dir``: the saved index when it is current, else a fresh build
    (saved for next time). ``settings`` supplies ``index_dir`` and ``max_file_bytes``."""
    corpus_dir = Path(corpus_dir)
    max_bytes = int(getattr(settings, "max_file_bytes", 5 * 1024 * 1024))
    index_dir = getattr(settings, "index_dir", None)
    signature = corpus_signature(corpus_dir, max_bytes)
    base = _cache_base(Path(index_dir), corpus_dir) if index_dir else None
    if base is not None and not force_rebuild:
        pointer = base / "current"
        if pointer.exists():
            t0 = time.perf_counter()
            try:
                folder = base / pointer.read_text("utf-8").strip()
                idx, st, problems = _load(folder, signature)
                log.debug("loaded saved index %s", folder)
                return Engine(
                    Searcher(idx, st, st.spell),
                    corpus_dir,
                    problems,
                    time.perf_counter() - t0,
                    signature=signature,
                    from_cache=True,
                )
            except Exception as exc:  # stale, truncated, corrupt: rebuild
                log.warning("saved index not usable (%s); rebuilding", exc)
    log.info("building index for %s", corpus_dir)
    engine = build_engine(corpus_dir, max_bytes, progress=progress)
    engine.signature = signature
    log.info(
        "indexed %d passages from %d articles in %.2f s",
        engine.n_passages,
        engine.n_articles,
        engine.build_seconds,
    )
    if base is not None:
        try:
            _save(base, engine)
        except OSError as exc:
            log.warning("could not save the index under %s (%s); serving from memory", base, exc)
    return engine
