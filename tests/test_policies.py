"""Policies on every message the bot answers (issue 21): commands count against the question
limit, admin reports answer only in a private chat, and a caption is read as a question."""

from __future__ import annotations

import time

from benchmarks.botapi.harness import running_bot

BOT = "QuoteTestBot"
NOTICE = "faster than I can answer"
UNANSWERED = "Who won the cricket world cup in 1983?"


def settle(api, seconds: float = 0.6) -> None:
    api.wait_until_consumed(timeout=15)
    time.sleep(seconds)


def texts(api, chat) -> list[str]:
    return [m["text"] for m in api.sent_messages(chat["id"])]


def test_a_command_flood_gets_the_limit_then_one_notice(botapi, engine):
    """Found: /help, /start, /new, unknown commands (and photos) were all answered, 40 of 40."""
    flooder, other = botapi.private_chat(1001), botapi.private_chat(1002, "Bob")
    with running_bot(botapi, engine, rate_limit_count=5, rate_limit_window=60):
        for k in range(40):
            if k % 5 == 4:
                botapi.send_photo(flooder)
            else:
                botapi.send_text(flooder, ("/help", "/start", "/new", "/frobnicate")[k % 5])
        botapi.send_text(other, "/help")
        botapi.wait_for_messages(1, chat_id=other["id"])
        settle(botapi)
    sent = texts(botapi, flooder)
    assert len(sent) == 6, sent  # five within the limit, then one notice, then silence
    assert [NOTICE in t for t in sent] == [False] * 5 + [True]
    assert "How to ask" in texts(botapi, other)[0]  # another user is served meanwhile


def test_admin_reports_answer_only_in_a_private_chat(botapi, engine):
    """Found: /unanswered from an admin in a group posted other people's questions there."""
    group = botapi.group_chat()
    admin, bob = botapi.private_chat(4004, "Admin"), botapi.make_user(2002, "Bob")
    with running_bot(botapi, engine, admin_user_ids=frozenset({4004})):
        botapi.send_text(group, f"/ask {UNANSWERED}", from_user=bob)
        botapi.wait_for_messages(1, chat_id=group["id"])
        for user, command in ((admin, "/unanswered"), (admin, "/stats"), (bob, "/unanswered")):
            botapi.send_text(group, command, from_user=user["id"])
        botapi.wait_for_messages(4, chat_id=group["id"])
        botapi.send_text(admin, "/unanswered")
        botapi.send_text(admin, "/stats")
        botapi.wait_for_messages(2, chat_id=admin["id"])
        settle(botapi)
    refusals = texts(botapi, group)[1:]
    assert refusals == [
        "Ask me this in a private chat: it lists other people's questions.",
        "Ask me this in a private chat: it shows the bot's internal figures.",
        "Sorry, that command is not available to you.",
    ]
    unanswered, stats = texts(botapi, admin)
    assert UNANSWERED in unanswered
    assert "questions answered: 1" in stats


def test_a_caption_is_read_as_a_question_in_a_private_chat(botapi, engine):
    """Found: a screenshot with a question as its caption got "only text" for an answer."""
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        asked = botapi.send_photo(chat, caption="Who greeted Jaishankar with a Navy band?")
        (answer,) = botapi.wait_for_messages(1, chat_id=chat["id"])
        botapi.send_photo(chat)
        botapi.send_photo(chat, caption="/help")
        botapi.wait_for_messages(3, chat_id=chat["id"])
    assert answer["reply_to_message"]["message_id"] == asked["message_id"]
    assert "Hegseth greeted Jaishankar with a Navy band" in answer["text"]
    assert {"blockquote", "expandable_blockquote"} & {e["type"] for e in answer["entities"]}
    no_caption, command = texts(botapi, chat)[1:]
    assert no_caption.startswith("I can only answer questions sent as text")
    assert command.startswith("In a caption I read a question")  # not a search for "help"


def test_a_caption_addressed_to_the_bot_is_a_question_in_a_group(botapi, engine):
    """/ask in the caption, an @mention in it, or a reply to the bot; other captions are
    chatter (privacy mode hides them, and an admin bot that sees them stays quiet)."""
    group = botapi.group_chat()
    with running_bot(botapi, engine):
        ask = botapi.send_photo(group, caption="/ask What is LEMOA?")
        (first,) = botapi.wait_for_messages(1, chat_id=group["id"])
        mention = botapi.send_photo(group, caption=f"@{BOT} who is Vikram Misri?")
        follow = botapi.send_photo(group, caption="and when was BECA signed?", reply_to=first)
        chatter = botapi.send_photo(group, caption="what is BECA?")
        botapi.wait_for_messages(3, chat_id=group["id"])
        settle(botapi)
        botapi.privacy_mode = False  # the bot sees every message, as an admin bot would
        botapi.send_photo(group, caption="what is QFMM?")
        settle(botapi)
    answers = {m["reply_to_message"]["message_id"]: m["text"] for m in botapi.sent_messages()}
    assert len(answers) == 3, answers
    assert "LEMOA" in answers[ask["message_id"]]
    assert "Vikram Misri" in answers[mention["message_id"]]
    assert "2020" in answers[follow["message_id"]]
    assert [m["message_id"] for m in botapi.filtered_by_privacy] == [chatter["message_id"]]
