"""Answer quality on the question sets kept in tests/data (acceptance tier: the real corpus).

The floors are issue 8's thresholds (natural.jsonl: success@1 0.75, success@3 0.90,
false-abstain 0.05, abstain accuracy 0.80; its held-out even half: 0.65 / 0.85), and a little
below what the path measures elsewhere, so a change that makes answers worse fails here.
"""

from __future__ import annotations

from pathlib import Path

from bot.evaluate import evaluate, load_questions

DATA = Path(__file__).resolve().parent / "data"


def metrics(engine, name, keep=lambda q: True):
    questions = [q for q in load_questions(DATA / name) if keep(q)]
    res = evaluate(engine.search, questions)
    return res.metrics(), res


def test_natural_questions_as_people_type_them(engine):
    m, _ = metrics(engine, "natural.jsonl")
    assert m["success@1"] >= 0.75, m
    assert m["success@3"] >= 0.90, m
    assert m["false_abstain_rate"] <= 0.05, m
    assert m["abstain_accuracy"] >= 0.80, m


def test_natural_questions_held_out_half(engine):
    # the even ids were never looked at while tuning: this is the honest figure
    m, _ = metrics(engine, "natural.jsonl", keep=lambda q: int(q["id"][1:]) % 2 == 0)
    assert m["success@1"] >= 0.65, m
    assert m["success@3"] >= 0.85, m
    assert m["false_abstain_rate"] <= 0.05, m


def test_our_own_question_set_is_no_worse_than_before(engine):
    m, res = metrics(engine, "extra.jsonl")
    assert m["success@1"] >= 0.94, m
    assert m["success@3"] >= 0.99, m
    assert res.abstain_ok == res.unanswerable, m


def test_fresh_questions_written_from_the_articles_alone(engine):
    # 40 questions a helper wrote from the five articles and the set format alone (hard
    # paraphrases included); floors a little below what the path measures
    m, _ = metrics(engine, "fresh.jsonl")
    assert m["success@1"] >= 0.57, m
    assert m["success@3"] >= 0.70, m
    assert m["false_abstain_rate"] <= 0.10, m
    assert m["abstain_accuracy"] >= 0.70, m


def test_held_out_questions_written_from_the_articles_alone(engine):
    # 40 more, by a second helper, measured but never tuned on: 0.73 / 0.83 / 0.03 / 0.60
    m, _ = metrics(engine, "heldout.jsonl")
    assert m["success@1"] >= 0.70, m
    assert m["success@3"] >= 0.80, m
    assert m["false_abstain_rate"] <= 0.05, m
    assert m["abstain_accuracy"] >= 0.50, m
