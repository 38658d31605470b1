"""The sentence model (bot/dense.py) and the learned candidate order (bot/ranker.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.dense import MAX_TOKENS, VOCAB_FILE, WordPiece, load_embedder
from bot.engine import open_engine
from bot.ranker import Ranker, feature_names, fit_logistic, load_ranker

from .search_fixtures import CORPUS_DIR

DATA = Path(__file__).parent / "data"


def corpus_lines() -> list[str]:
    return [
        line
        for f in sorted(CORPUS_DIR.glob("*.txt"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_tokenizer_gives_hugging_faces_ids():
    tokenizers = pytest.importorskip("tokenizers")
    theirs = tokenizers.BertWordPieceTokenizer(str(VOCAB_FILE), lowercase=True)
    theirs.enable_truncation(MAX_TOKENS)
    ours = WordPiece()
    questions = [
        json.loads(line)["question"]
        for line in (DATA / "natural.jsonl").read_text("utf-8").splitlines()
    ]
    tricky = [
        "naïve café — “quotes” 北京 😀 zero\u200bwidth",
        "x" * 150,
        "COMCASA's 2+2 dialogue… P-8I, MQ-9B!",
        "\x00control\ufffd\tchars\r\n",
        "Ünïcödé ÀÉÎÕÜ ßẞ ﬁ",
    ]
    texts = corpus_lines() + questions + tricky
    differ = [t for t in texts if ours.encode(t) != theirs.encode(t).ids]
    assert not differ, differ[:3]


@pytest.fixture(scope="module")
def embedder():
    e = load_embedder("auto")
    if e is None:
        pytest.skip("the sentence model is not installed")
    return e


def test_a_paraphrase_is_nearer_than_an_unrelated_sentence(embedder):
    q, para, other = embedder.embed(
        [
            "Who hosted the Indian visitor?",
            "The deputy secretary welcomed the foreign secretary at the Pentagon.",
            "Share prices fell sharply on Tuesday.",
        ]
    )
    assert float(q @ para) > float(q @ other) + 0.2
    assert np.allclose(np.linalg.norm([q, para, other], axis=1), 1, atol=1e-4)


def test_embedding_does_not_depend_on_the_batch(embedder):
    texts = corpus_lines()[:20]
    alone = np.vstack([embedder.embed([t]) for t in texts])
    together = embedder.embed(texts)
    assert np.allclose(alone, together, atol=1e-4)


def test_dense_setting_is_checked():
    with pytest.raises(ConfigError, match="DENSE"):
        load_settings({"DENSE": "maybe"}, dotenv=Path("/nonexistent"))
    assert load_settings({"DENSE": "OFF"}, dotenv=Path("/nonexistent")).dense == "off"
    with pytest.raises(ValueError):
        load_embedder("sometimes")


def test_saved_index_keeps_its_vectors_and_off_means_bm25_only(tmp_path, embedder):
    settings = dataclasses.replace(Settings(), index_dir=tmp_path / "index")
    built = open_engine(CORPUS_DIR, settings)
    assert built.searcher.dense is not None and not built.from_cache
    loaded = open_engine(CORPUS_DIR, settings)
    assert loaded.from_cache
    assert np.array_equal(loaded.searcher.dense.vectors, built.searcher.dense.vectors)
    off = open_engine(CORPUS_DIR, dataclasses.replace(settings, dense="off"))
    assert off.searcher.dense is None
    assert off.searcher.ranker.names == feature_names(False)
    question = "When was INDUS-X launched?"
    assert off.search(question) and loaded.search(question)


def test_too_many_passages_for_the_model_means_bm25_only(tmp_path):
    settings = dataclasses.replace(
        Settings(), index_dir=tmp_path / "index", dense="on", dense_max_passages=3
    )
    assert open_engine(CORPUS_DIR, settings).searcher.dense is None


def test_a_question_in_other_words_finds_its_passage(engine, embedder):
    # no content word of the question is in the passage that answers it
    hits = engine.search("Which Pentagon official received India's top diplomat in September?")
    assert any("Hicks welcomed Indian Foreign Secretary" in h.text for h in hits), hits


def test_logistic_fit_finds_the_separating_feature():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] > 0.3).astype(float)
    w, b = fit_logistic(x, y, l2=0.01)
    assert abs(w[1]) > 5 * max(abs(w[0]), abs(w[2]))
    r = Ranker(("a", "b", "c"), w, b)
    assert np.mean((r.score(x) > 0) == (y > 0)) > 0.95


def test_weights_for_other_features_are_refused(tmp_path):
    bad = tmp_path / "ranker.json"
    bad.write_text(json.dumps({"bm25": {"features": ["x"], "weights": [1], "bias": 0}}))
    with pytest.raises(ValueError, match="refit"):
        load_ranker(False, bad)


def held_out_off_topic() -> list[str]:
    """The even half of tests/data/offtopic.jsonl (the odd half fits the gate)."""
    rows = [json.loads(x) for x in (DATA / "offtopic.jsonl").read_text("utf-8").splitlines()]
    return [q["question"] for q in rows if int(q["id"][1:]) % 2 == 0]


def test_off_topic_questions_get_no_quote_in_any_tier(engine):
    questions = held_out_off_topic() + ["What is the capital of France?"]
    assert len(questions) >= 20
    quoted = {}
    for q in questions:
        got = engine.answer(q)
        if got.hits or got.related:
            quoted[q] = [h.text[:60] for h in got.hits or got.related]
    assert not quoted, quoted


def test_an_answerable_question_still_passes_the_gate(engine):
    # the gate closes on off-topic questions, not on short ones about the articles
    for q in ("What is LEMOA?", "when was indus x launched", "hegseth jaishankar pentagon"):
        assert engine.search(q), q


def test_the_lean_model_gives_the_same_vectors_bit_for_bit(tmp_path, embedder):
    """bot/onnxlean.py: embedding rows looked up in int8, the matrices folded by numpy; kept
    in the cache folder, made once, made again if damaged."""
    from bot.dense import Embedder

    texts = corpus_lines()[:24] + ["Who hosted the Indian visitor?", "x"]
    lean = Embedder(cache_dir=tmp_path)
    (made,) = tmp_path.glob("minilm-lean-*.onnx")
    shipped = Embedder()  # (no cache folder: as shipped)
    assert np.array_equal(lean.embed(texts), shipped.embed(texts))
    stamp = made.stat().st_mtime_ns
    Embedder(cache_dir=tmp_path)  # reused, not made again
    assert made.stat().st_mtime_ns == stamp
    made.write_bytes(b"damaged")
    again = Embedder(cache_dir=tmp_path)  # loaded as shipped, the file removed
    assert np.array_equal(again.embed(texts[:3]), shipped.embed(texts[:3]))
    assert not made.exists()
