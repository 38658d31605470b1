"""Chunked index building: term ids as a single pass hands them out, whatever the chunking."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from bot import analysis, builder
from bot.analysis import TermIds, terms

WORDS = [
    "radar", "radars", "Navy", "navies", "INDUS-X", "MH 60R", "the", "of", "U.S.", "drone",
    "drones", "O'Neil", "co-production", "2025-2035", "defence", "defense", "signed", "deal",
    "Raïssa", "India’s", "naïve",  # not ASCII: the compiled pass leaves these texts to the regex
]  # fmt: skip


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def _reference(texts: list[str]) -> tuple[list[str], list[int], list[int]]:
    """One pass: ids in order of first appearance."""
    vocab: dict[str, int] = {}
    ids: list[int] = []
    lens: list[int] = []
    for text in texts:
        ts = terms(text)
        ids.extend(vocab.setdefault(t, len(vocab)) for t in ts)
        lens.append(len(ts))
    return list(vocab), ids, lens


@pytest.fixture(params=["compiled", "python"])
def native(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the compiled indexing pass (bot/_native.c) and without it."""
    if request.param == "python":
        monkeypatch.setattr(analysis, "_native", None)
    elif analysis._native is None:
        pytest.skip("bot._native not built")
    return request.param


@pytest.mark.parametrize("max_words", [0, 3, 1_000])
def test_chunk_ids_follow_first_appearance(max_words: int, native: str) -> None:
    tids = TermIds(max_words=max_words)  # shared by the chunks, as in a worker
    for seed in range(4):
        texts = _texts(30, seed)
        order, ids, lens, one_term = tids.chunk(texts)
        vocab = [tids.terms[i] for i in order.tolist()]
        assert (vocab, ids.tolist(), lens.tolist()) == _reference(texts)
        for word, t in one_term.items():
            assert [vocab[t]] == terms(word)


def test_parallel_build_equals_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    rng = random.Random(7)
    for i in range(24):
        paras = [" ".join(rng.choice(WORDS) for _ in range(12)) + "." for _ in range(3)]
        (tmp_path / f"{i:03d}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    monkeypatch.setattr(builder, "FILES_PER_CHUNK", 5)
    monkeypatch.setattr(builder, "PARALLEL_OVER_FILES", 1_000)
    one, store_one, _ = builder.build_from_folder(tmp_path, 1 << 20)
    monkeypatch.setattr(builder, "PARALLEL_OVER_FILES", 0)
    par, store_par, _ = builder.build_from_folder(tmp_path, 1 << 20)
    assert dict(one.vocab) == dict(par.vocab)
    for name in ("post_ptr", "post_docs", "post_scores", "doc_len", "idf"):
        assert np.array_equal(getattr(one, name), getattr(par, name)), name
    assert list(store_one.spell.words) == list(store_par.spell.words)
    assert np.array_equal(store_one.spell.keys, store_par.spell.keys)
