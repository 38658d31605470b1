"""Who may ask, and what a button can make the bot say (issue 9, Found 10): groups upgraded to
supergroups stay allowed, anonymous admins of different groups don't share one rate-limit
bucket, and forged callback data never makes the bot answer a question nobody asked."""

from __future__ import annotations

import time

from benchmarks.botapi.harness import running_bot

LONG = (
    "What did officials say about the defense partnership and cooperation between India and "
    "the United States?"
)


def settle(api, seconds: float = 0.6) -> None:
    api.wait_until_consumed(timeout=15)
    time.sleep(seconds)


def test_a_group_upgraded_to_a_supergroup_stays_allowed(botapi, engine):
    """Found 10: with ALLOWED_CHAT_IDS, the bot refused the migrated chat and left the group
    that was allowed."""
    old = botapi.group_chat(-5005, "Defence desk")
    new = botapi.group_chat(-1005005, "Defence desk")
    user = botapi.make_user(2002, "Bob")
    with running_bot(botapi, engine, allowed_chat_ids=frozenset({old["id"]})):
        now = int(time.time())
        botapi.push_raw_update(
            {
                "message": {
                    "message_id": 90,
                    "date": now,
                    "chat": old,
                    "from": user,
                    "migrate_to_chat_id": new["id"],
                }
            }
        )
        botapi.push_raw_update(
            {
                "message": {
                    "message_id": 1,
                    "date": now,
                    "chat": new,
                    "from": user,
                    "migrate_from_chat_id": old["id"],
                }
            }
        )
        asked = botapi.send_text(new, "/ask What is LEMOA?", from_user=user)
        (reply,) = botapi.wait_for_messages(1, chat_id=new["id"], timeout=15)
        settle(botapi)
    assert reply["reply_to_message"]["message_id"] == asked["message_id"]
    assert "LEMOA" in reply["text"]
    assert not any(c.method == "leaveChat" for c in botapi.calls)
    assert botapi.sent_messages(old["id"]) == []  # service messages are never answered


def test_anonymous_admins_of_different_groups_have_their_own_limits(botapi, engine):
    """Found 10: anonymous admins all shared one rate-limit bucket (GroupAnonymousBot's id)."""
    groups = [botapi.group_chat(-1007000 - k, f"Group {k}") for k in range(3)]
    with running_bot(botapi, engine, rate_limit_count=1, rate_limit_window=60):
        for g in groups:
            botapi.send_text(g, "/ask What is LEMOA?", anonymous_admin=True)
        for g in groups:
            botapi.wait_for_messages(1, chat_id=g["id"], timeout=15)
        botapi.send_text(groups[0], "/ask What is BECA?", anonymous_admin=True)
        settle(botapi)
    for g in groups:
        assert "LEMOA" in botapi.sent_messages(g["id"])[0]["text"]
    # the same anonymous admin asking again within the window is limited, as anyone would be
    assert "faster than I can answer" in botapi.sent_messages(groups[0]["id"])[1]["text"]


def test_forged_callback_data_never_rewrites_the_reply(botapi, engine):
    """Found 10: forged callback data (q|0|<any question>) rewrote the bot's reply into an
    answer to a question nobody asked; a Unicode digit posted "something went wrong" as a new
    message."""
    chat = botapi.private_chat()
    other = botapi.private_chat(1003, "Carol")
    with running_bot(botapi, engine):
        botapi.send_text(chat, LONG)
        (msg,) = botapi.wait_for_messages(1, chat_id=chat["id"])
        data = msg["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
        page_id = data.split("|")[1]
        botapi.send_text(other, LONG)
        (theirs,) = botapi.wait_for_messages(1, chat_id=other["id"])
        forged = [
            "q|0|How do I cook pasta carbonara?",
            "k|0|0123456789ab",
            f"m|{page_id}|\u0663",  # ARABIC-INDIC DIGIT THREE: isdigit() is True
            f"m|{page_id}|-3",
            "m|AAAAAAAAAAAA|3",
            f"m|{page_id}|3|x",
            "",
        ]
        for d in forged:
            botapi.press_button(msg, d, forged=True)
        botapi.press_button(theirs, data, forged=True)  # a page of another chat
        botapi.wait_for(
            lambda: len(botapi.callback_answers) >= len(forged) + 1, what="every press answered"
        )
        settle(botapi)
    assert botapi.get_message(chat["id"], msg["message_id"])["text"] == msg["text"]
    assert botapi.get_message(other["id"], theirs["message_id"])["text"] == theirs["text"]
    assert len(botapi.sent_messages(chat["id"])) == 1  # no new message
    assert len(botapi.sent_messages(other["id"])) == 1
    assert all("expired" in (a["text"] or "") for a in botapi.callback_answers)
