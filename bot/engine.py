"""Corpus folder -> ready :class:`Engine` (the one place that wires corpus, index and store).

The built index is saved under ``INDEX_DIR`` and reused while the corpus is unchanged (file
names, sizes and modification times, and the analysis code itself). A missing, stale, truncated
or corrupt cache is rebuilt with a log line. Writes are atomic: a new index is written to a
fresh folder and then published by replacing a one-line pointer file, so a crash mid-write
leaves the previous index in use.

A saved index is not trusted: the pointer must name a ``build-*`` folder inside the index
folder (no symlinks, no special files), every file's SHA-256 must match the manifest, and the
arrays must agree (sizes, ids in range, offsets in order); anything else means a rebuild, never
a per-question exception. (``open_engine(check_later=True)``, for ``ask -``: the arrays are
checked before serving, the corpus signature and the checksums in a background thread.) Saving
and publishing hold an exclusive lock on the index folder (loading a shared one), so concurrent
builds on one ``INDEX_DIR`` cannot delete each other's folders. And at answer time
:func:`verify_hits` checks every quote against the cited lines of the article file itself: a
hit that is not there is dropped, logged and triggers a rebuild.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from . import lexicon
from .continuation import Quote, continuation
from .corpus import (
    FURNITURE_FILE,
    SOURCES_FILE,
    CorpusProblem,
    check_folder,
    is_plain_text,
    split_lines,
)
from .dense import DIM, PassageVectors, VectorCache, load_embedder
from .documents import SUPPORTED_SUFFIXES, UnreadableDocument, article_text, read_article_file
from .extracted import EXTRACTED_FOLDER, ExtractedTexts, readers_version
from .features import DEFAULT as DEFAULT_FEATURES
from .features import Features
from .index import BM25Index
from .search import Answer, Hit, Searcher
from .store import ArticleMeta, PassageStore

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
SIGNED_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))  # article files, by the corpus signature
# the modules whose code a saved index depends on
ANALYSIS_MODULES = (
    "analysis",
    "answers",
    "builder",
    "corpus",
    "dates",
    "documents",
    "excerpt",
    "extracted",
    "index",
    "lexicon",
    "query",
    "search",
    "spelling",
    "store",
)


class IndexDamaged(Exception):
    """A question met the saved index's arrays before their check, and the check found them
    damaged: the index is to be rebuilt and the question asked again (``ask -`` does)."""


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
    needs_rebuild: bool = False  # set when a quote failed verification (or a later check)
    # set once the saved index has been checked against the corpus (see open_engine)
    checked: threading.Event = field(default_factory=threading.Event, repr=False)
    arrays_checked: threading.Event = field(default_factory=threading.Event, repr=False)
    answered: threading.Event = field(default_factory=threading.Event, repr=False)  # once
    max_file_bytes: int = 5 * 1024 * 1024
    # where the extracted texts of the files that are not plain text are kept (None: in memory)
    extracted_dir: Path | None = None

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
        """Confident hits only (each checked against its article file)."""
        return self.verify_hits(self._answer(question, top, highlight, context).hits)

    def with_features(self, features: Features) -> Engine:
        """This engine (the same index, passages, vectors and state) searching with other
        ``features``: what ``python -m bot ablate`` asks each variant with."""
        other = copy.copy(self)
        other.searcher = self.searcher.variant(features)
        return other

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
        """Confident hits, else related passages, else nothing (see ``search.Answer``); every
        quote checked against its article file."""
        got = self._answer(question, top, highlight, context)
        hits, related = self.verify_hits(got.hits), self.verify_hits(got.related)
        if len(hits) == len(got.hits) and len(related) == len(got.related):
            return got  # every quote stands in its file
        return dataclasses.replace(got, hits=tuple(hits), related=tuple(related))

    def more(
        self,
        after: Quote,
        skip: Sequence[Quote] = (),
        words: str = "",
        top: int = 3,
        highlight: bool = True,
    ) -> Answer:
        """What continues the quote ``after`` in its article ("tell me more":
        ``continuation.py``), every quote checked against its article file."""
        hits = continuation(self.searcher, after, skip, words, top, highlight)
        return Answer(words, hits=tuple(self.verify_hits(hits)))

    def _answer(self, question: str, top: int, highlight: bool, context: Sequence[str]) -> Answer:
        """The searcher's answer, quotes not yet verified. From a saved index served before its
        arrays were checked (``ask -``), a question that fails on them waits for the check;
        damaged arrays raise :class:`IndexDamaged` (the caller rebuilds and asks again), sound
        ones the error."""
        try:
            got = self.searcher.answer(question, top=top, highlight=highlight, context=context)
        except Exception:
            if self.arrays_checked.is_set():
                raise
            self.answered.set()  # (the check waits for the first answer)
            self.arrays_checked.wait()
            if self.needs_rebuild:
                raise IndexDamaged("the saved index is damaged: rebuilding") from None
            raise
        if not self.answered.is_set():  # (setting an Event takes its lock every time)
            self.answered.set()
        return got

    def verify_hits(self, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` whose quotes stand in the cited lines of their files; any other is dropped,
        logged, and the index marked for a rebuild (:attr:`needs_rebuild`)."""
        kept = []
        for hit in hits:
            if quote_in_file(hit, self.corpus_dir, self.max_file_bytes, self.extracted_dir):
                kept.append(hit)
            else:
                log.error(
                    "quote not found in %s lines %d-%d: dropped; the index will be rebuilt",
                    hit.file,
                    hit.line_start,
                    hit.line_end,
                )
                self.needs_rebuild = True
        return kept


ELLIPSIS = "…"
QUOTE_GAP = " … "
_QUOTE_JOINS = re.compile(re.escape(QUOTE_GAP) + "|\n")
_file_cache: dict[tuple[str, int, int], list[str]] = {}  # a few files' lines, oldest first
_file_cache_lock = threading.Lock()
FILES_KEPT = 64
# a plain file only: a symlink fails (ELOOP) and is read the careful way; a FIFO swapped in after
# the lstat does not block the open
_OPEN_PLAIN = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _file_lines(
    name: str, corpus_dir: Path, max_bytes: int, extracted: Path | None = None
) -> list[str] | None:
    """The lines of an article file (for a file that is not plain text, of the text extracted
    from it as it is now: ``extracted.py``), kept for the last :data:`FILES_KEPT` files read
    (keyed by name, size and modification time); None when it is not a usable article."""
    try:
        st = os.lstat(name)
        plain = stat.S_ISREG(st.st_mode)  # a regular file, not a symlink
        if stat.S_ISLNK(st.st_mode):
            st = os.stat(name)  # read_article_file checks where it points
    except OSError:
        return None
    key = (name, st.st_size, st.st_mtime_ns)
    lines = _file_cache.get(key)  # (one dict lookup: atomic)
    if lines is not None:
        return lines
    text = None
    if not is_plain_text(os.path.basename(name)):
        try:
            text = ExtractedTexts(extracted).document(Path(name), corpus_dir, max_bytes).text
        except UnreadableDocument:
            return None
    elif plain and 0 < st.st_size <= max_bytes:
        text = _regular_file_text(name, st.st_size)
    if text is None:  # not plain, or changed meanwhile: the careful way
        text, _ = read_article_file(Path(name), corpus_dir, max_bytes)
        if text is None:
            return None
    lines = split_lines(text)
    with _file_cache_lock:
        _file_cache[key] = lines
        while len(_file_cache) > FILES_KEPT:
            del _file_cache[next(iter(_file_cache))]
    return lines


def _regular_file_text(name: str, size: int) -> str | None:
    """The text of a plain file (not a symlink) of a known size, read with one open and one
    read; None when that is not what is there (then it is read the careful way)."""
    try:
        fd = os.open(name, _OPEN_PLAIN)
    except OSError:
        return None
    try:
        data = os.read(fd, size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) != size:
        return None
    return article_text(data)[0]


def quote_pieces(text: str) -> list[str]:
    """The verbatim pieces of a hit's text: joined by " … " (text skipped) or "\n" (adjacent
    lines), maybe with a leading "… " or a trailing " …"."""
    if text.startswith(ELLIPSIS + " "):
        text = text[2:]
    if text.endswith(" " + ELLIPSIS):
        text = text[:-2]
    return _QUOTE_JOINS.split(text)


def quote_in_file(
    hit: Hit, corpus_dir: Path, max_bytes: int = 5 * 1024 * 1024, extracted: Path | None = None
) -> bool:
    """Every piece of ``hit.text`` is in lines ``line_start..line_end`` of the cited file (of
    the text extracted from it, for a Markdown, web page, PDF or Word file; ``extracted``: the
    folder where those texts are kept, :mod:`bot.extracted`),
    character for character except for whitespace: a run of spaces and line breaks matches any
    other such run (a hard-wrapped paragraph is quoted with a space where the file breaks the
    line)."""
    name, first, last, text = hit.file, hit.line_start, hit.line_end, hit.text
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        return False
    lines = _file_lines(os.path.join(corpus_dir, name), corpus_dir, max_bytes, extracted)
    if lines is None or not 1 <= first <= last <= len(lines):
        return False
    cited = lines[first - 1] if first == last else "\n".join(lines[first - 1 : last])
    if text and text in cited:  # verbatim as a whole (no text skipped)
        return True
    pieces = quote_pieces(text)
    if all(piece and piece in cited for piece in pieces):
        return True
    folded = _fold_space(cited)
    return all((f := _fold_space(piece)) and f in folded for piece in pieces)


def _fold_space(text: str) -> str:
    return " ".join(text.split())


@cache
def _code_version() -> str:
    """Changes to the analysis or index code invalidate saved indexes (hashed once a process:
    the code cannot change under a running one, and reload polling asks every few seconds)."""
    h = hashlib.sha1(str(CACHE_FORMAT).encode())
    for name in ANALYSIS_MODULES:  # by file: the builder is not imported to serve a saved index
        h.update(Path(__file__).with_name(f"{name}.py").read_bytes())
    for data in (*lexicon.DATA_FILES, FURNITURE_FILE):
        h.update(data.read_bytes() if data.exists() else b"")
    h.update(readers_version().encode())  # the format readers and their libraries
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
        names = sorted(
            n for n in os.listdir(fd) if n.lower().endswith(SIGNED_SUFFIXES) or n == SOURCES_FILE
        )
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


def cache_folder(index_dir: Path, corpus_dir: Path) -> Path:
    key = hashlib.sha1(str(corpus_dir.resolve()).encode()).hexdigest()[:12]
    return index_dir / f"index-{key}"


VECTORS_FILE = "vectors.npy"


def passage_vectors(
    st: PassageStore, settings: object = None, saved: np.ndarray | None = None
) -> PassageVectors | None:
    """The sentence model's vectors of the passages (``dense.py``), or None: ``DENSE=off``, the
    model not installed (``auto``), or more passages than ``DENSE_MAX_PASSAGES``. ``saved``:
    the vectors a saved index holds (used when they fit); new ones are made through the vector
    cache (``VECTOR_DIR``, else ``INDEX_DIR/vectors``)."""
    mode = str(getattr(settings, "dense", "auto"))
    limit = int(getattr(settings, "dense_max_passages", 20_000))
    n = len(st)
    if mode == "off" or n == 0:
        return None
    if n > limit:
        log.info("%d passages (DENSE_MAX_PASSAGES=%d): search uses BM25 only", n, limit)
        return None
    folder = getattr(settings, "vector_dir", None)
    index_dir = getattr(settings, "index_dir", None)
    if folder is None and index_dir is not None:
        folder = Path(index_dir) / "vectors"
    embedder = load_embedder(mode, folder)  # (its lean form kept with the vectors)
    if embedder is None:
        return None
    if saved is not None and saved.shape == (n, DIM) and np.all(np.isfinite(saved)):
        return PassageVectors(saved, embedder)
    texts = [st.passage(i).text for i in range(n)]
    t0 = time.perf_counter()
    vectors = VectorCache(folder).vectors(embedder, texts)
    log.debug("passage vectors for %d passages in %.2f s", n, time.perf_counter() - t0)
    return PassageVectors(vectors, embedder)


def _features(settings: object) -> Features:
    """The question path's heuristics the settings switch on (all of them by default)."""
    return getattr(settings, "features", DEFAULT_FEATURES)


def build_engine(
    corpus_dir: Path,
    max_file_bytes: int = 5 * 1024 * 1024,
    progress: bool = False,
    settings: object = None,
    extracted_dir: Path | None = None,
) -> Engine:
    """Read the corpus and index it in memory. Raises CorpusError when nothing can be served.
    ``settings``: the sentence model's settings (``passage_vectors``); ``extracted_dir``: where
    the extracted texts of files that are not plain text are kept (None: not kept)."""
    from .builder import build_from_folder  # (serving a saved index needs no builder)

    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="passage", desc="indexing", delay=1.0, mininterval=0.5)
    try:
        idx, st, problems = build_from_folder(
            Path(corpus_dir),
            max_file_bytes,
            bar.update if bar is not None else None,
            extracted=extracted_dir,
        )
    finally:
        if bar is not None:
            bar.close()
    vectors = passage_vectors(st, settings)
    dt = time.perf_counter() - t0
    engine = Engine(
        Searcher(idx, st, st.spell, vectors, _features(settings)),
        Path(corpus_dir),
        problems,
        dt,
        max_file_bytes=max_file_bytes,
        extracted_dir=extracted_dir,
    )
    engine.arrays_checked.set()  # built from the corpus itself
    engine.checked.set()
    return engine


_BUILD_NAME = re.compile(r"build-[0-9a-f]{12}", re.ASCII)


@contextlib.contextmanager
def _locked(base: Path, exclusive: bool) -> Iterator[None]:
    """A lock on the index folder: exclusive to save and publish, shared to load."""
    base.mkdir(parents=True, exist_ok=True)
    fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _regular_file(path: Path) -> None:
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path.name} is not a regular file")


def _published_folder(base: Path) -> Path:
    """The folder the pointer names: only ever a ``build-*`` folder directly inside ``base``."""
    pointer = base / "current"
    _regular_file(pointer)
    with open(pointer, "rb") as fh:
        name = fh.read(64).decode("ascii", "replace").strip()
    if not _BUILD_NAME.fullmatch(name):
        raise ValueError("the pointer file does not name a build folder")
    folder = base / name
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise ValueError("the published build is not a folder")
    return folder


def file_checksums(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.iterdir()):
        if p.name == "manifest.json":
            continue
        _regular_file(p)
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        out[p.name] = h.hexdigest()
    return out


def check_arrays(idx: BM25Index, st: PassageStore, folder: Path | None = None) -> None:
    """Sizes, id ranges and offsets of a loaded index agree; ValueError if not.

    With ``folder`` (the index's own), the postings are checked by reading their files a
    piece at a time rather than through the index's memory maps, so the check leaves none of
    their pages in the serving process's memory."""
    n = idx.n_docs
    if n != len(st):
        raise ValueError("index and passages disagree")
    ptr = idx.post_ptr
    if ptr.size == 0 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("posting offsets out of order")
    if idx.idf.shape[0] != ptr.shape[0] - 1 or not np.all(np.isfinite(idx.idf)):
        raise ValueError("idf values are missing or not finite")
    docs_pieces = [idx.post_docs] if folder is None else _npy_pieces(folder / "post_docs.npy")
    for docs in docs_pieces:
        if docs.size and (int(docs.min()) < 0 or int(docs.max()) >= n):
            raise ValueError("a posting names a passage that does not exist")
    score_pieces = [idx.post_scores] if folder is None else _npy_pieces(folder / "post_scores.npy")
    for scores in score_pieces:
        if not np.all(np.isfinite(scores)):
            raise ValueError("scores are not finite")
    if np.any(idx.doc_len < 0):
        raise ValueError("passage lengths are invalid")
    st.check()


def _npy_pieces(path: Path, size: int = 1 << 20) -> Iterator[np.ndarray]:
    """The values of a saved 1-d array, ``size`` at a time, read from its file."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        _, _, dtype = read_header(fh)
        while (piece := np.fromfile(fh, dtype=dtype, count=size)).size:
            yield piece


def _manifest(folder: Path) -> dict:
    _regular_file(folder / "manifest.json")
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError("the manifest is not an object")
    return manifest


def _check_current(folder: Path, manifest: dict, signature: str) -> None:
    """ValueError unless the saved index was built from this corpus and code (``signature``)
    and every file still has the checksum it was saved with."""
    if manifest.get("signature") != signature:
        raise ValueError("out of date: the corpus or the search code changed")
    if manifest.get("checksums") != file_checksums(folder):
        raise ValueError("a file of the saved index was changed (checksum mismatch)")


def _load(
    folder: Path, manifest: dict, check: bool = True, settings: object = None
) -> tuple[BM25Index, PassageStore, list[CorpusProblem], PassageVectors | None]:
    idx = BM25Index.load(folder)
    st = PassageStore.load(folder)
    if check:
        check_arrays(idx, st, folder)
    problems = [CorpusProblem(f, r) for f, r in manifest.get("problems", [])]
    saved = None
    if os.path.lexists(folder / VECTORS_FILE):
        _regular_file(folder / VECTORS_FILE)
        saved = np.load(folder / VECTORS_FILE, allow_pickle=False)
    return idx, st, problems, passage_vectors(st, settings, saved)


def _check_in_background(engine: Engine, folder: Path, manifest: dict) -> None:
    """The checks :func:`open_engine` left for later (the arrays, then the corpus and the
    checksums); a damaged, stale or changed index is marked for a rebuild
    (:attr:`Engine.needs_rebuild`). They wait for the first answer (a second at most): the
    interpreter runs one thread at a time, and the first answer comes first."""
    engine.answered.wait(timeout=1.0)
    try:
        check_arrays(engine.searcher.index, engine.searcher.store, folder)
        engine.arrays_checked.set()
        _check_current(folder, manifest, corpus_signature(engine.corpus_dir, engine.max_file_bytes))
    except Exception as exc:  # damaged, stale, changed, or the folder is gone: rebuild
        log.warning("saved index not usable (%s); rebuilding", exc)
        engine.needs_rebuild = True
    finally:  # (needs_rebuild is set before the events: waiters read it once woken)
        engine.arrays_checked.set()
        engine.checked.set()


def _save(base: Path, engine: Engine) -> None:
    with _locked(base, exclusive=True):
        folder = base / f"build-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        try:
            engine.searcher.index.save(folder)
            engine.searcher.store.save(folder)
            if engine.searcher.dense is not None:
                np.save(folder / VECTORS_FILE, engine.searcher.dense.vectors, allow_pickle=False)
            manifest = {
                "signature": engine.signature,
                "corpus": str(engine.corpus_dir.resolve()),
                "passages": engine.n_passages,
                "problems": [[p.file, p.reason] for p in engine.problems],
                "built": time.time(),
                "checksums": file_checksums(folder),
            }
            # the manifest is written last: a folder without one is never loaded
            (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
            pointer_tmp = base / f".current-{uuid.uuid4().hex[:8]}"
            pointer_tmp.write_text(folder.name, "utf-8")
            os.replace(pointer_tmp, base / "current")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        # old builds are no longer pointed at (and none is being written: we hold the lock)
        for old in base.glob("build-*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)


def open_engine(
    corpus_dir: Path,
    settings: object = None,
    progress: bool = False,
    force_rebuild: bool = False,
    check_later: bool = False,
) -> Engine:
    """The engine for ``corpus_dir``: the saved index when it is current, else a fresh build
    (saved for next time). ``settings`` supplies ``index_dir`` and ``max_file_bytes``.

    ``check_later``: serve a saved index at once and check it (its arrays, then against the
    corpus and its checksums) in a background thread after the first answer, which sets
    :attr:`Engine.needs_rebuild` if it is damaged or stale (for callers that rebuild then, as
    ``ask -`` does between questions); a question that fails on the arrays before they are
    checked waits for the check and, if they are damaged, raises :class:`IndexDamaged` for the
    caller to rebuild and ask again, so a damaged index never fails a question. Otherwise
    everything is checked before serving."""
    corpus_dir = Path(corpus_dir)
    max_bytes = int(getattr(settings, "max_file_bytes", 5 * 1024 * 1024))
    index_dir = getattr(settings, "index_dir", None)
    signature = None if check_later else corpus_signature(corpus_dir, max_bytes)
    base = cache_folder(Path(index_dir), corpus_dir) if index_dir else None
    extracted = base / EXTRACTED_FOLDER if base is not None else None
    if base is not None and not force_rebuild and os.path.lexists(base / "current"):
        t0 = time.perf_counter()
        try:
            with _locked(base, exclusive=False):
                folder = _published_folder(base)
                manifest = _manifest(folder)
                if signature is not None:
                    _check_current(folder, manifest, signature)
                idx, st, problems, vectors = _load(
                    folder, manifest, check=signature is not None, settings=settings
                )
            log.debug("loaded saved index %s", folder)
            engine = Engine(
                Searcher(idx, st, st.spell, vectors, _features(settings)),
                corpus_dir,
                problems,
                time.perf_counter() - t0,
                signature=str(manifest.get("signature", "")),
                from_cache=True,
                max_file_bytes=max_bytes,
                extracted_dir=extracted,
            )
            if signature is None:
                threading.Thread(
                    target=_check_in_background,
                    args=(engine, folder, manifest),
                    name="index-check",
                    daemon=True,
                ).start()
            else:
                engine.arrays_checked.set()
                engine.checked.set()
            return engine
        except Exception as exc:  # stale, truncated, corrupt: rebuild
            log.warning("saved index not usable (%s); rebuilding", exc)
    if signature is None:
        signature = corpus_signature(corpus_dir, max_bytes)
    log.info("building index for %s", corpus_dir)
    engine = build_engine(
        corpus_dir, max_bytes, progress=progress, settings=settings, extracted_dir=extracted
    )
    engine.signature = signature
    engine.max_file_bytes = max_bytes
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
