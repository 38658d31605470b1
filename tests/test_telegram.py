"""The bot end to end: PTB's real HTTP stack against the strict Bot API stand-in."""

from __future__ import annotations

import time

import pytest

from benchmarks.botapi.harness import running_bot, start_process, stop_process
from benchmarks.botapi.standin import BotAPIStandIn, parse_telegram_html, utf16_len

BOT = "QuoteTestBot"
# too long to travel inside callback data (64 bytes), and broad enough for a second page
LONG_QUESTION = (
    "What did officials say about the defense partnership and cooperation between India and "
    "the United States?"
)


@pytest.fixture
def live(botapi, engine):
    with running_bot(botapi, engine) as bot:
        yield bot


def replies(api: BotAPIStandIn, chat_id: int, n: int = 1, timeout: float = 10):
    return api.wait_for_messages(n, chat_id=chat_id, timeout=timeout)


def quiet_for(api: BotAPIStandIn, seconds: float = 0.6) -> None:
    """Let the bot drain what it has (all pending updates consumed, then a moment)."""
    api.wait_until_consumed(timeout=10)
    time.sleep(seconds)


def entity_types(msg) -> set[str]:
    return {e["type"] for e in msg.get("entities", [])}


# -- private chat ----------------------------------------------------------------------------


def test_private_question_gets_quotes_with_bold_and_citation(botapi, live):
    chat = botapi.private_chat()
    asked = botapi.send_text(chat, "Who greeted Jaishankar with a Navy band?")
    (msg,) = replies(botapi, chat["id"])
    assert "Hegseth greeted Jaishankar with a Navy band" in msg["text"]
    assert "002_a85791ee8d2e1584.txt, line 15" in msg["text"]
    assert {"blockquote", "bold"} <= entity_types(msg) or "expandable_blockquote" in entity_types(
        msg
    )
    bold = [
        msg["text"][e["offset"] : e["offset"] + e["length"]]
        for e in msg["entities"]
        if e["type"] == "bold"
    ]
    assert "Navy" in bold and "greeted" in bold
    assert msg["reply_to_message"]["message_id"] == asked["message_id"]


def test_start_help_and_sources(botapi, live):
    chat = botapi.private_chat()
    botapi.send_text(chat, "/start")
    botapi.send_text(chat, "/help")
    botapi.send_text(chat, "/sources")
    msgs = replies(botapi, chat["id"], 3)
    texts = sorted((m["text"] for m in msgs), key=len)
    start = next(t for t in texts if t.startswith("I answer questions") and "/ask" not in t)
    assert len(start.splitlines()) == 2
    help_text = next(t for t in texts if "/ask" in t)
    assert f"@{BOT}" in help_text and "group" in help_text
    sources = next(t for t in texts if t.startswith("Articles I quote"))
    for name in ("000_5be7e3b390ce0bde.txt", "004_c5481a9a9945fb77.txt"):
        assert name in sources
    assert "India and U.S. Commit to Deeper Defense Collaboration" in sources
    assert "07-Feb-2025" in sources


def test_no_match_says_so_without_quotes(botapi, live):
    chat = botapi.private_chat()
    botapi.send_text(chat, "How do I cook pasta carbonara?")
    (msg,) = replies(botapi, chat["id"])
    assert "don't answer" in msg["text"]
    assert "blockquote" not in entity_types(msg) and "reply_markup" not in msg


def test_hostile_text_from_user_is_answered_with_valid_html(botapi, live):
    chat = botapi.private_chat()
    nasty = [
        "<b>What</b> is <i>LEMOA</i> & <script>alert(1)</script>?",
        "LEMOA\x00\x07\x1b[31m \u202e\u200b BECA",
        "&lt;&amp; <<<>>> &nbsp; ]]> `code` *bold* _x_",
        "What is LEMOA? " * 340,  # ~5000 characters
        "😀" * 3000,
    ]
    for text in nasty:
        botapi.send_text(chat, text)
    msgs = replies(botapi, chat["id"], len(nasty), timeout=20)
    assert len(msgs) == len(nasty)
    for m in msgs:
        assert m["text"] and utf16_len(m["text"]) <= 4096
    assert any("Logistics Exchange Memorandum of Agreement" in m["text"] for m in msgs[:4])
    assert not [c for c in botapi.calls if c.status >= 400 and c.method == "sendMessage"]


def test_more_button_pages_through_passages_and_stale_buttons_answer_politely(botapi, live):
    chat = botapi.private_chat()
    botapi.send_text(chat, "India US defense partnership")
    (msg,) = replies(botapi, chat["id"])
    buttons = msg["reply_markup"]["inline_keyboard"][0]
    more = next(b for b in buttons if "More" in b["text"])
    assert len(more["callback_data"].encode()) <= 64
    first_text = msg["text"]
    botapi.press_button(msg, more["callback_data"])
    edited = botapi.wait_for(
        lambda: (
            (m := botapi.get_message(chat["id"], msg["message_id"]))
            and m["text"] != first_text
            and m
        ),
        what="the message edited to the next passages",
    )
    assert edited["text"].startswith("More passages (4–6)")
    assert botapi.wait_for(lambda: botapi.callback_answers, what="callback answered")
    back = next(b for b in edited["reply_markup"]["inline_keyboard"][0] if "Back" in b["text"])
    botapi.press_button(edited, back["callback_data"])
    botapi.wait_for(
        lambda: botapi.get_message(chat["id"], msg["message_id"])["text"] == first_text,
        what="back to the first page",
    )


def test_buttons_keep_working_after_a_restart(botapi, engine):
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        botapi.send_text(chat, LONG_QUESTION)
        (msg,) = replies(botapi, chat["id"])
    data = msg["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
    assert "defense" not in data  # an opaque page id, not the question
    with running_bot(botapi, engine):
        botapi.press_button(msg, data)
        edited = botapi.wait_for(
            lambda: (m := botapi.get_message(chat["id"], msg["message_id"])).get("edit_date") and m,
            what="the message edited to the next passages",
        )
    assert edited["text"].startswith("More passages (4–")
    assert len(botapi.sent_messages(chat["id"])) == 2  # the reply and its edit, no new message


def test_a_press_that_expired_while_the_bot_was_down_still_turns_the_page(botapi, engine):
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        botapi.send_text(chat, LONG_QUESTION)
        (msg,) = replies(botapi, chat["id"])
    botapi.query_expiry = 0.2
    botapi.press_button(msg, msg["reply_markup"]["inline_keyboard"][0][-1]["callback_data"])
    time.sleep(0.5)
    with running_bot(botapi, engine) as bot:
        botapi.wait_for(
            lambda: botapi.get_message(chat["id"], msg["message_id"]).get("edit_date"),
            what="the page turned",
        )
        quiet_for(botapi)
    assert not [line for line in bot.log_lines if "failed" in line and "update" in line]


def test_long_questions_use_short_callback_keys(botapi, live):
    chat = botapi.private_chat()
    q = LONG_QUESTION
    botapi.send_text(chat, q)
    (msg,) = replies(botapi, chat["id"])
    data = [b["callback_data"] for b in msg["reply_markup"]["inline_keyboard"][0]]
    assert all(len(d.encode()) <= 64 for d in data)


def test_non_text_and_unknown_commands_get_a_hint(botapi, live):
    chat = botapi.private_chat()
    botapi.send_text(chat, "/frobnicate")
    (msg,) = replies(botapi, chat["id"])
    assert "/help" in msg["text"]


# -- groups ------------------------------------------------------------------------------------


def test_group_ask_forms(botapi, live):
    group = botapi.group_chat()
    a1 = botapi.send_text(group, "/ask What is LEMOA?")
    a2 = botapi.send_text(group, f"/ask@{BOT} What is QFMM?")
    a3 = botapi.send_text(group, f"@{BOT} who is Vikram Misri?")
    msgs = replies(botapi, group["id"], 3)
    by_reply = {m["reply_to_message"]["message_id"]: m["text"] for m in msgs}
    assert "LEMOA" in by_reply[a1["message_id"]]
    assert "QFMM" in by_reply[a2["message_id"]]
    assert "Vikram Misri" in by_reply[a3["message_id"]]
    for m in msgs:  # compact: quotes are expandable in groups
        assert "expandable_blockquote" in entity_types(m)


def test_ask_with_only_the_bots_name_gets_the_usage_hint(botapi, live):
    """Found 11 (issue 9): "/ask @BotName" said "The articles don't answer that"."""
    group = botapi.group_chat()
    botapi.send_text(group, f"/ask @{BOT}")
    botapi.send_text(group, f"/ask@{BOT} @{BOT}")
    msgs = replies(botapi, group["id"], 2)
    assert all(m["text"].startswith("Add a question after /ask") for m in msgs)


def test_ask_as_reply_answers_the_replied_message(botapi, live):
    group = botapi.group_chat()
    bob, carol = botapi.make_user(2002, "Bob"), botapi.make_user(2003, "Carol")
    question = botapi.send_text(group, "When was INDUS-X launched?", from_user=bob)
    botapi.send_text(group, "/ask", reply_to=question, from_user=carol)
    (msg,) = replies(botapi, group["id"])
    assert msg["reply_to_message"]["message_id"] == question["message_id"]
    assert "June 21" in msg["text"]


def test_reply_to_the_bot_is_a_question(botapi, live):
    group = botapi.group_chat()
    botapi.send_text(group, "/ask What is LEMOA?")
    (first,) = replies(botapi, group["id"])
    follow = botapi.send_text(group, "and when was BECA signed?", reply_to=first)
    msgs = replies(botapi, group["id"], 2)
    assert msgs[1]["reply_to_message"]["message_id"] == follow["message_id"]
    assert "2020" in msgs[1]["text"]


def test_chatter_is_never_answered(botapi, engine):
    botapi.privacy_mode = False  # the bot sees every message, as an admin bot would
    with running_bot(botapi, engine):
        group = botapi.group_chat()
        for text in ("hello all", "LEMOA is interesting", "what is BECA?", "/ask@OtherBot BECA"):
            botapi.send_text(group, text)
        quiet_for(botapi)
        assert botapi.sent_messages(group["id"]) == []
        botapi.send_text(group, "/ask What is BECA?")
        replies(botapi, group["id"], 1)
        quiet_for(botapi)
        assert len(botapi.sent_messages(group["id"])) == 1


def test_forum_topic_reply_stays_in_the_topic(botapi, live):
    forum = botapi.group_chat(forum=True, title="Forum")
    topic = botapi.create_topic(forum, "Defence")
    asked = botapi.send_text(forum, "/ask What is COMCASA?", message_thread_id=topic)
    (msg,) = replies(botapi, forum["id"])
    assert msg.get("message_thread_id") == topic
    assert msg["reply_to_message"]["message_id"] == asked["message_id"]
    # a plain message in the topic is not "a reply to the bot" even though it replies to the
    # topic's creation message
    quiet_for(botapi)
    botapi.send_text(forum, "thanks everyone", message_thread_id=topic)
    quiet_for(botapi)
    assert len(botapi.sent_messages(forum["id"])) == 1


# -- inline mode ---------------------------------------------------------------------------------


def test_inline_results_with_and_without_matches(botapi, live):
    botapi.send_inline_query(None, "INDUS-X summit")
    botapi.send_inline_query(None, "pasta carbonara")
    botapi.send_inline_query(None, "")
    botapi.wait_for(lambda: len(botapi.inline_answers) >= 3, what="three inline answers")
    by_query = (
        {a["query"]: a for a in botapi.inline_answers}
        if "query" in (botapi.inline_answers[0])
        else None
    )
    answers = botapi.inline_answers
    hits = next(a for a in answers if len(a["results"]) > 1 and "INDUS-X" in str(a["results"]))
    assert 1 < len(hits["results"]) <= 10
    ids = [r["id"] for r in hits["results"]]
    assert len(set(ids)) == len(ids) and all(len(i.encode()) <= 64 for i in ids)
    assert int(hits["cache_time"]) > 0
    for r in hits["results"]:
        parse_telegram_html(r["input_message_content"]["message_text"])  # valid HTML
    none = next(a for a in answers if "No passage matches" in str(a["results"]))
    assert len(none["results"]) == 1
    listing = next(a for a in answers if "004_c5481a9a9945fb77.txt" in str(a["results"]))
    assert len(listing["results"]) == 5
    del by_query


def test_inline_ids_are_stable(botapi, live):
    botapi.send_inline_query(None, "LEMOA")
    botapi.send_inline_query(None, "LEMOA")
    botapi.wait_for(lambda: len(botapi.inline_answers) >= 2, what="two inline answers")
    a, b = botapi.inline_answers[:2]
    assert [r["id"] for r in a["results"]] == [r["id"] for r in b["results"]]


# -- a flaky Telegram ----------------------------------------------------------------------------


def test_429_and_502_are_survived(botapi, live):
    chat = botapi.private_chat()
    botapi.inject("sendMessage", status=429, retry_after=1, times=1)
    botapi.send_text(chat, "What is LEMOA?")
    (m1,) = replies(botapi, chat["id"], timeout=15)
    botapi.inject("sendMessage", status=502, times=2)
    botapi.send_text(chat, "What is BECA?")
    msgs = replies(botapi, chat["id"], 2, timeout=15)
    assert "LEMOA" in m1["text"] and "BECA" in msgs[1]["text"]
    quiet_for(botapi)
    assert len(botapi.sent_messages(chat["id"])) == 2  # none duplicated


def test_questions_sent_while_down_are_answered_after_restart_once(botapi, engine):
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        botapi.send_text(chat, "What is LEMOA?")
        replies(botapi, chat["id"], 1)
    # the bot is down: questions queue up at Telegram
    for q in ("What is BECA?", "What is QFMM?", "Who is Vikram Misri?"):
        botapi.send_text(chat, q)
    with running_bot(botapi, engine):
        replies(botapi, chat["id"], 4, timeout=15)
        quiet_for(botapi)
    with running_bot(botapi, engine):  # and a second restart answers nothing twice
        quiet_for(botapi)
    texts = [m["text"] for m in botapi.sent_messages(chat["id"])]
    assert len(texts) == 4
    assert not any(c.method == "deleteWebhook" and "true" in str(c.params) for c in botapi.calls)


# -- the real process ------------------------------------------------------------------------------


def test_python_m_bot_serves_logs_and_stops_cleanly_on_sigterm(botapi, tmp_path):
    proc = start_process(botapi, tmp_path)
    try:
        botapi.wait_for_call("setMyCommands", timeout=30)
        chat = botapi.private_chat()
        botapi.send_text(chat, "When was INDUS-X launched?")
        (msg,) = replies(botapi, chat["id"], timeout=15)
        assert "June 21" in msg["text"]
        t0 = time.monotonic()
        out = stop_process(proc)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-2000:]
    assert stopped_in < 10
    assert "serving 5 articles" in out and f"@{BOT}" in out
    assert "DEBUG" in out  # LOG_LEVEL=DEBUG: even then, no token
    assert botapi.token not in out
    assert botapi.token.split(":")[1] not in out
    assert "Traceback" not in out
