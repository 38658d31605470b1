"""The compiled indexing helpers (bot/_native.c) give what the Python code gives."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import analysis, spelling
from bot.analysis import _TOKEN_RE

native = analysis._native
CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# text made of the pieces the tokenizer's alternatives turn on: joiners, spaces, capitals,
# digits, "United States" and spaced model designations, with their near misses
PIECES = st.sampled_from(
    list("aZu_09 '`-+./&,;(\t")
    + ["United States", "united states", "United  States", "United Statesx", "Unitedstates"]
    + ["MH 60R", "P 8I", "MQ 9Bs", "ABCDE 60", "AB 12abcd", "A 1-", "A 1_", "x.MH 60", "US"]
)


def test_the_extension_is_built() -> None:
    """`pip install -e .` compiles it here (the machine has a C compiler): without it the
    build would quietly run the slower Python pass and the tests below would check nothing."""
    assert native is not None


@pytest.mark.skipif(native is None, reason="bot._native not built")
@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_ascii_words_are_the_patterns(text: str) -> None:
    assert native.words(text) == _TOKEN_RE.findall(text)


@pytest.mark.skipif(native is None, reason="bot._native not built")
def test_words_of_the_articles() -> None:
    for path in sorted(CORPUS.glob("*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            got = native.words(line)
            if got is None:  # not ASCII: left to the pattern
                assert not line.isascii()
            else:
                assert got == _TOKEN_RE.findall(line)


@pytest.mark.skipif(native is None, reason="bot._native not built")
def test_bad_input_is_an_error_not_a_crash() -> None:
    with pytest.raises(TypeError):
        native.words(b"bytes")
    table = native.WordTable(10)
    with pytest.raises(TypeError):  # a word's ids must be a tuple
        table.chunk_ids(["x"], lambda w: [1], _TOKEN_RE.findall)
    with pytest.raises(TypeError):
        table.chunk_ids([3], lambda w: (), _TOKEN_RE.findall)
    with pytest.raises(ZeroDivisionError):  # an error in the callback comes through
        table.chunk_ids(["new"], lambda w: 1 / 0, _TOKEN_RE.findall)
    with pytest.raises(ValueError):
        native.first_appearance(np.array([0, 5], np.int32).tobytes(), 5)
    assert len(table) == 0  # nothing half-kept
    ids, lens = table.chunk_ids(["a b a", "b"], lambda w: (ord(w),), _TOKEN_RE.findall)
    assert np.frombuffer(ids, np.int32).tolist() == [97, 98, 97, 98]
    assert np.frombuffer(lens, np.int32).tolist() == [3, 1]
    assert len(table) == 2
    texts = ["new words", "more"]
    with pytest.raises(RuntimeError):  # the callback emptied the list being read
        table.chunk_ids(texts, lambda w: texts.clear() or (1,), _TOKEN_RE.findall)


@pytest.mark.skipif(native is None, reason="bot._native not built")
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("abcdeéxyz", min_size=1, max_size=24), max_size=30))
def test_spelling_delete_keys_are_the_pythons(words: list[str]) -> None:
    got = native.delete_keys(words)
    if not all(w.isascii() for w in words):
        assert got is None  # left to spelling._keys
        return
    keys = np.frombuffer(got[0], dtype=np.int64).tolist()
    counts = np.frombuffer(got[1], dtype=np.int64).tolist()
    want = [sorted(spelling._keys(w)) for w in words]
    assert counts == [len(k) for k in want]
    assert keys == [k for ks in want for k in ks]


@pytest.mark.skipif(native is None, reason="bot._native not built")
@pytest.mark.parametrize("max_words", [100, 1_000_000])
def test_many_words_give_the_python_passs_ids(
    max_words: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of distinct words (the table grows and rehashes; with a small ``max_words``
    most words are not kept and are asked for again): the same ids as the Python pass."""
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 9))) for _ in range(6000)]
    words += ["Zoë", "naïve-ish", "MH 60R", "U.S.", "co-op"]
    chunks = [[" ".join(rng.choices(words, k=30)) for _ in range(200)] for _ in range(3)]

    def run() -> list[tuple[list[int], list[int], list[int], dict[str, int]]]:
        tids = analysis.TermIds(max_words=max_words)
        out = []
        for texts in chunks:
            order, ids, lens, one_term = tids.chunk(texts)
            out.append(([tids.terms[i] for i in order], ids.tolist(), lens.tolist(), one_term))
        return out

    compiled = run()
    monkeypatch.setattr(analysis, "_native", None)
    assert compiled == run()
