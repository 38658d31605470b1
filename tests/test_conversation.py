"""Follow-up questions (conversation.py, Searcher context) over the real corpus."""

from __future__ import annotations

import json

import pytest

from bot.conversation import CONTEXT_TTL, Context, ContextRules, Conversation, is_reset
from bot.evaluate import is_correct

from .search_fixtures import PROJECT

DIALOGUES = PROJECT / "tests" / "data" / "dialogues-dev.jsonl"


# Turns the articles answer in other words than the question's, which the hand-made synonym
# table bridged with entries fitted to them ("producing things together" ~ co-production, "in
# person" ~ call) until issue 22 took every corpus's words out of the code; neither the word
# vectors nor the sentence model bridges them yet.
NOT_BRIDGED = {
    "dd03.1": "'producing things together' for 'co-production' (the synonym table's entry)",
    "dd05.2": "'was that in person?' for 'an introductory call' (the synonym table's entry)",
}


def _turns() -> list:
    out = []
    for line in DIALOGUES.read_text("utf-8").splitlines():
        d = json.loads(line)
        for k in range(1, len(d["turns"]) + 1):
            tid = f"{d['id']}.{k}"
            why = NOT_BRIDGED.get(tid)
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            out.append(pytest.param(d, k, id=tid, marks=marks))
    return out


@pytest.mark.parametrize(("dialogue", "k"), _turns())
def test_every_dialogue_turn_is_right_in_the_context_of_the_turns_before(engine, dialogue, k):
    chat = Conversation(engine)
    for turn in dialogue["turns"][: k - 1]:
        chat.ask(turn["question"])
    turn = dialogue["turns"][k - 1]
    answer = chat.ask(turn["question"])
    if turn["answers"]:
        assert any(is_correct(h, turn["answers"]) for h in answer.hits[:3]), answer
    else:
        assert answer.hits == [], answer


def test_a_pronoun_follow_up_is_read_with_the_earlier_topic_and_says_so(engine):
    chat = Conversation(engine)
    chat.ask("What is LEMOA?")
    answer = chat.ask("when was it signed?")
    assert answer.reading.carried == ("LEMOA",)
    assert answer.reading.note == "Reading this with: LEMOA"
    assert "(LEMOA) in 2016" in answer.hits[0].text
    # the same message without the context finds no passage about LEMOA
    assert all("LEMOA" not in h.text for h in engine.search("when was it signed?"))


def test_carried_words_never_override_the_messages_own(engine):
    chat = Conversation(engine)
    chat.ask("What is iDEX?")
    answer = chat.ask("and DIU?")
    assert answer.reading.carried == ()
    assert "Defense Innovation Unit (DIU)" in answer.hits[0].text
    chat.ask("What did Jaishankar say about the Indo-Pacific?")
    answer = chat.ask("and about the world?")
    assert answer.reading.carried == ("Jaishankar",)  # "the world" took the Indo-Pacific's place
    assert "The world is a complicated place" in answer.hits[0].text


def test_a_self_contained_question_is_answered_on_its_own(engine):
    chat = Conversation(engine)
    chat.ask("what did the navy band play for jaishankar")
    answer = chat.ask("What is the Atmanirbhar Bharat initiative?")
    assert answer.reading.carried == ()
    assert answer.hits == engine.search("What is the Atmanirbhar Bharat initiative?")


def test_an_unanswerable_follow_up_abstains(engine):
    chat = Conversation(engine)
    assert chat.ask("What does the US want to finalize with India according to Hegseth?").hits
    answer = chat.ask("how much are they worth?")
    assert "Hegseth" in answer.reading.carried and answer.hits == []


def test_carried_words_alone_never_answer(engine):
    # "worth" is in no article: the topic words must not make a passage answer it
    assert engine.search("how much is it worth?", context=("LEMOA",)) == []
    assert engine.search("LEMOA") != []


def test_a_question_word_alone_asks_about_the_question_before(engine):
    chat = Conversation(engine)
    chat.ask("Who is Vikram Misri?")
    where = chat.ask("where?")
    assert where.reading.carried and where.hits
    assert "Pentagon" in [where.hits[0].text[a:b] for a, b in where.hits[0].answers]
    when = chat.ask("when?")
    assert "September 25, 2024" in [when.hits[0].text[a:b] for a, b in when.hits[0].answers]
    # ... but a question word alone, with nothing before it, is nothing to look up
    assert Conversation(engine).ask("where?").hits == []


def test_a_question_of_several_everyday_words_is_self_contained(engine):
    chat = Conversation(engine)
    chat.ask("Tell me about INDUS-X")
    assert chat.ask("What US weapons does India have?").reading.carried == ()
    # one everyday word is too little to search with alone
    assert chat.ask("which aircraft?").reading.carried


def test_by_whom_asks_for_a_person(engine):
    chat = Conversation(engine)
    chat.ask("when was INDUS-X launched?")
    answer = chat.ask("by whom?")
    assert answer.reading.carried and answer.hits
    assert answer.hits[0].answers


def test_the_carried_topic_ranks_a_follow_up(engine):
    # the follow-up's own word ("meet") is in several passages; the carried Misri picks one
    chat = Conversation(engine)
    chat.ask("Who is Vikram Misri?")
    answer = chat.ask("who did he meet?")
    assert "Misri" in answer.hits[0].text


def test_chit_chat_keeps_the_topic_and_is_read_alone(engine):
    chat = Conversation(engine)
    chat.ask("What is LEMOA?")
    thanks = chat.ask("thanks!")
    assert thanks.result.chitchat and thanks.reading.carried == ()
    assert chat.ask("ok").reading.carried == ()
    signed = chat.ask("when was it signed?")
    assert signed.reading.carried == ("LEMOA",) and signed.hits


def test_context_expires_after_ten_minutes_and_new_forgets_it(engine):
    now = [1000.0]
    chat = Conversation(engine, clock=lambda: now[0])
    chat.ask("Who is Marco Rubio?")
    now[0] += CONTEXT_TTL - 1
    assert chat.ask("which meeting was he at?").reading.carried == ("Marco", "Rubio")
    now[0] += CONTEXT_TTL + 1
    assert chat.ask("which meeting was he at?").reading.carried == ()
    chat.ask("Who is Marco Rubio?")
    assert is_reset("/new") and is_reset("/start@SomeBot") and not is_reset("/sources")
    chat.reset()
    assert chat.ask("which meeting was he at?").reading.carried == ()


def test_a_follow_up_after_an_unanswered_question_carries_its_words(engine):
    rules = ContextRules(engine)
    first = rules.answer(None, "How do I cook pasta carbonara?", now=0)
    assert first.hits == [] and "carbonara" in first.context.words
    follow = rules.answer(first.context, "is it tasty?", now=1)
    assert "carbonara" in follow.reading.carried and follow.hits == []


def test_read_keeps_no_context_for_a_message_after_nothing(engine):
    rules = ContextRules(engine)
    assert rules.read(None, "when was it signed?", now=0).carried == ()
    empty = Context("hi", (), 0.0)
    assert rules.read(empty, "when was it signed?", now=1).carried == ()


def test_with_the_first_answer_right_the_ellipsis_finds_the_systems(engine):
    # dd03.2 once dd03.1 quotes the right passage, whose words ("producing") are then carried
    hits = engine.search("which systems exactly?", context=("producing",))
    assert "jet engines, land mobility platforms, and munitions" in hits[0].text


def test_a_pronoun_after_the_messages_own_topic_word_does_not_point_back(engine):
    chat = Conversation(engine)
    chat.ask("What is LEMOA?")
    answer = chat.ask("What did Hegseth say about his meeting with Jaishankar?")
    assert answer.reading.carried == ()
    answer = chat.ask("What did he say about INDUS-X?")  # "he": nothing before it names anyone
    assert "Hegseth" in answer.reading.carried
