"""Sending: what is resent and what is not, and what is counted (issue 9, Found 11)."""

from __future__ import annotations

import time

from benchmarks.botapi.harness import running_bot, state_dir_of
from bot.telegram import app as app_mod
from bot.telegram.journal import Journal


def counter(botapi, name: str) -> int:
    j = Journal(state_dir_of(botapi))
    try:
        return j.counter(name)
    finally:
        j.close()


def test_a_send_that_timed_out_after_reaching_telegram_is_not_resent(botapi, engine, monkeypatch):
    """Found 11: the retrying rate limiter resent after PTB's TimedOut, which is raised when
    the request may already have reached Telegram (duplicate replies)."""
    monkeypatch.setattr(app_mod, "READ_TIMEOUT", 1.0)
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        botapi.inject("sendMessage", delay=2.0)  # carried out, answered too late
        botapi.send_text(chat, "What is LEMOA?")
        botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)
        time.sleep(3.0)
    msgs = botapi.sent_messages(chat["id"])
    assert len(msgs) == 1 and "LEMOA" in msgs[0]["text"]  # no duplicate, no error message
    assert counter(botapi, "unknown_outcome") == 1


def test_a_send_whose_answer_was_lost_is_resent_and_counted(botapi, engine):
    """The one duplicate left: Telegram carried out the send, the answer never came back."""
    chat = botapi.private_chat()
    admin = botapi.private_chat(4004, "Admin")
    with running_bot(botapi, engine, admin_user_ids=frozenset({4004})):
        botapi.inject("sendMessage", drop_connection=True, execute=True)
        botapi.send_text(chat, "What is LEMOA?")
        botapi.wait_for_messages(2, chat_id=chat["id"], timeout=15)
        botapi.send_text(admin, "/stats")
        (stats,) = botapi.wait_for_messages(1, chat_id=admin["id"], timeout=15)
    assert len(botapi.sent_messages(chat["id"])) == 2
    assert counter(botapi, "possible_duplicates") == 1
    assert "sends possibly duplicated: 1" in stats["text"]
