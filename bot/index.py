"""BM25Okapi, precomputed: one sparse column of scores per term.

The model is rank-bm25's ``BM25Okapi`` (k1=1.5, b=0.75, epsilon=0.25): the same idf with its
floor for terms in more than half of the passages, the same length normalisation, the same
summation order. Because every (term, passage) contribution is computed ahead with the same
float64 operations, a question only sums the postings of its own terms, and the result equals
``BM25Okapi(corpus).get_scores(query)`` for the passages it touches (and is 0 elsewhere, as
there).

On disk an index is a folder of ``.npy`` arrays plus ``meta.json``; arrays are memory-mapped
on load, so a warm start reads almost nothing.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.3
EPSILON = 0.25
FORMAT_VERSION = 3


@dataclass(slots=True)
class BM25Index:
    vocab: dict[str, int]
    idf: np.ndarray  # float64 [V]
    post_ptr: np.ndarray  # int64 [V+1]
    post_docs: np.ndarray  # int32 [P], sorted within a term
    post_scores: np.ndarray  # float64 [P]
    doc_len: np.ndarray  # int32 [N]
    avgdl: float
    average_idf: float
    k1: float = K1
    b: float = B
    epsilon: float = EPSILON
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def n_docs(self) -> int:
        return int(self.doc_len.shape[0])

    def df(self, term_id: int) -> int:
        return int(self.post_ptr[term_id + 1] - self.post_ptr[term_id])

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], progress: object = None) -> BM25Index:
        """Index tokenised passages. ``progress`` (optional) has ``update(n)``."""
        vocab: dict[str, int] = {}
        setdefault = vocab.setdefault
        return cls.build_ids(
            ([setdefault(t, len(vocab)) for t in doc] for doc in docs), vocab, progress
        )

    @classmethod
    def build_ids(
        cls, docs: Iterable[Sequence[int]], vocab: dict[str, int], progress: object = None
    ) -> BM25Index:
        """Index passages given as term ids; ids are ``vocab``'s, in first-appearance order
        (``vocab`` may still be filling while ``docs`` is consumed)."""
        chunks: list[np.ndarray] = []
        lens: list[int] = []
        buf: list[int] = []
        for ids in docs:
            lens.append(len(ids))
            buf.extend(ids)
            if len(buf) > 1_000_000:
                chunks.append(np.asarray(buf, dtype=np.int32))
                buf = []
            if progress is not None:
                progress.update(1)  # type: ignore[attr-defined]
        chunks.append(np.asarray(buf, dtype=np.int32))
        term_ids = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
        doc_len = np.asarray(lens, dtype=np.int32)
        return cls._from_arrays(vocab, term_ids, doc_len)

    @classmethod
    def _from_arrays(
        cls, vocab: dict[str, int], term_ids: np.ndarray, doc_len: np.ndarray
    ) -> BM25Index:
        n_docs = int(doc_len.shape[0])
        if n_docs == 0:
            raise ValueError("cannot index an empty corpus")
        n_terms = len(vocab)
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len.astype(np.int64))
        # (term, doc) pairs sorted by term then doc; counts are the term frequencies
        keys = term_ids.astype(np.int64) * n_docs + doc_of
        del doc_of
        keys.sort(kind="stable")
        if keys.size:
            boundary = np.empty(keys.size, dtype=bool)
            boundary[0] = True
            np.not_equal(keys[1:], keys[:-1], out=boundary[1:])
            starts = np.flatnonzero(boundary)
            uniq = keys[starts]
            tf = np.diff(np.append(starts, keys.size)).astype(np.float64)
        else:
            uniq = keys
            tf = np.zeros(0)
        del keys
        post_terms = uniq // n_docs
        post_docs = (uniq - post_terms * n_docs).astype(np.int32)
        del uniq
        df = np.bincount(post_terms, minlength=n_terms)
        post_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=post_ptr[1:])

        # idf exactly as BM25Okapi._calc_idf (term order = first appearance = dict order)
        corpus_size = n_docs
        dff = df.astype(np.float64)
        idf = np.log(corpus_size - dff + 0.5) - np.log(dff + 0.5)
        # rank-bm25 uses math.log per word; numpy's log agrees to the last bit on these inputs,
        # but to be safe recompute with math.log (V is small next to P).
        idf = np.fromiter(
            (math.log(corpus_size - f + 0.5) - math.log(f + 0.5) for f in df.tolist()),
            dtype=np.float64,
            count=n_terms,
        )
        idf_sum = 0.0
        for v in idf.tolist():  # sequential, like rank-bm25's loop
            idf_sum += v
        average_idf = idf_sum / n_terms if n_terms else 0.0
        eps = EPSILON * average_idf
        idf[idf < 0] = eps

        num_doc = int(doc_len.sum())
        avgdl = num_doc / corpus_size
        dl = doc_len[post_docs].astype(np.int64)
        # same operation order as BM25Okapi.get_scores
        denom = tf + K1 * (1 - B + B * dl / avgdl)
        post_scores = idf[post_terms] * (tf * (K1 + 1) / denom)
        return cls(
            vocab=vocab,
            idf=idf,
            post_ptr=post_ptr,
            post_docs=post_docs,
            post_scores=post_scores,
            doc_len=doc_len,
            avgdl=avgdl,
            average_idf=average_idf,
        )

    # -- querying ---------------------------------------------------------------------------

    def _buffer(self) -> np.ndarray:
        """A zeroed score accumulator of this thread (left zeroed after each use)."""
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.shape[0] != self.n_docs:
            buf = self._local.buf = np.zeros(self.n_docs, dtype=np.float64)
        return buf

    def score(
        self, term_ids: Sequence[int], weights: Sequence[float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores of the passages that contain at least one of ``term_ids``.

        Returns (doc ids, scores). ``weights`` scale a term's contribution (default 1.0:
        plain BM25Okapi). Repeated ids count again, as in rank-bm25. A passage touched by
        several terms is listed once per term (callers that rank take the best few and skip
        repeats: cheaper than ``np.unique`` over all postings).
        """
        acc = self._buffer()
        ptr, docs, scores = self.post_ptr, self.post_docs, self.post_scores
        touched: list[np.ndarray] = []
        for i, t in enumerate(term_ids):
            s, e = int(ptr[t]), int(ptr[t + 1])
            if s == e:
                continue
            d = docs[s:e]
            w = 1.0 if weights is None else weights[i]
            acc[d] += scores[s:e] if w == 1.0 else w * scores[s:e]
            touched.append(d)
        if not touched:
            return np.zeros(0, np.int32), np.zeros(0)
        cand = touched[0] if len(touched) == 1 else np.concatenate(touched)
        out = acc[cand]
        acc[cand] = 0.0
        return cand, out

    def contains(self, term_id: int, docs: np.ndarray) -> np.ndarray:
        """Which of ``docs`` contain ``term_id`` (binary search in its sorted postings)."""
        s, e = int(self.post_ptr[term_id]), int(self.post_ptr[term_id + 1])
        post = self.post_docs[s:e]
        if post.size == 0:
            return np.zeros(docs.shape, dtype=bool)
        at = np.searchsorted(post, docs)
        at[at >= post.size] = post.size - 1
        return post[at] == docs

    def scores_dense(self, tokens: Sequence[str]) -> np.ndarray:
        """Scores for all passages for a token list (the rank-bm25 ``get_scores`` contract)."""
        out = np.zeros(self.n_docs)
        for tok in tokens:
            t = self.vocab.get(tok)
            if t is None:
                continue
            s, e = int(self.post_ptr[t]), int(self.post_ptr[t + 1])
            out[self.post_docs[s:e]] += self.post_scores[s:e]
        return out

    # -- persistence ------------------------------------------------------------------------

    ARRAYS = ("idf", "post_ptr", "post_docs", "post_scores", "doc_len")

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / "vocab.txt").write_text("\n".join(terms), encoding="utf-8")
        meta = {
            "avgdl": self.avgdl,
            "average_idf": self.average_idf,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "n_terms": len(terms),
        }
        (folder / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in cls.ARRAYS
        }
        text = (folder / "vocab.txt").read_text(encoding="utf-8")
        terms = text.split("\n") if text else []
        if len(terms) != meta["n_terms"] or arrays["post_ptr"].shape[0] != len(terms) + 1:
            raise ValueError("index vocabulary does not match its arrays")
        n_post = int(arrays["post_ptr"][-1])
        if arrays["post_docs"].shape[0] != n_post or arrays["post_scores"].shape[0] != n_post:
            raise ValueError("index postings are truncated")
        # posting arrays are read per question: keep the small ones in memory
        return cls(
            vocab={t: i for i, t in enumerate(terms)},
            idf=np.array(arrays["idf"]),
            post_ptr=np.array(arrays["post_ptr"]),
            # plain ndarray views over the mapped files: slicing a np.memmap is slow
            post_docs=arrays["post_docs"].view(np.ndarray),
            post_scores=arrays["post_scores"].view(np.ndarray),
            doc_len=np.array(arrays["doc_len"]),
            avgdl=float(meta["avgdl"]),
            average_idf=float(meta["average_idf"]),
            k1=float(meta["k1"]),
            b=float(meta["b"]),
            epsilon=float(meta["epsilon"]),
        )
