"""Answer quality on the question sets kept in tests/data (acceptance tier: the real corpus).

The floors are issue 8's thresholds (natural.jsonl: success@1 0.75, abstain accuracy 0.80;
its held-out even half: success@1 0.65), issue 22's where they hold (natural.jsonl: success@3
0.92, false-abstain 0.03; even half: success@3 0.90), and a little below what the path
measures elsewhere, so a change that makes answers worse fails here. (Issue 22 asks for
success@1 0.80 / 0.75 and abstain accuracy 0.85 too: not reached yet, see README.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluate import evaluate, load_questions

DATA = Path(__file__).resolve().parent / "data"


def metrics(engine, name, keep=lambda q: True):
    questions = [q for q in load_questions(DATA / name) if keep(q)]
    res = evaluate(engine.search, questions)
    return res.metrics(), res


def meets(m, s1, s3, false_abstain, abstain=0.0):
    assert m["success@1"] >= s1, m
    assert m["success@3"] >= s3, m
    assert m["false_abstain_rate"] <= false_abstain, m
    assert m["abstain_accuracy"] >= abstain, m


def test_natural_questions_as_people_type_them(engine):
    meets(metrics(engine, "natural.jsonl")[0], 0.75, 0.92, 0.03, 0.80)


def test_natural_questions_held_out_half(engine):
    # the even ids were never looked at while tuning (nor fitted on): the honest figure
    m, _ = metrics(engine, "natural.jsonl", keep=lambda q: int(q["id"][1:]) % 2 == 0)
    meets(m, 0.65, 0.90, 0.05)


def test_our_own_question_set_is_no_worse_than_before(engine):
    m, res = metrics(engine, "extra.jsonl")
    meets(m, 0.94, 0.99, 0.0)
    assert res.abstain_ok == res.unanswerable, m


@pytest.mark.parametrize(
    ("name", "floors"),
    [
        # 40 questions a helper wrote from the five articles and the set format alone (hard
        # paraphrases included); floors a little below what the path measures
        ("fresh.jsonl", (0.57, 0.70, 0.10, 0.70)),
        # 40 more, by a second helper: 0.73 / 0.83 / 0.03 / 0.60 when written, abstain 0.70
        # after the one fix that came from it
        ("heldout.jsonl", (0.70, 0.80, 0.05, 0.50)),
    ],
)
def test_questions_written_from_the_articles_alone(engine, name, floors):
    meets(metrics(engine, name)[0], *floors)


def test_hindi_english_questions_are_read_around_their_english_names(engine):
    # our own 12 (tests/data/hinglish.jsonl): romanized Hindi around English names, as readers
    # of these articles type ("INDUS-X kab launch hua tha?"); without data/hinglish.tsv 0.10 /
    # 0.10 with 9 of 10 abstained, with it 0.60 / 0.90
    meets(metrics(engine, "hinglish.jsonl")[0], 0.5, 0.8, 0.1)
