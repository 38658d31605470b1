"""The question path's compiled helpers (bot/_native_query.c: passages' leads and antecedents,
and how the candidates hold the question's words) give what the numpy code gives.

(The compiled top k is tested against brute force in tests/test_index.py.)"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bot import index, search, store

from .search_fixtures import DATA

native = search._native_query


def test_the_extension_is_built() -> None:
    """`pip install -e .` compiles it here: without it every question would quietly take the
    slower numpy code and the comparisons below would check nothing."""
    assert native is not None and store._native_query is not None


def _questions() -> list[str]:
    out = []
    for name in ("natural", "dev", "extra", "fresh", "heldout"):
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["question"])
    return out


@pytest.mark.skipif(native is None, reason="bot._native_query not built")
def test_leads_and_antecedents_are_the_numpys(engine) -> None:
    st = engine.searcher.store
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 30, len(st)):
        docs = np.sort(rng.choice(len(st), n, replace=False)).astype(np.int32)
        lead, ante = st._related(docs)
        assert st.with_related(docs).tolist() == [*docs.tolist(), *lead.tolist(), *ante.tolist()]
    # some passages point back to the one before (a pronoun opens them); the first of a file
    # is its own lead
    everything = np.arange(len(st), dtype=np.int32)
    lead, ante = st._related(everything)
    assert (ante != everything).any() and (lead == everything).any()


@pytest.mark.skipif(native is None, reason="bot._native_query not built")
def test_antecedents_stay_in_their_file() -> None:
    """Random files of random passages, any of which may point back (also the first of a
    file, whose passage before is of another file: it is then its own antecedent)."""
    rng = np.random.default_rng(4)
    for _ in range(50):
        sizes = rng.integers(1, 5, rng.integers(1, 8))
        file_idx = np.repeat(np.arange(sizes.size), sizes).astype(np.int32)
        fake = SimpleNamespace(
            _file_idx=file_idx,
            _points_back=rng.random(file_idx.size) < 0.5,
            _file_start=np.searchsorted(file_idx, np.arange(sizes.size), "left"),
        )
        docs = np.arange(file_idx.size, dtype=np.int32)
        out = np.empty(3 * docs.size, dtype=np.int32)
        native.with_related(fake._file_idx, fake._points_back, fake._file_start, docs, out)
        lead, ante = store.PassageStore._related(fake, docs)  # type: ignore[arg-type]
        assert out.tolist() == [*docs.tolist(), *lead.tolist(), *ante.tolist()]
    with pytest.raises(IndexError):  # a passage outside the store
        native.with_related(fake._file_idx, fake._points_back, fake._file_start,
                            np.array([file_idx.size], np.int32), np.empty(3, np.int32))  # fmt: skip


@pytest.mark.skipif(native is None, reason="bot._native_query not built")
def test_evidence_is_the_numpys(engine, monkeypatch) -> None:
    """Every question of the question sets, and follow-ups with carried words: the same
    coverage, ranking coverage, article selection and completeness, bit for bit."""
    s = engine.searcher
    plans = [s.plan(q) for q in _questions()]
    plans += [s.plan("and when?", ["Misri", "Hicks"]), s.plan("where?", ["LEMOA"])]
    work = []
    for plan in plans:
        if plan.ids:
            docs, _ = s.index.top_k(plan.ids, plan.weights, search.CANDIDATES)
            if docs.size:
                work.append((plan, docs))
    assert len(work) > 200
    assert any(any(w.selects_article for w in p.words) for p, _ in work)

    def evidence() -> list[tuple[list, ...]]:
        out = []
        for plan, docs in work:
            e = s._evidence(plan, docs)
            out.append((e.coverage, e.topical, e.selected, e.complete))
        return out

    compiled = evidence()
    with monkeypatch.context() as m:
        m.setattr(search, "_native_query", None)
        m.setattr(store, "_native_query", None)
        m.setattr(index, "_native_query", None)
        assert evidence() == compiled
