"""Floors on the follow-up conversation sets, as ``python -m bot eval`` scores them.

``tests/data/followups.jsonl`` (the five articles) and ``tests/data/squad/followups.jsonl``
(twelve SQuAD Wikipedia articles): pronouns, ellipses, "more on that", why/who about the quote,
subject changes and unanswerable follow-ups. Tuned on the odd ids; the floors sit a little
below what the even half reached (README, "Follow-ups"), and both halves must hold them.
"""

from __future__ import annotations

import pytest

from bot.conversation import Conversation
from bot.evaluate import evaluate, read_set

from .search_fixtures import DATA

# (set, engine fixture): success@1, success@3, abstain accuracy (over the whole set: each
# half holds only 3-5 unanswerable turns) at least; false abstain at most
FLOORS = {
    "followups.jsonl": ("engine", 0.72, 0.90, 0.35, 0.05),
    "squad/followups.jsonl": ("squad_engine", 0.68, 0.88, 0.25, 0.05),
}


@pytest.mark.parametrize("half", ["odd", "even", "all"])
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_follow_up_sets_hold_their_floors(request, name, half):
    fixture, s1, s3, abstain, false_abstain = FLOORS[name]
    engine = request.getfixturevalue(fixture)
    res = evaluate(
        engine.search, read_set(DATA / name, half), conversation=lambda: Conversation(engine)
    )
    m = res.metrics()
    got = {k: round(v, 2) for k, v in m.items() if v is not None}
    assert res.answerable >= 30 and res.unanswerable >= 3, got
    assert m["success@1"] >= s1 and m["success@3"] >= s3, (got, [q["id"] for q in res.missed])
    assert m["false_abstain_rate"] <= false_abstain, got
    if half == "all":
        assert m["abstain_accuracy"] >= abstain, got


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("who discovered oxygen", "what does the sieve of eratosthenes do"),
        ("when did the warsaw uprising start", "what causes inflammation"),
        ("what is phagocytosis", "how tall is mount everest"),  # off the articles' topic
    ],
)
def test_a_change_of_subject_does_not_drag_the_old_one_along(squad_engine, first, then):
    chat = Conversation(squad_engine)
    assert chat.ask(first).hits
    answer = chat.ask(then)
    assert answer.reading.carried == ()
    assert answer.hits == squad_engine.search(then)
