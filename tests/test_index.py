"""The index on small synthetic corpora: BM25 parameters, and exact top-k with pruning.

``BM25Index.top_k`` must rank exactly as exhaustive scoring does (rank-bm25's ``get_scores``
for unit weights, a dense numpy sum of weighted contributions otherwise), ties by lower doc id,
whatever shortcuts it takes. The "tight" setting shrinks every threshold, so that on these small
corpora the pruning paths (seeding, optional terms, dense-row refinement) all run.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot import index as index_mod
from bot.index import BM25Index


def zipf_corpus(seed: int, n_docs: int, n_words: int, dup_every: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_words)])
    p = 1.0 / np.arange(1, n_words + 1) ** 1.1
    p /= p.sum()
    docs = [list(words[rng.choice(n_words, size=rng.integers(3, 40), p=p)]) for _ in range(n_docs)]
    if dup_every:  # identical passages: equal scores, ranked by doc id
        for i in range(dup_every, n_docs, dup_every):
            docs[i] = list(docs[i - dup_every])
    return docs


@pytest.fixture(params=["compiled", "python", "tight"])
def tuning(request, monkeypatch) -> str:
    """The default thresholds with the compiled top k (bot/_native_query.c) and without it
    (numpy); and "tight", every threshold of the numpy pruning shrunk (the compiled top k
    off)."""
    if request.param == "compiled" and index_mod._native_query is None:
        pytest.skip("bot._native_query not built")
    if request.param == "python":
        monkeypatch.setattr(index_mod, "_native_query", None)
    if request.param == "tight":
        monkeypatch.setattr(index_mod, "NATIVE_POSTINGS", -1)
        monkeypatch.setattr(index_mod, "SMALL_POSTINGS", 0)
        monkeypatch.setattr(index_mod, "HEAD", 4)
        monkeypatch.setattr(index_mod, "HEAD_MIN_DF", 8)
        monkeypatch.setattr(index_mod, "SEED_POSTINGS", 40)
        monkeypatch.setattr(index_mod, "DENSE_MIN_FRACTION", 0.05)
        monkeypatch.setattr(index_mod, "REFINE_OVER", 4)
        monkeypatch.setattr(index_mod, "DENSE_GATHER_OVER", 0)
    return request.param


def brute_force(docs, ref: BM25Okapi, terms, weights, k):
    """Exhaustive: every passage scored, contributions summed in question order."""
    total = np.zeros(len(docs))
    for t, w in zip(terms, weights, strict=True):
        c = ref.get_scores([t])  # one term: exactly its contribution to each passage
        total += c if w == 1.0 else w * c
    holds = np.array([any(t in d for t, w in zip(terms, weights, strict=True) if w) for d in docs])
    ids = np.flatnonzero(holds)
    order = ids[np.lexsort((ids, -total[ids]))][:k]
    return order, total[order]


def assert_same(got, want):
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()  # bit for bit


def test_top_k_equals_rank_bm25_get_scores_ranking(tuning):
    docs = zipf_corpus(1, 600, 300, dup_every=7)
    idx = BM25Index.build(docs)
    ref = BM25Okapi(docs, k1=idx.k1, b=idx.b, epsilon=idx.epsilon)
    rng = random.Random(2)
    vocab = sorted(idx.vocab)
    for _ in range(120):
        d = docs[rng.randrange(len(docs))]
        q = rng.sample(d, min(len(d), rng.randint(1, 6)))
        q += [rng.choice(vocab) for _ in range(rng.randint(0, 2))]  # words of other passages
        if rng.random() < 0.3:
            q.append(q[0])  # repeated words count again
        k = rng.choice([1, 3, 10, 30, 50])
        got = idx.top_k([idx.vocab[t] for t in q], None, k)
        scores = ref.get_scores(q)
        holds = np.flatnonzero([any(t in doc for t in q) for doc in docs])
        want = holds[np.lexsort((holds, -scores[holds]))][:k]
        assert got[0].tolist() == want.tolist(), q
        assert got[1].tolist() == scores[want].tolist(), q


def test_top_k_with_weights_ties_and_frequent_words_equals_brute_force(tuning):
    docs = zipf_corpus(3, 800, 120, dup_every=5)
    idx = BM25Index.build(docs)
    ref = BM25Okapi(docs, k1=idx.k1, b=idx.b, epsilon=idx.epsilon)
    rng = random.Random(4)
    by_df = sorted(idx.vocab, key=lambda t: -idx.df(idx.vocab[t]))
    for i in range(150):
        if i % 3 == 0:  # every word frequent (in a large share of the passages)
            q = [rng.choice(by_df[:8]) for _ in range(rng.randint(2, 6))]
        else:
            q = [rng.choice(by_df) for _ in range(rng.randint(2, 7))]
        w = [rng.choice([1.0, 1.0, 0.5, 0.8, 2.0, 0.0, 1 / 3]) for _ in q]
        k = rng.choice([1, 3, 30, 50, 1000])
        got = idx.top_k([idx.vocab[t] for t in q], w, k)
        assert_same(got, brute_force(docs, ref, q, w, k))


def test_negative_weights_large_k_and_ties_rank_as_brute_force(tuning):
    """Weights below zero (exhaustive in numpy, compiled or not), ``k`` past the passages that
    hold any term, and identical passages (equal scores: the lower doc id first)."""
    docs = zipf_corpus(9, 300, 60, dup_every=3)
    idx = BM25Index.build(docs)
    ref = BM25Okapi(docs, k1=idx.k1, b=idx.b, epsilon=idx.epsilon)
    rng = random.Random(10)
    vocab = sorted(idx.vocab)
    for _ in range(60):
        q = [rng.choice(vocab) for _ in range(rng.randint(1, 5))]
        w = [rng.choice([1.0, -0.5, 2.5, -1.0, 0.25]) for _ in q]
        k = rng.choice([1, 2, 5, 10_000])
        got = idx.top_k([idx.vocab[t] for t in q], w, k)
        assert_same(got, brute_force(docs, ref, q, w, k))


def test_a_term_in_every_passage_and_more_rank_as_brute_force(tuning):
    """Every passage touched by the first term, then more postings (the compiled top k's list
    of touched passages is full)."""
    docs = [["a"] + [f"w{i % 5}"] * (1 + i % 3) for i in range(40)]
    idx = BM25Index.build(docs)
    ref = BM25Okapi(docs, k1=idx.k1, b=idx.b, epsilon=idx.epsilon)
    for q in (["a", "w1", "w3"], ["w2", "a", "a"], ["a"]):
        for k in (1, 7, 40, 100):
            got = idx.top_k([idx.vocab[t] for t in q], None, k)
            assert_same(got, brute_force(docs, ref, q, [1.0] * len(q), k))


def test_the_compiled_top_k_is_built() -> None:
    """`pip install -e .` compiles it here (the machine has a C compiler): without it every
    question would quietly take the slower numpy sum and the "compiled" tests would skip."""
    assert index_mod._native_query is not None


def test_the_compiled_top_k_rejects_a_passage_outside_the_index() -> None:
    """A damaged postings array is an error, never a write outside the accumulator; the work
    buffers stay zeroed."""
    native = index_mod._native_query
    if native is None:
        pytest.skip("bot._native_query not built")
    acc, mark, touched = np.zeros(4), np.zeros(4, np.uint16), np.zeros(5, np.int32)
    out = (np.empty(2, np.int32), np.empty(2))
    # two terms: passages 1, 7 (outside) and 2
    ptr, term_max = np.array([0, 2, 3], np.int64), np.array([2.0, 3.0])
    post_docs, post_scores = np.array([1, 7, 2], np.int32), np.array([1.0, 2.0, 3.0])
    arrays = (ptr, post_docs, post_scores, term_max)
    with pytest.raises(ValueError):
        native.rank(*arrays, [1, 0], None, acc, mark, touched, *out, 100)
    assert not acc.any() and not mark.any()
    assert native.rank(*arrays, [1], [2.0], acc, mark, touched, *out, 100) == 1
    assert out[0][:1].tolist() == [2] and out[1][:1].tolist() == [6.0]
    # a term outside the vocabulary, or more postings than asked for: left to the numpy code
    assert native.rank(*arrays, [2], None, acc, mark, touched, *out, 100) == -1
    assert native.rank(*arrays, [1, 0], None, acc, mark, touched, *out, 2) == -1


def test_gather_finds_each_terms_score_whichever_list_is_searched(monkeypatch):
    """A term's scores at sorted passages: by searching its postings, by looking its postings
    up among the passages (fewer postings), or through its dense row (a frequent term)."""
    docs = zipf_corpus(5, 700, 150)
    idx = BM25Index.build(docs)
    rng = np.random.default_rng(6)
    dense_terms = np.flatnonzero(idx.dense_row >= 0).tolist()
    assert dense_terms
    terms = dense_terms + rng.choice(len(idx.vocab), 30, replace=False).tolist()
    for t in terms:
        s, e = int(idx.post_ptr[t]), int(idx.post_ptr[t + 1])
        want = np.zeros(idx.n_docs)
        want[idx.post_docs[s:e]] = idx.post_scores[s:e]
        for n in (1, 5, 60, 400, 700):
            at = np.sort(rng.choice(idx.n_docs, n, replace=False)).astype(np.int32)
            for over in (0, 10**9):
                monkeypatch.setattr(index_mod, "DENSE_GATHER_OVER", over)
                assert idx._gather(t, at, (s, e)).tolist() == want[at].tolist()


@pytest.mark.parametrize("compiled", [True, False])
def test_contains_each_agrees_with_the_postings(compiled, monkeypatch):
    """Which passages hold a term: binary search in its postings, or its dense row (in C, or
    in numpy)."""
    if not compiled:
        monkeypatch.setattr(index_mod, "_native_query", None)
    elif index_mod._native_query is None:
        pytest.skip("bot._native_query not built")
    docs = zipf_corpus(7, 500, 100)
    idx = BM25Index.build(docs)
    assert (idx.dense_row >= 0).any()
    rng = np.random.default_rng(8)
    terms = rng.permutation(len(idx.vocab)).tolist()
    # (passage numbers as the postings hold them; the first and last passages too)
    probe = np.concatenate(([0, idx.n_docs - 1], rng.integers(0, idx.n_docs, 90))).astype(np.int32)
    held = idx.contains_each(terms, probe)
    for r, t in enumerate(terms):
        s, e = int(idx.post_ptr[t]), int(idx.post_ptr[t + 1])
        assert held[r].tolist() == np.isin(probe, idx.post_docs[s:e]).tolist()
        assert held[r].tolist() == idx.contains(t, probe).tolist()


def test_top_k_is_the_best_first_prefix_of_score(tuning):
    docs = zipf_corpus(5, 500, 200)
    idx = BM25Index.build(docs)
    q = [idx.vocab[t] for t in ("w0", "w1", "w7", "w30")]
    docs_all, scores_all = idx.score(q, [1.0, 0.5, 1.0, 2.0])
    ranked = sorted(
        set(zip(docs_all.tolist(), scores_all.tolist(), strict=True)), key=lambda x: (-x[1], x[0])
    )
    got = idx.top_k(q, [1.0, 0.5, 1.0, 2.0], 40)
    assert list(zip(got[0].tolist(), got[1].tolist(), strict=True)) == ranked[:40]


def test_top_k_of_nothing_is_empty():
    idx = BM25Index.build([["a", "b"], ["b", "c"], ["d"]])
    assert idx.top_k([], None, 3)[0].size == 0
    assert idx.top_k([idx.vocab["a"]], [0.0], 3)[0].size == 0
    assert idx.top_k([idx.vocab["a"]], None, 0)[0].size == 0
    docs, scores = idx.top_k([idx.vocab["b"]], None, 10)
    assert docs.tolist() == [0, 1] and scores[0] == scores[1]  # a tie: lower doc id first


@pytest.mark.parametrize(("k1", "b", "epsilon"), [(1.2, 0.3, 0.25), (2.0, 1.0, 0.1)])
def test_bm25_parameters_are_used_and_saved(tmp_path, k1, b, epsilon):
    docs = zipf_corpus(7, 300, 80)
    idx = BM25Index.build(docs, k1=k1, b=b, epsilon=epsilon)
    ref = BM25Okapi(docs, k1=k1, b=b, epsilon=epsilon)
    assert not np.array_equal(
        BM25Index.build(docs).scores_dense(["w3", "w40"]), ref.get_scores(["w3", "w40"])
    )
    idx.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert (loaded.k1, loaded.b, loaded.epsilon) == (k1, b, epsilon)
    rng = random.Random(8)
    for _ in range(30):
        q = rng.sample(sorted(idx.vocab), 3)
        assert np.array_equal(loaded.scores_dense(q), ref.get_scores(q))
        assert_same(
            loaded.top_k([loaded.vocab[t] for t in q], None, 5),
            brute_force(docs, ref, q, [1.0] * 3, 5),
        )


def test_a_saved_vocabulary_finds_every_term_and_no_other(tmp_path):
    words = ["a", "zz", "ab", "abc", "éclair", "naïve", "x" * 40, "y" * 24, "b"]
    docs = [words[i : i + 3] for i in range(len(words))]
    idx = BM25Index.build(docs)
    idx.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert len(loaded.vocab) == len(idx.vocab)
    assert dict(loaded.vocab.items()) == idx.vocab
    for w in words:
        assert w in loaded.vocab and loaded.vocab[w] == idx.vocab[w]
    for other in ["", "abcd", "x" * 39, "x" * 41, "y" * 25, "eclair", "aa"]:
        assert other not in loaded.vocab and loaded.vocab.get(other) is None
    assert (
        loaded.scores_dense(["éclair", "b"]).tolist() == idx.scores_dense(["éclair", "b"]).tolist()
    )
