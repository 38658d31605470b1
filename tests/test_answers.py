"""Answer types: the kind of span a question asks for, and where it stands in a sentence."""

from __future__ import annotations

import pytest

from bot.analysis import terms
from bot.answers import answer_spans
from bot.query import answer_type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the lighthouse rebuilt?", "date"),
        ("what year did the keeper retire", "year"),
        ("what date did the keeper retire", "date"),
        ("How many keepers were there?", "count"),
        ("how much did the repair cost", "amount"),
        ("How long did the storm last?", "duration"),
        ("how long ago was it rebuilt", "date"),
        ("Who rebuilt the lighthouse?", "person"),
        ("who is Jane Doyle?", "identity"),
        ("Who's Doyle", "identity"),
        ("who is the keeper who rebuilt the lighthouse after the storm?", "person"),
        ("where is the lighthouse", "place"),
        ("What does NLB stand for?", "long_form"),
        ("Did the navy rebuild it?", "yesno"),
        ("why did the keeper leave", "reason"),
        ("What was the board set up to do?", "purpose"),
        ("nlb = ?? whats that", "purpose"),
        ("What was rebuilt?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert answer_type(question) == kind


def spans(text, kind, question=""):
    return [text[a:b] for a, b in answer_spans(text, kind, set(terms(question)))]


def test_a_person_answer_says_more_than_the_question():
    text = "Harbour Master Jane Doyle thanked the Northern Lighthouse Board."
    assert "Harbour Master Jane Doyle" in spans(text, "person", "Who is Doyle?")
    # a name made only of the question's own words is not an answer to it
    assert spans("Doyle spoke.", "person", "Who is Jane Doyle?") == []


def test_a_name_does_not_start_with_a_function_word_or_a_date():
    text = "On September 25, 2021, Harbour Master Jane Doyle met the board. In March Ian Ross left."
    assert spans(text, "person", "Who met the board?") == ["Harbour Master Jane Doyle", "Ian Ross"]


def test_who_is_x_is_answered_by_the_title_beside_the_name():
    text = (
        "Harbour Master Jane Doyle and Ian Ross met. The Board Chair, J. Doyle, spoke. "
        "Doyle and Ross left."
    )
    assert spans(text, "identity", "who is Doyle?") == [
        "Harbour Master Jane Doyle",
        "Board Chair, J. Doyle",
    ]
    # two people joined by "and" are not a title, and another person's title is not Doyle's
    assert (
        spans("Doyle and Ross left. Harbour Master Ian Ross stayed.", "identity", "who is Doyle")
        == []
    )


def test_a_long_form_answers_only_for_the_acronym_asked_about():
    text = "It joined the Northern Lighthouse Board (NLB) and the Royal Navy (RN)."
    assert spans(text, "long_form", "What does NLB stand for?") == [
        "Northern Lighthouse Board (NLB)"
    ]


def test_places_follow_a_preposition():
    text = "The keeper moved to Port Ellen in Islay."
    assert spans(text, "place", "Where did the keeper move?") == ["Port Ellen", "Islay"]


def test_a_year_question_wants_a_year_not_any_date():
    assert spans("He retired on June 21 last year.", "year") == []
    assert spans("He retired on June 21, 1998.", "year") == ["1998"]


def test_reasons_and_purposes_are_pointed_at_by_their_wording():
    text = "The board was set up to maintain the lights because ships kept running aground."
    assert spans(text, "reason") == ["because"]
    assert spans("Its goal is to keep ships safe.", "purpose") == ["goal"]


def test_untyped_and_yes_no_questions_have_no_span():
    assert spans("It was rebuilt in 1902.", None) == []
    assert spans("It was rebuilt in 1902.", "yesno") == []


def test_a_name_asked_for_is_a_capitalised_run_the_question_does_not_give():
    text = "The keepers of Port Ellen hold the yearly Seabird drill with the Royal Navy."
    question = "what is the name of the yearly drill the keepers hold?"
    assert spans(text, "name", question) == ["Port Ellen", "Seabird", "Royal Navy"]
    # the question's own names (and their forms: "Canada" for Canadian) are not the answer,
    # nor is an everyday word that opens a sentence
    text = "A yearly drill is held off Canada. Yearly drills help."
    assert spans(text, "name", "the Canadian drill's name?") == []
    assert spans(text, "name", "the drill's name?") == ["Canada"]
    assert spans("The U.S. Navy drill.", "name", "US navy drill name") == []


def test_how_long_wants_a_count_of_time():
    text = "The ten-year plan runs 2025-2035; they spoke for 45 minutes with two keepers at 03:02."
    assert spans(text, "duration") == ["ten-year", "2025-2035", "45"]
    assert spans("Two keepers and one of the boats.", "duration") == []
