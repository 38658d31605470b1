"""BM25Okapi, precomputed: one sparse column of scores per term, and exact top-k with pruning.

The model is rank-bm25's ``BM25Okapi`` (defaults k1=1.5, b=0.75, epsilon=0.25; all three are
parameters of the build, saved with the index and used by its scores): the same idf with its
floor for terms in more than half of the passages, the same length normalisation, the same
summation order. Because every (term, passage) contribution is computed ahead with the same
float64 operations, a question only sums the postings of its own terms, and the result equals
``BM25Okapi(corpus, k1=, b=, epsilon=).get_scores(query)`` for the passages it touches (and is 0
elsewhere, as there).

:meth:`BM25Index.top_k` returns the k best passages of a weighted question without summing
every posting it touches (MaxScore dynamic pruning, vectorised in numpy): a running k-th best
score (seeded from each term's highest-impact passages) decides which terms are "optional"
(their upper bounds together cannot lift a passage to it); candidates come only from the
other terms' postings, are pruned by their upper bounds, and the survivors are scored exactly,
term by term in question order. The result is identical to exhaustive scoring.

On disk an index is a folder of ``.npy`` arrays plus ``bm25.json``; arrays are memory-mapped
on load, so a warm start reads almost nothing.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

try:  # compiled exhaustive scoring with the top k (bot/_native_query.c); optional, same results
    from . import _native_query
except ImportError:  # pragma: no cover - built by `pip install -e .` where a compiler is
    _native_query = None

K1 = 1.5
B = 0.3
EPSILON = 0.25

SCORE_SLICE = 1 << 22  # postings scored at a time while building

# top_k tuning (none of these changes a result, only how fast it is found)
HEAD = 64  # each frequent term keeps its HEAD highest-impact passages, to seed the k-th score
HEAD_MIN_DF = 256  # ... when it is in more passages than this
DENSE_MIN_FRACTION = 1 / 16  # terms in this share of the passages get a dense row ...
DENSE_MAX_ROWS = 32  # ... the most frequent ones, at most this many
REFINE_OVER = 512  # more candidates than this are pruned with the optional terms' scores
SMALL_POSTINGS = 8192  # questions touching fewer postings are summed exhaustively
# where it is built (bot/_native_query.c), questions of up to this many postings are summed
# exhaustively in C: measured faster than the numpy pruning up to 160k postings at 100k
# passages, up to ~80k at 1M (a larger accumulator: more cache misses per posting)
NATIVE_POSTINGS = 1 << 17
NATIVE_POSTINGS_LARGE = 1 << 16  # ... for indexes of more than LARGE_INDEX passages
LARGE_INDEX = 250_000
SEED_POSTINGS = 4096  # the rarest terms' postings, up to this many, are scored exactly first
DENSE_GATHER_OVER = 64  # more passages than this are looked up in a term's dense row first
# upper bounds are widened by this much, so float rounding in a sum never prunes a passage
# that belongs in the top k
BOUND_SLACK = 1e-9
LOOKUP_CACHE = 1 << 16  # term -> id lookups kept per loaded vocabulary


class TermVocab(Mapping[str, int]):
    """term -> id, compact and memory-mapped: terms sorted as UTF-8 bytes in one fixed-width
    array (binary search, about a microsecond), terms longer than that width in a dict.
    A loaded index costs no Python object per term: nothing to build at start-up."""

    WIDTH = 24  # bytes; longer terms (rare) go to ``long``

    def __init__(self, keys: np.ndarray, ids: np.ndarray, long: dict[str, int]) -> None:
        self.keys_ = keys
        self.ids = ids
        self.long = long
        # questions repeat words: recent lookups are kept (bounded)
        self._find = lru_cache(maxsize=LOOKUP_CACHE)(self._search)

    @classmethod
    def of(cls, vocab: Mapping[str, int]) -> TermVocab:
        if isinstance(vocab, TermVocab):
            return vocab
        short: list[bytes] = []
        short_ids: list[int] = []
        long: dict[str, int] = {}
        for t, i in vocab.items():
            b = t.encode("utf-8", "surrogatepass")
            if len(b) > cls.WIDTH or b.endswith(b"\0"):
                long[t] = i
            else:
                short.append(b)
                short_ids.append(i)
        width = max(map(len, short), default=1)
        keys = np.array(short, dtype=f"S{width}")
        # (no key ends with a NUL byte: numpy orders them as Python orders the bytes)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], np.array(short_ids, dtype=np.int32)[order], long)

    def get(self, term: str, default: int | None = None) -> int | None:  # type: ignore[override]
        i = self._find(term)
        return default if i is None else i

    def _search(self, term: str) -> int | None:
        b = term.encode("utf-8", "surrogatepass")
        keys = self.keys_
        if len(b) > keys.dtype.itemsize or b.endswith(b"\0"):
            return self.long.get(term)
        i = int(keys.searchsorted(b))
        if i < keys.shape[0] and keys[i] == b:
            return int(self.ids[i])
        return None

    def __getitem__(self, term: str) -> int:
        i = self.get(term)
        if i is None:
            raise KeyError(term)
        return i

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __iter__(self) -> Iterator[str]:
        for b in self.keys_.tolist():
            yield b.decode("utf-8", "surrogatepass")
        yield from self.long

    def __len__(self) -> int:
        return int(self.keys_.shape[0]) + len(self.long)


@dataclass(slots=True)
class BM25Index:
    vocab: Mapping[str, int]  # a dict when built, a TermVocab when loaded
    idf: np.ndarray  # float64 [V]
    post_ptr: np.ndarray  # int64 [V+1]
    post_docs: np.ndarray  # int32 [P], sorted within a term
    post_scores: np.ndarray  # float64 [P]
    doc_len: np.ndarray  # int32 [N]
    term_max: np.ndarray  # float64 [V]: the largest score in each term's postings
    head_row: np.ndarray  # int32 [V]: row of ``heads`` for frequent terms, else -1
    heads: np.ndarray  # int32 [H, HEAD]: their highest-scoring passages
    dense_row: np.ndarray  # int32 [V]: row of ``dense`` for the most frequent terms, else -1
    dense: np.ndarray  # uint8 [R, N]: their scores over all passages, quantised upwards
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
    def build(
        cls,
        docs: Iterable[Sequence[str]],
        progress: object = None,
        *,
        k1: float = K1,
        b: float = B,
        epsilon: float = EPSILON,
    ) -> BM25Index:
        """Index tokenised passages. ``progress`` (optional) has ``update(n)``."""
        vocab: dict[str, int] = {}
        setdefault = vocab.setdefault
        return cls.build_ids(
            ([setdefault(t, len(vocab)) for t in doc] for doc in docs),
            vocab,
            progress,
            k1=k1,
            b=b,
            epsilon=epsilon,
        )

    @classmethod
    def build_ids(
        cls,
        docs: Iterable[Sequence[int]],
        vocab: dict[str, int],
        progress: object = None,
        *,
        k1: float = K1,
        b: float = B,
        epsilon: float = EPSILON,
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
        return cls.from_arrays(vocab, term_ids, doc_len, k1=k1, b=b, epsilon=epsilon)

    @classmethod
    def from_arrays(
        cls,
        vocab: dict[str, int],
        term_ids: np.ndarray | list[np.ndarray],
        doc_len: np.ndarray,
        *,
        k1: float = K1,
        b: float = B,
        epsilon: float = EPSILON,
    ) -> BM25Index:
        """The index of passages given as term ids, passage after passage (one array, or a
        list of consecutive pieces, which is emptied as it is read), and the passages'
        lengths; ids are ``vocab``'s, numbered in first-appearance order."""
        n_docs = int(doc_len.shape[0])
        if n_docs == 0:
            raise ValueError("cannot index an empty corpus")
        n_terms = len(vocab)
        # (term, doc) keys sorted by term then doc; runs of equal keys are term frequencies
        # (built in place: the memory of a build is a few bytes per token)
        keys = _keys(term_ids, doc_len)
        keys.sort()
        n = keys.shape[0]
        boundary = np.ones(n, dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=boundary[1:])
        uniq = keys[boundary]
        del keys
        starts = np.flatnonzero(boundary)
        del boundary
        tf = np.empty(starts.shape[0], dtype=np.int32)  # run lengths, cast as they are written
        np.subtract(starts[1:], starts[:-1], out=tf[:-1], casting="unsafe")
        if tf.shape[0]:
            tf[-1] = n - starts[-1]
        del starts
        post_ptr = np.searchsorted(uniq, np.arange(n_terms + 1, dtype=np.int64) * n_docs)
        np.remainder(uniq, n_docs, out=uniq)
        post_docs = uniq.astype(np.int32)
        del uniq
        df = np.diff(post_ptr)

        # idf exactly as BM25Okapi._calc_idf (term order = first appearance = dict order),
        # with math.log per word as rank-bm25 does
        idf = np.fromiter(
            (math.log(n_docs - f + 0.5) - math.log(f + 0.5) for f in df.tolist()),
            dtype=np.float64,
            count=n_terms,
        )
        idf_sum = 0.0
        for v in idf.tolist():  # sequential, like rank-bm25's loop
            idf_sum += v
        average_idf = idf_sum / n_terms if n_terms else 0.0
        idf[idf < 0] = epsilon * average_idf
        avgdl = int(doc_len.sum()) / n_docs
        post_scores = _contributions(post_ptr, post_docs, tf, doc_len, idf, avgdl, k1, b)
        del tf
        term_max, head_row, heads = impact_heads(post_ptr, post_docs, post_scores)
        dense_row, dense = dense_rows(post_ptr, post_docs, post_scores, term_max, n_docs)
        return cls(
            vocab=vocab,
            idf=idf,
            post_ptr=post_ptr,
            post_docs=post_docs,
            post_scores=post_scores,
            doc_len=doc_len,
            term_max=term_max,
            head_row=head_row,
            heads=heads,
            dense_row=dense_row,
            dense=dense,
            avgdl=avgdl,
            average_idf=average_idf,
            k1=k1,
            b=b,
            epsilon=epsilon,
        )

    # -- querying ---------------------------------------------------------------------------

    def _buffer(self) -> np.ndarray:
        """A zeroed score accumulator of this thread (left zeroed after each use)."""
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.shape[0] != self.n_docs:
            buf = self._local.buf = np.zeros(self.n_docs, dtype=np.float64)
        return buf

    def _marks(self) -> tuple[np.ndarray, np.ndarray]:
        """Zeroed work buffers of this thread for the compiled top k (``_native_query.rank``):
        a slot per passage (where its sum is kept, or just whether it was touched) and the
        list of passages touched (one more entry); left zeroed after each use."""
        got = getattr(self._local, "marks", None)
        if got is None or got[0].shape[0] != self.n_docs:
            got = self._local.marks = (
                np.zeros(self.n_docs, dtype=np.uint16),
                np.zeros(self.n_docs + 1, dtype=np.int32),
            )
        return got

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

    def top_k(
        self, term_ids: Sequence[int], weights: Sequence[float] | None = None, k: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best passages for weighted terms: (doc ids, scores), best first, ties
        broken by the lower doc id.

        Scores are exactly those of exhaustive scoring (:meth:`score`, and rank-bm25's
        ``get_scores`` for unit weights): each term's contribution times its weight, summed in
        the order of ``term_ids``; repeated ids count again. Only passages that hold at least
        one of the terms are ranked (terms of weight 0 hold none).
        """
        if k < 1 or len(term_ids) == 0:
            return np.zeros(0, np.int32), np.zeros(0)
        if _native_query is not None:  # the same ranking, compiled (bot/_native_query.c)
            m = min(k, self.n_docs)
            docs, vals = np.empty(m, dtype=np.int32), np.empty(m)
            slot, touched = self._marks()
            n = _native_query.rank(
                self.post_ptr,
                self.post_docs,
                self.post_scores,
                self.term_max,
                term_ids,
                weights,
                self._buffer(),
                slot,
                touched,
                docs,
                vals,
                NATIVE_POSTINGS if self.n_docs <= LARGE_INDEX else NATIVE_POSTINGS_LARGE,
            )
            if n >= 0:
                return docs[:n], vals[:n]
        # each term's postings and upper bound, read in one gather each (not per term)
        ids = np.asarray(term_ids, dtype=np.int64)
        ptr = self.post_ptr
        tl, lo, hi = ids.tolist(), ptr[ids].tolist(), ptr[ids + 1].tolist()
        span = dict(zip(tl, zip(lo, hi, strict=True), strict=True))
        ws = [1.0] * len(tl) if weights is None else [float(w) for w in weights]
        # (term, weight) in question order
        occ = [(t, w) for t, w, s, e in zip(tl, ws, lo, hi, strict=True) if w != 0.0 and e > s]
        if not occ:
            return np.zeros(0, np.int32), np.zeros(0)
        top = dict(zip(tl, self.term_max[ids].tolist(), strict=True))
        bound: dict[int, float] = {}  # each distinct term's upper bound, all its repeats
        for t, w in occ:
            bound[t] = bound.get(t, 0.0) + w * top[t]
        n_post = sum(span[t][1] - span[t][0] for t in bound)
        if (
            len(bound) == 1
            or n_post <= SMALL_POSTINGS
            or min(w for _, w in occ) < 0
            or min(bound.values()) <= 0
            or not all(math.isfinite(v) for v in bound.values())
        ):
            return self._top_k_exhaustive(occ, k, span)
        return self._top_k_maxscore(occ, bound, k, span)

    def _top_k_exhaustive(
        self, occ: list[tuple[int, float]], k: int, span: dict[int, tuple[int, int]]
    ) -> tuple[np.ndarray, ...]:
        """:meth:`score` (each term's contributions added in question order; ``np.add.at``
        does the same additions as ``acc[d] += ...`` in one pass), then the best ``k``."""
        acc = self._buffer()
        post_docs, post_scores = self.post_docs, self.post_scores
        touched: list[np.ndarray] = []
        for t, w in occ:
            s, e = span[t]
            d = post_docs[s:e]
            np.add.at(acc, d, post_scores[s:e] if w == 1.0 else w * post_scores[s:e])
            touched.append(d)
        cand = touched[0] if len(touched) == 1 else np.concatenate(touched)
        vals = acc.take(cand)
        acc[cand] = 0.0
        return _select(cand, vals, k, len(occ))

    def _top_k_maxscore(
        self,
        occ: list[tuple[int, float]],
        bound: dict[int, float],
        k: int,
        span: dict[int, tuple[int, int]],
    ) -> tuple[np.ndarray, ...]:
        post_docs, post_scores = self.post_docs, self.post_scores
        by_df = sorted(bound, key=lambda t: span[t][1] - span[t][0])
        # 1. score exactly every passage of the rarest terms (as many as fit in SEED_POSTINGS)
        #    and each other term's highest-impact passages: a first k-th best score, and the
        #    rare terms are done (a passage outside their lists gets nothing from them)
        seeds: list[np.ndarray] = []
        budget = SEED_POSTINGS
        n_done = 0
        for t in by_df:
            s, e = span[t]
            if e - s > budget:
                break
            budget -= e - s
            seeds.append(post_docs[s:e])
            n_done += 1
        rest = by_df[n_done:]
        seeds += [self.heads[r] for t in rest if (r := int(self.head_row[t])) >= 0]
        seed_docs = _distinct(np.concatenate(seeds)) if seeds else np.zeros(0, np.int32)
        seed_vals = self._exact(seed_docs, occ, span)
        theta = 0.0
        if seed_docs.size >= k:
            theta = float(np.partition(seed_vals, seed_docs.size - k)[seed_docs.size - k])
        # 2. optional terms: as many postings as possible whose bounds together stay below the
        #    k-th score; a passage holding only those (and no rare term) cannot reach the top k
        optional_bound = 0.0
        essential: list[int] = []
        for t in reversed(rest):
            if (optional_bound + bound[t]) * (1 + BOUND_SLACK) < theta:
                optional_bound += bound[t]
            else:
                essential.append(t)
        if not essential:
            return _select(seed_docs, seed_vals, k, 1)
        # 3. candidates from the essential terms' postings, pruned by their upper bound
        ew: dict[int, float] = dict.fromkeys(essential, 0.0)  # their weights, repeats added
        for t, w in occ:
            if t in ew:
                ew[t] += w
        floor = theta / (1 + BOUND_SLACK) - optional_bound
        if len(essential) == 1:
            t = essential[0]
            s, e = span[t]
            partial = ew[t] * post_scores[s:e]
            keep = partial >= floor
            cand, partial = post_docs[s:e][keep], partial[keep]
        else:
            acc = self._buffer()
            parts = []
            for t in essential:
                s, e = span[t]
                d = post_docs[s:e]
                acc[d] += ew[t] * post_scores[s:e]
                parts.append(d)
            touched = np.concatenate(parts)
            cand = _distinct(touched[acc[touched] >= floor])
            partial = acc[cand]
            acc[touched] = 0.0
        # 3b. while many remain, tighten their bounds with the optional terms, largest bound
        #     first (frequent terms through their dense quantised rows: one gather each)
        if cand.shape[0] > REFINE_OVER:
            ow: dict[int, float] = {t: 0.0 for t in rest if t not in ew}
            for t, w in occ:
                if t in ow:
                    ow[t] += w
            remaining = optional_bound
            for t in sorted(ow, key=bound.__getitem__, reverse=True):
                if cand.shape[0] <= REFINE_OVER:
                    break
                remaining -= bound[t]
                r = int(self.dense_row[t])
                if r >= 0:
                    scale = ow[t] * float(self.term_max[t]) / 255.0
                    partial = partial + scale * self.dense[r][cand]
                else:
                    partial = partial + ow[t] * self._gather(t, cand, span[t])
                keep = (partial + max(remaining, 0.0)) * (1 + BOUND_SLACK) >= theta
                cand, partial = cand[keep], partial[keep]
        # 4. the survivors' exact scores (a seed may be among them: same doc, same score)
        vals = self._exact(cand, occ, span)
        return _select(np.concatenate((seed_docs, cand)), np.concatenate((seed_vals, vals)), k, 2)

    def _exact(
        self, docs: np.ndarray, occ: list[tuple[int, float]], span: dict[int, tuple[int, int]]
    ) -> np.ndarray:
        """Exact scores of sorted, distinct ``docs``: contributions summed in question order,
        as exhaustive scoring adds them (a passage without the term adds nothing)."""
        contrib = {t: self._gather(t, docs, span[t]) for t in dict.fromkeys(t for t, _ in occ)}
        total = np.zeros(docs.shape[0])
        for t, w in occ:
            c = contrib[t]
            total += c if w == 1.0 else w * c
        return total

    def _gather(self, t: int, docs: np.ndarray, span: tuple[int, int]) -> np.ndarray:
        """Term ``t``'s score in each of sorted, distinct ``docs`` (0 where absent)."""
        s, e = span
        post = self.post_docs[s:e]
        if e - s < docs.shape[0]:
            # fewer postings than passages asked for: each posting is looked for among them
            out = np.zeros(docs.shape[0])
            at = docs.searchsorted(post)
            np.minimum(at, docs.shape[0] - 1, out=at)
            there = docs.take(at) == post
            out[at[there]] = self.post_scores[s:e][there]
            return out
        r = int(self.dense_row[t])
        if r >= 0 and docs.shape[0] > DENSE_GATHER_OVER:
            # a frequent term: its dense row says which passages hold it (a positive score is
            # quantised to at least 1), so only those are searched for in its long list
            held = np.flatnonzero(self.dense[r].take(docs))
            out = np.zeros(docs.shape[0])
            sub = docs[held]
            at = post.searchsorted(sub)
            np.minimum(at, e - s - 1, out=at)
            out[held] = np.where(post[at] == sub, self.post_scores[s:e][at], 0.0)
            return out
        at = post.searchsorted(docs)
        np.minimum(at, e - s - 1, out=at)
        return np.where(post[at] == docs, self.post_scores[s:e][at], 0.0)

    def contains(self, term_id: int, docs: np.ndarray) -> np.ndarray:
        """Which of ``docs`` contain ``term_id`` (binary search in its sorted postings)."""
        s, e = int(self.post_ptr[term_id]), int(self.post_ptr[term_id + 1])
        post = self.post_docs[s:e]
        if post.size == 0:
            return np.zeros(docs.shape, dtype=bool)
        at = post.searchsorted(docs)
        np.minimum(at, post.size - 1, out=at)
        return post[at] == docs

    def contains_each(self, term_ids: Sequence[int], docs: np.ndarray) -> np.ndarray:
        """[term, doc]: which of ``docs`` contain each of ``term_ids`` (:meth:`contains`)."""
        out = np.zeros((len(term_ids), docs.shape[0]), dtype=bool)
        if _native_query is not None and docs.dtype == np.int32:  # the same, compiled
            _native_query.contains_each(
                self.post_ptr, self.post_docs, self.dense_row, self.dense, term_ids, docs, out
            )
            return out
        ptr, post_docs = self.post_ptr, self.post_docs
        dense_rows = self.dense_row[np.asarray(term_ids, dtype=np.int64)].tolist()
        for r, (t, d) in enumerate(zip(term_ids, dense_rows, strict=True)):
            if d >= 0:  # a frequent term: its dense row is nonzero where it occurs
                np.not_equal(self.dense[d].take(docs), 0, out=out[r])
                continue
            s, e = ptr[t : t + 2].tolist()
            if e > s:
                post = post_docs[s:e]
                # (positions past the end are clipped to the last posting, which then differs)
                np.equal(post.take(post.searchsorted(docs), mode="clip"), docs, out=out[r])
        return out

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

    ARRAYS = (
        "idf",
        "post_ptr",
        "post_docs",
        "post_scores",
        "doc_len",
        "term_max",
        "head_row",
        "heads",
        "dense_row",
        "dense",
    )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        vocab = TermVocab.of(self.vocab)
        np.save(folder / "vocab_keys.npy", vocab.keys_, allow_pickle=False)
        np.save(folder / "vocab_ids.npy", vocab.ids, allow_pickle=False)
        (folder / "vocab_long.json").write_text(json.dumps(vocab.long), encoding="utf-8")
        meta = {
            "avgdl": self.avgdl,
            "average_idf": self.average_idf,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "n_terms": len(vocab),
        }
        (folder / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in cls.ARRAYS
        }
        vocab = TermVocab(
            np.load(folder / "vocab_keys.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray),
            np.load(folder / "vocab_ids.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray),
            json.loads((folder / "vocab_long.json").read_text(encoding="utf-8")),
        )
        n_terms = meta["n_terms"]
        if (
            vocab.keys_.shape != vocab.ids.shape
            or len(vocab) != n_terms
            or arrays["post_ptr"].shape[0] != n_terms + 1
        ):
            raise ValueError("index vocabulary does not match its arrays")
        n_post = int(arrays["post_ptr"][-1])
        if arrays["post_docs"].shape[0] != n_post or arrays["post_scores"].shape[0] != n_post:
            raise ValueError("index postings are truncated")
        # plain ndarray views over the mapped files (slicing a np.memmap is slow): only the
        # pages that questions touch are ever read
        view = {name: a.view(np.ndarray) for name, a in arrays.items()}
        return cls(
            vocab=vocab,
            doc_len=np.array(arrays["doc_len"]),  # the accumulator's size, read at once
            **{name: view[name] for name in cls.ARRAYS if name != "doc_len"},
            avgdl=float(meta["avgdl"]),
            average_idf=float(meta["average_idf"]),
            k1=float(meta["k1"]),
            b=float(meta["b"]),
            epsilon=float(meta["epsilon"]),
        )


def _keys(term_ids: np.ndarray | list[np.ndarray], doc_len: np.ndarray) -> np.ndarray:
    """``term * n_docs + doc`` for every token, filled a piece at a time."""
    pieces = term_ids if isinstance(term_ids, list) else [term_ids]
    n_docs = int(doc_len.shape[0])
    keys = np.empty(sum(int(p.shape[0]) for p in pieces), dtype=np.int64)
    doc_start = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(doc_len, out=doc_start[1:])
    at = 0
    while pieces:
        piece = pieces.pop(0)
        if piece.shape[0] == 0:
            continue
        z = at + piece.shape[0]
        k = keys[at:z]
        k[:] = piece
        k *= n_docs
        # the doc of each token: tokens [doc_start[d], doc_start[d + 1]) belong to doc d
        d0 = int(np.searchsorted(doc_start, at, side="right")) - 1
        d1 = int(np.searchsorted(doc_start, z, side="left"))
        lens = np.minimum(doc_start[d0 + 1 : d1 + 1], z) - np.maximum(doc_start[d0:d1], at)
        k += np.repeat(np.arange(d0, d1, dtype=np.int64), lens)
        at = z
    return keys


def _contributions(
    post_ptr: np.ndarray,
    post_docs: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    idf: np.ndarray,
    avgdl: float,
    k1: float,
    b: float,
) -> np.ndarray:
    """Each posting's score, with BM25Okapi.get_scores's float64 operations (``idf * (tf *
    (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)))``, reordered only where IEEE arithmetic
    is commutative), a slice at a time so that the temporaries stay small."""
    out = np.empty(post_docs.shape[0])
    for a in range(0, post_docs.shape[0], SCORE_SLICE):
        z = min(a + SCORE_SLICE, post_docs.shape[0])
        f = tf[a:z].astype(np.float64)
        denom = doc_len[post_docs[a:z]].astype(np.float64)
        denom *= b
        denom /= avgdl
        denom += 1 - b
        denom *= k1
        denom += f
        f *= k1 + 1
        f /= denom
        f *= idf[np.searchsorted(post_ptr, np.arange(a, z), side="right") - 1]
        out[a:z] = f
    return out


def impact_heads(
    post_ptr: np.ndarray, post_docs: np.ndarray, post_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each term's largest score, and for terms in more than ``HEAD_MIN_DF`` passages their
    ``HEAD`` highest-scoring passages (what :meth:`BM25Index.top_k` seeds its k-th score with)."""
    n_terms = post_ptr.shape[0] - 1
    df = np.diff(post_ptr)
    term_max = np.zeros(n_terms)
    nonempty = df > 0
    if post_scores.size:
        term_max[nonempty] = np.maximum.reduceat(post_scores, post_ptr[:-1][nonempty])
    frequent = np.flatnonzero(df > max(HEAD_MIN_DF, HEAD))
    head_row = np.full(n_terms, -1, dtype=np.int32)
    head_row[frequent] = np.arange(frequent.size, dtype=np.int32)
    heads = np.zeros((frequent.size, HEAD), dtype=np.int32)
    for r, t in enumerate(frequent.tolist()):
        s, e = int(post_ptr[t]), int(post_ptr[t + 1])
        best = np.argpartition(post_scores[s:e], e - s - HEAD)[e - s - HEAD :]
        heads[r] = post_docs[s:e][best]
    return term_max, head_row, heads


def dense_rows(
    post_ptr: np.ndarray,
    post_docs: np.ndarray,
    post_scores: np.ndarray,
    term_max: np.ndarray,
    n_docs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """For the most frequent terms, a row over all passages of ``ceil(255 * score / max)``
    (an upper bound of the score in one byte, 0 where the term is absent; a term with a
    positive largest score has positive scores only, so the row is at least 1 wherever the
    term occurs: it also says which passages hold it)."""
    df = np.diff(post_ptr)
    frequent = np.flatnonzero((df >= max(1.0, DENSE_MIN_FRACTION * n_docs)) & (term_max > 0))
    frequent = frequent[np.argsort(-df[frequent], kind="stable")][:DENSE_MAX_ROWS]
    dense_row = np.full(df.shape[0], -1, dtype=np.int32)
    dense_row[frequent] = np.arange(frequent.size, dtype=np.int32)
    dense = np.zeros((frequent.size, n_docs), dtype=np.uint8)
    for r, t in enumerate(frequent.tolist()):
        s, e = int(post_ptr[t]), int(post_ptr[t + 1])
        q = np.ceil(post_scores[s:e] * (255.0 / term_max[t]))
        dense[r, post_docs[s:e]] = np.minimum(q, 255.0)
    return dense_row, dense


def _distinct(docs: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its overheads on small arrays)."""
    docs = np.sort(docs)
    if docs.shape[0] > 1:
        first = np.ones(docs.shape[0], dtype=bool)
        np.not_equal(docs[1:], docs[:-1], out=first[1:])
        docs = docs[first]
    return docs


def _select(docs: np.ndarray, vals: np.ndarray, k: int, repeats: int) -> tuple[np.ndarray, ...]:
    """The ``k`` best distinct docs by (-score, doc). A doc may be listed up to ``repeats``
    times, always with the same score."""
    n = docs.shape[0]
    m = k * repeats
    if n > m:
        # every entry at least as good as the m-th best: the top k docs and all their ties
        cut = np.partition(vals, n - m)[n - m]
        keep = vals >= cut
        docs, vals = docs[keep], vals[keep]
    order = np.lexsort((docs, -vals))
    docs, vals = docs[order], vals[order]
    if repeats > 1 and docs.shape[0] > 1:
        first = np.ones(docs.shape[0], dtype=bool)
        np.not_equal(docs[1:], docs[:-1], out=first[1:])
        docs, vals = docs[first], vals[first]
    return docs[:k], vals[:k]
