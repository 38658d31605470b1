"""Tests of the Bot API stand-in itself: it must be as strict as Telegram, and faults must work."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from benchmarks.botapi.standin import (
    BotAPIStandIn,
    TelegramParseError,
    parse_telegram_html,
    utf16_len,
)

CHAT = 1001
HTTP = httpx.Client(timeout=10)  # one client: creating one per request costs ~35 ms (TLS setup)


def call(
    standin: BotAPIStandIn, method: str, *, form: bool = False, **params: Any
) -> httpx.Response:
    """POST a method as JSON (default) or, like PTB, as a form with JSON-encoded values."""
    url = f"{standin.api_url}/{method}"
    if form:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return HTTP.post(url, data=data)
    return HTTP.post(url, json=params)


def ok(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True, body
    return body["result"]


def error(response: httpx.Response, status: int = 400) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body == {"ok": False, "error_code": status, "description": body["description"]} or (
        body.get("parameters")
    ), body
    return body["description"]


@pytest.fixture
def chat(botapi: BotAPIStandIn) -> dict:
    return botapi.private_chat(CHAT, "Alice")


def keyboard(data: str) -> dict:
    return {"inline_keyboard": [[{"text": "btn", "callback_data": data}]]}


# -- HTML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("hello <div>x</div>", 'Unsupported start tag "div" at byte offset 6'),
        ('<a name="x">link</a>', 'Tag "a" must have non-empty attribute "href"'),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", "Can't nest blockquote"),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;"'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", "Unmatched end tag"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
    ],
)
def test_malformed_html_is_rejected(botapi: BotAPIStandIn, chat: dict, text: str, expected: str):
    desc = error(call(botapi, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML"))
    assert desc.startswith("Bad Request: can't parse entities: ")
    assert expected in desc
    assert botapi.sent_messages() == []


def test_byte_offsets_are_utf8():
    with pytest.raises(TelegramParseError, match="at byte offset 6"):
        parse_telegram_html("😀é<div>")  # 4 + 2 UTF-8 bytes before the tag
    with pytest.raises(ValueError):  # TelegramParseError is a ValueError
        parse_telegram_html("<p>")


def test_all_allowed_html_tags_are_accepted(botapi: BotAPIStandIn, chat: dict):
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://example.com/?a=1&amp;b=2">link</a><code>c</code>'
        '<pre><code class="language-python">print(1)</code></pre><pre>raw</pre>'
        "<blockquote>quote</blockquote><blockquote expandable>more</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "&lt;&gt;&amp;&quot;&#39;&#x41; a & b > c"
    )
    msg = ok(call(botapi, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML"))
    assert msg["text"].endswith("👍 <>&\"'A a & b > c")
    types = [e["type"] for e in msg["entities"]]
    for kind in (
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    ):
        assert kind in types, kind
    pre = next(e for e in msg["entities"] if e.get("language"))
    assert pre == {"type": "pre", "offset": pre["offset"], "length": 8, "language": "python"}
    link = next(e for e in msg["entities"] if e["type"] == "text_link")
    assert link["url"] == "https://example.com/?a=1&b=2"


def test_entity_offsets_are_utf16():
    plain, entities = parse_telegram_html("😀 <b>x😀</b>")
    assert plain == "😀 x😀"
    assert entities == [{"type": "bold", "offset": 3, "length": 3}]


def test_length_is_counted_in_utf16_units(botapi: BotAPIStandIn, chat: dict):
    text = "😀" * 2048
    assert len(text) == 2048 and utf16_len(text) == 4096
    msg = ok(call(botapi, "sendMessage", chat_id=CHAT, text=text))
    assert msg["text"] == text
    desc = error(call(botapi, "sendMessage", chat_id=CHAT, text=text + "a"))
    assert desc == "Bad Request: message is too long"
    # Markup does not count, entities (&amp;) count as one character.
    ok(
        call(
            botapi,
            "sendMessage",
            chat_id=CHAT,
            text="<b>" + "&amp;" * 4096 + "</b>",
            parse_mode="HTML",
        )
    )


@pytest.mark.parametrize("text", ["", "   \n ", "<b></b>", "<b> </b>"])
def test_empty_text_is_rejected(botapi: BotAPIStandIn, chat: dict, text: str):
    desc = error(call(botapi, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML"))
    assert desc == "Bad Request: message text is empty"


def test_unknown_chat_and_missing_chat_id(botapi: BotAPIStandIn):
    assert (
        error(call(botapi, "sendMessage", chat_id=999, text="x")) == "Bad Request: chat not found"
    )
    assert "chat_id is empty" in error(call(botapi, "sendMessage", text="x"))


def test_form_and_multipart_bodies(botapi: BotAPIStandIn, chat: dict):
    """PTB sends form fields with JSON-encoded non-string values; files switch it to multipart."""
    fields = {
        "chat_id": "1001",
        "text": "line 1\r\nline 2 ü",
        "reply_markup": json.dumps(keyboard("k")),
    }
    msg = ok(HTTP.post(f"{botapi.api_url}/sendMessage", data=fields, files={"x": b"\0\1"}))
    assert msg["text"] == "line 1\r\nline 2 ü" and msg["reply_markup"] == keyboard("k")
    assert botapi.calls[-1].params["reply_markup"] == keyboard("k")
    assert botapi.calls[-1].params["x"] == "<file: 2 bytes>"
    msg = ok(HTTP.get(f"{botapi.api_url}/sendMessage", params={"chat_id": CHAT, "text": "q"}))
    assert msg["text"] == "q"


def test_invalid_utf8_is_rejected(botapi: BotAPIStandIn, chat: dict):
    url = f"{botapi.api_url}/sendMessage"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    resp = HTTP.post(url, content=b"chat_id=1001&text=%ED%A0%80", headers=headers)  # surrogate
    assert error(resp) == "Bad Request: strings must be encoded in UTF-8"
    resp = HTTP.post(
        url,
        content=b'{"chat_id": 1001, "text": "\\ud83d"}',
        headers={"Content-Type": "application/json"},
    )
    assert error(resp) == "Bad Request: strings must be encoded in UTF-8"


# -- keyboards, replies, threads ------------------------------------------------------------------


def test_callback_data_is_limited_to_64_bytes(botapi: BotAPIStandIn, chat: dict):
    ok(call(botapi, "sendMessage", chat_id=CHAT, text="x", reply_markup=keyboard("é" * 32)))
    desc = error(
        call(botapi, "sendMessage", chat_id=CHAT, text="x", reply_markup=keyboard("é" * 32 + "a"))
    )
    assert desc == "Bad Request: BUTTON_DATA_INVALID"
    assert "BUTTON_DATA_INVALID" in error(
        call(botapi, "sendMessage", chat_id=CHAT, text="x", reply_markup=keyboard(""))
    )


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ({"text": "x"}, "Text buttons are unallowed"),
        ({"text": "", "callback_data": "a"}, "Text must be non-empty"),
        ({"text": "x", "callback_data": "a", "url": "https://a.io"}, "exactly one"),
        ({"text": "x", "url": "not a url"}, "Wrong HTTP URL"),
    ],
)
def test_invalid_inline_buttons(botapi: BotAPIStandIn, chat: dict, button: dict, expected: str):
    markup = {"inline_keyboard": [[button]]}
    assert expected in error(
        call(botapi, "sendMessage", chat_id=CHAT, text="x", reply_markup=markup, form=True)
    )


def test_reply_must_exist(botapi: BotAPIStandIn, chat: dict):
    user_msg = botapi.send_text(chat, "question")
    desc = error(
        call(botapi, "sendMessage", chat_id=CHAT, text="a", reply_parameters={"message_id": 77})
    )
    assert desc == "Bad Request: message to be replied not found"
    assert "not found" in error(
        call(botapi, "sendMessage", chat_id=CHAT, text="a", reply_to_message_id=77)
    )
    ok(
        call(
            botapi,
            "sendMessage",
            chat_id=CHAT,
            text="a",
            reply_parameters={"message_id": 77, "allow_sending_without_reply": True},
        )
    )
    msg = ok(
        call(
            botapi,
            "sendMessage",
            chat_id=CHAT,
            text="a",
            form=True,
            reply_parameters={"message_id": user_msg["message_id"]},
        )
    )
    assert msg["reply_to_message"]["text"] == "question"
    assert msg["message_id"] > user_msg["message_id"]


def test_forum_topics(botapi: BotAPIStandIn):
    group = botapi.group_chat(-1001000000001, "Forum", forum=True)
    topic = botapi.create_topic(group, "News")
    desc = error(call(botapi, "sendMessage", chat_id=group["id"], text="x", message_thread_id=999))
    assert desc == "Bad Request: message thread not found"
    user_msg = botapi.send_text(group, "/ask hi", message_thread_id=topic)
    assert user_msg["is_topic_message"] and user_msg["message_thread_id"] == topic
    # Telegram quirk: a plain topic message "replies" to the topic's creation service message.
    assert user_msg["reply_to_message"]["forum_topic_created"]["name"] == "News"
    reply = ok(
        call(
            botapi,
            "sendMessage",
            chat_id=group["id"],
            text="answer",
            reply_parameters={"message_id": user_msg["message_id"]},
        )
    )
    assert reply["message_thread_id"] == topic  # replies stay in the topic


def test_group_privacy_mode(botapi: BotAPIStandIn):
    group = botapi.group_chat()
    botapi.send_text(group, "just chatting")
    cmd = botapi.send_text(group, "/ask@QuoteTestBot hi")
    botapi.send_text(group, "/ask@OtherBot hi")
    mention = botapi.send_text(group, "hey @QuoteTestBot")
    assert [u["message"]["text"] for u in botapi.pending_updates()] == [
        cmd["text"],
        mention["text"],
    ]
    assert len(botapi.filtered_by_privacy) == 2
    assert cmd["entities"] == [{"type": "bot_command", "offset": 0, "length": 17}]


# -- edits --------------------------------------------------------------------------------------


def test_edit_message_text(botapi: BotAPIStandIn, chat: dict):
    msg = ok(call(botapi, "sendMessage", chat_id=CHAT, text="v1", reply_markup=keyboard("a")))
    args = {"chat_id": CHAT, "message_id": msg["message_id"]}
    error(call(botapi, "editMessageText", chat_id=CHAT, message_id=999, text="x"))
    desc = error(call(botapi, "editMessageText", **args, text="v1", reply_markup=keyboard("a")))
    assert desc.startswith("Bad Request: message is not modified: specified new message content")
    edited = ok(
        call(
            botapi,
            "editMessageText",
            **args,
            text="<b>v1</b>",
            parse_mode="HTML",
            reply_markup=keyboard("a"),
        )
    )
    assert edited["entities"] and "edit_date" in edited
    edited = ok(call(botapi, "editMessageText", **args, text="<b>v1</b>", parse_mode="HTML"))
    assert "reply_markup" not in edited  # omitting reply_markup removes the keyboard
    user_msg = botapi.send_text(chat, "mine")
    desc = error(
        call(botapi, "editMessageText", chat_id=CHAT, message_id=user_msg["message_id"], text="x")
    )
    assert desc == "Bad Request: message can't be edited"
    assert len(botapi.sent_messages(CHAT)) == 3


# -- updates ------------------------------------------------------------------------------------


def test_get_updates_offset_confirms(botapi: BotAPIStandIn, chat: dict):
    for text in ("one", "two", "three"):
        botapi.send_text(chat, text)
    updates = ok(call(botapi, "getUpdates"))
    assert [u["message"]["text"] for u in updates] == ["one", "two", "three"]
    ids = [u["update_id"] for u in updates]
    assert ids == sorted(ids)
    assert ok(call(botapi, "getUpdates", offset=ids[1], limit=1))[0]["update_id"] == ids[1]
    assert len(botapi.pending_updates()) == 2 and botapi.confirmed_offset == ids[1]
    assert ok(call(botapi, "getUpdates", offset=ids[0])) == [updates[1], updates[2]]  # gone
    assert ok(call(botapi, "getUpdates", offset=ids[2] + 1)) == []
    assert botapi.pending_updates() == []


def test_update_ids_can_restart_lower_and_a_stale_offset_then_drops_them():
    with BotAPIStandIn(first_update_id=5_000_000) as api:
        chat = api.private_chat(CHAT, "Alice")
        api.send_text(chat, "high")
        (first,) = ok(call(api, "getUpdates"))
        assert first["update_id"] == 5_000_000
        assert ok(call(api, "getUpdates", offset=5_000_001)) == []
        api.restart_update_ids(1234)
        api.send_text(chat, "one")
        api.send_text(chat, "two")
        assert [u["update_id"] for u in ok(call(api, "getUpdates"))] == [1234, 1235]
        assert ok(call(api, "getUpdates", offset=5_000_001)) == []  # an old offset: gone
        assert api.pending_updates() == []


def test_long_poll_wakes_on_push(botapi: BotAPIStandIn, chat: dict):
    threading.Timer(0.3, botapi.send_text, (chat, "wake up")).start()
    started = time.monotonic()
    updates = ok(call(botapi, "getUpdates", timeout=5))
    assert 0.2 < time.monotonic() - started < 2
    assert updates[0]["message"]["text"] == "wake up"
    started = time.monotonic()
    assert ok(call(botapi, "getUpdates", offset=updates[0]["update_id"] + 1, timeout=0.3)) == []
    assert time.monotonic() - started >= 0.3


def test_concurrent_get_updates_conflict(botapi: BotAPIStandIn):
    first: list[httpx.Response] = []
    poller = threading.Thread(target=lambda: first.append(call(botapi, "getUpdates", timeout=5)))
    poller.start()
    botapi.wait_for(lambda: botapi._poll_generation == 1, 5)
    second = call(botapi, "getUpdates", timeout=0.5)
    poller.join(5)
    # Like the real server: the request already in flight is terminated by the newer one.
    assert error(first[0], 409).startswith("Conflict: terminated by other getUpdates request")
    assert ok(second) == []


def test_webhook_blocks_get_updates(botapi: BotAPIStandIn, chat: dict):
    error(call(botapi, "setWebhook", url="http://insecure.example"))
    ok(call(botapi, "setWebhook", url="https://example.com/hook"))
    assert "webhook is active" in error(call(botapi, "getUpdates"), 409)
    botapi.send_text(chat, "kept")
    ok(call(botapi, "deleteWebhook"))
    assert len(ok(call(botapi, "getUpdates"))) == 1
    ok(call(botapi, "deleteWebhook", drop_pending_updates=True))
    assert ok(call(botapi, "getUpdates")) == [] and botapi.updates_dropped == 1


def test_allowed_updates_filter_new_updates(botapi: BotAPIStandIn, chat: dict):
    ok(call(botapi, "getUpdates", allowed_updates=["message"], form=True))
    botapi.send_inline_query(CHAT, "dropped")
    botapi.send_text(chat, "kept")
    assert [next(iter(u.keys() - {"update_id"})) for u in ok(call(botapi, "getUpdates"))] == [
        "message"
    ]


# -- faults -------------------------------------------------------------------------------------


def test_inject_429_then_success(botapi: BotAPIStandIn, chat: dict):
    botapi.inject("sendMessage", status=429, retry_after=3)
    resp = call(botapi, "sendMessage", chat_id=CHAT, text="x")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert resp.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    ok(call(botapi, "sendMessage", chat_id=CHAT, text="x"))
    assert [c.status for c in botapi.calls] == [429, 200]
    assert len(botapi.sent_messages()) == 1


def test_inject_5xx_wildcard_and_execute(botapi: BotAPIStandIn, chat: dict):
    botapi.inject("*", status=502, times=2)
    assert error(call(botapi, "getMe"), 502) == "Bad Gateway"
    assert error(call(botapi, "sendMessage", chat_id=CHAT, text="x"), 502) == "Bad Gateway"
    ok(call(botapi, "getMe"))
    botapi.inject("sendMessage", status=500, execute=True)  # sent, but the answer is lost
    error(call(botapi, "sendMessage", chat_id=CHAT, text="lost answer"), 500)
    assert [m["text"] for m in botapi.sent_messages()] == ["lost answer"]


def test_slow_and_hanging_answers(botapi: BotAPIStandIn, chat: dict):
    botapi.inject("sendMessage", delay=0.3)  # carried out at once, answered late
    t0 = time.monotonic()
    ok(call(botapi, "sendMessage", chat_id=CHAT, text="slow"))
    assert time.monotonic() - t0 >= 0.3
    botapi.inject("sendMessage", hang=True)
    threading.Timer(0.3, botapi.release).start()
    with pytest.raises(httpx.RemoteProtocolError):
        call(botapi, "sendMessage", chat_id=CHAT, text="never")
    assert [m["text"] for m in botapi.sent_messages()] == ["slow"]
    botapi.inject("getMe", status=502, times=5)
    botapi.clear_faults()
    ok(call(botapi, "getMe"))


def test_revoked_token_and_anonymous_admins(botapi: BotAPIStandIn):
    group = botapi.group_chat()
    msg = botapi.send_text(group, "/ask x", anonymous_admin=True)
    assert msg["from"]["username"] == "GroupAnonymousBot"
    assert msg["sender_chat"]["id"] == group["id"]
    botapi.revoked = True
    assert error(call(botapi, "getMe"), 401) == "Unauthorized"


def test_forged_button_press(botapi: BotAPIStandIn, chat: dict):
    msg = ok(call(botapi, "sendMessage", chat_id=CHAT, text="pick", reply_markup=keyboard("p:1")))
    botapi.press_button(msg, "anything at all", forged=True)
    assert botapi.pending_updates()[-1]["callback_query"]["data"] == "anything at all"


def test_drop_connection_and_down(botapi: BotAPIStandIn):
    botapi.inject("getMe", drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        call(botapi, "getMe")
    ok(call(botapi, "getMe"))
    botapi.set_down(True)
    with pytest.raises(httpx.TransportError):
        call(botapi, "getMe")
    botapi.set_down(True, mode="502")
    resp = call(botapi, "getMe")
    assert resp.status_code == 502 and resp.headers["Content-Type"] == "text/html"
    botapi.set_down(False)
    ok(call(botapi, "getMe"))
    assert [c.status for c in botapi.calls] == [0, 200, 0, 502, 200]


def test_flood_limits(botapi: BotAPIStandIn):
    group = botapi.group_chat()
    botapi.enforce_flood_limits = True
    for _ in range(20):
        ok(call(botapi, "sendMessage", chat_id=group["id"], text="spam"))
    resp = call(botapi, "sendMessage", chat_id=group["id"], text="spam")
    assert resp.status_code == 429 and resp.json()["parameters"]["retry_after"] >= 1


def test_auth_and_unknown_method(botapi: BotAPIStandIn):
    resp = HTTP.post(f"{botapi.url}/bot123456:wrong-token/getMe")
    assert error(resp, 401) == "Unauthorized"
    assert error(HTTP.get(f"{botapi.url}/botgarbage/getMe"), 404) == "Not Found"
    assert error(call(botapi, "frobnicate"), 404) == "Not Found: method not found"
    assert ok(HTTP.get(f"{botapi.api_url}/getme"))["username"] == "QuoteTestBot"


# -- queries ------------------------------------------------------------------------------------


def article(rid: str, text: str = "quote", **extra: Any) -> dict:
    return {
        "type": "article",
        "id": rid,
        "title": "T",
        "input_message_content": {"message_text": text, **extra},
    }


def test_answer_inline_query(botapi: BotAPIStandIn):
    botapi.make_user(CHAT)
    qid = botapi.send_inline_query(CHAT, "hello")
    many = [article(str(i)) for i in range(51)]
    assert error(call(botapi, "answerInlineQuery", inline_query_id=qid, results=many)).endswith(
        "RESULTS_TOO_MUCH"
    )
    dup = [article("a"), article("a")]
    assert "RESULT_ID_DUPLICATE" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=dup, form=True)
    )
    bad_html = [article("a", "<b>x", parse_mode="HTML")]
    assert "can't parse entities" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=bad_html)
    )
    assert "MESSAGE_EMPTY" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=[article("a", "")])
    )
    assert "RESULT_ID_INVALID" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=[article("x" * 65)])
    )
    good = [article("a", "<i>ok</i>", parse_mode="HTML")]
    good[0]["reply_markup"] = keyboard("more")
    ok(call(botapi, "answerInlineQuery", inline_query_id=qid, results=good, cache_time=0))
    assert botapi.inline_answers[0]["results"][0]["id"] == "a"
    assert "query is too old" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=good)
    )


def test_query_expiry(botapi: BotAPIStandIn, chat: dict):
    botapi.query_expiry = 0.1
    qid = botapi.send_inline_query(CHAT, "slow")
    time.sleep(0.2)
    assert "query is too old" in error(
        call(botapi, "answerInlineQuery", inline_query_id=qid, results=[])
    )


def test_answer_callback_query(botapi: BotAPIStandIn, chat: dict):
    msg = ok(call(botapi, "sendMessage", chat_id=CHAT, text="pick", reply_markup=keyboard("p:1")))
    with pytest.raises(AssertionError, match="no button"):
        botapi.press_button(msg, "p:2")
    qid = botapi.press_button(msg, "p:1")
    update = botapi.pending_updates()[-1]["callback_query"]
    assert update["data"] == "p:1" and update["message"]["message_id"] == msg["message_id"]
    assert update["from"]["id"] == CHAT
    assert "MESSAGE_TOO_LONG" in error(
        call(botapi, "answerCallbackQuery", callback_query_id=qid, text="x" * 201)
    )
    ok(call(botapi, "answerCallbackQuery", callback_query_id=qid, text="done"))
    assert botapi.callback_answers[0]["text"] == "done"
    assert "query is too old" in error(call(botapi, "answerCallbackQuery", callback_query_id=qid))
    assert "query is too old" in error(call(botapi, "answerCallbackQuery", callback_query_id="1"))


def test_set_my_commands(botapi: BotAPIStandIn):
    good = [{"command": "ask", "description": "Ask a question"}]
    assert ok(call(botapi, "setMyCommands", commands=good, form=True)) is True
    for bad in (
        {"command": "Ask", "description": "x"},
        {"command": "a" * 33, "description": "x"},
        {"command": "ask", "description": ""},
        {"command": "ask", "description": "x" * 257},
    ):
        assert "BOT_COMMAND" in error(call(botapi, "setMyCommands", commands=[bad]))
    too_many = [{"command": f"c{i}", "description": "x"} for i in range(101)]
    assert error(call(botapi, "setMyCommands", commands=too_many)).endswith("BOT_COMMANDS_TOO_MUCH")


def test_blocked_user_and_unknown_method(botapi: BotAPIStandIn, chat: dict):
    assert error(call(botapi, "sendChatAction", chat_id=CHAT, action="typing"), 404)
    botapi.set_blocked(chat)
    assert error(call(botapi, "sendMessage", chat_id=CHAT, text="x"), 403).startswith("Forbidden")


def test_wait_helpers(botapi: BotAPIStandIn, chat: dict):
    threading.Timer(0.1, call, (botapi, "sendMessage"), {"chat_id": CHAT, "text": "late"}).start()
    assert botapi.wait_for_messages(1, chat_id=CHAT, timeout=5)[0]["text"] == "late"
    assert botapi.wait_for_call("sendMessage").status == 200
    with pytest.raises(AssertionError, match="sendMessage"):
        botapi.wait_for_messages(2, timeout=0.2)


# -- through python-telegram-bot ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*retry_after.*timedelta")
def test_real_ptb_bot_round_trip(botapi: BotAPIStandIn, chat: dict):
    user_msg = botapi.send_text(chat, "/ask@QuoteTestBot where is 😀?")

    async def scenario() -> None:
        async with Bot(botapi.token, base_url=botapi.url + "/bot") as bot:
            me = await bot.get_me()
            assert me.username == "QuoteTestBot" and me.supports_inline_queries
            updates = await bot.get_updates(timeout=1)
            message = updates[0].message
            assert message.text == user_msg["text"]
            assert message.parse_entities(["bot_command"]).popitem()[1] == "/ask@QuoteTestBot"
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
            sent = await bot.send_message(
                CHAT,
                "<b>Quote:</b> &lt;text&gt;",
                parse_mode="HTML",
                reply_markup=markup,
                reply_parameters=ReplyParameters(message.message_id),
            )
            assert sent.text == "Quote: <text>" and sent.entities[0].type == "bold"
            assert sent.reply_to_message.message_id == message.message_id
            with pytest.raises(BadRequest, match="(?i)unsupported start tag"):
                await bot.send_message(CHAT, "<div>x</div>", parse_mode="HTML")
            botapi.inject("sendMessage", status=429, retry_after=2)
            with pytest.raises(RetryAfter):
                await bot.send_message(CHAT, "x")
            botapi.inject("getMe", drop_connection=True)
            with pytest.raises(NetworkError):
                await bot.get_me()
            botapi.press_button(sent.to_dict(), "more:1")
            updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
            query = updates[0].callback_query
            assert query.data == "more:1" and query.message.message_id == sent.message_id
            assert await query.answer("ok")
            edited = await bot.edit_message_text("Done", CHAT, sent.message_id)
            assert edited.text == "Done" and edited.reply_markup is None
            await bot.get_updates(offset=updates[-1].update_id + 1)

    asyncio.run(scenario())
    assert botapi.pending_updates() == []
    assert [m["text"] for m in botapi.sent_messages(CHAT)] == ["Quote: <text>", "Done"]
    assert botapi.callback_answers[0]["text"] == "ok"


def test_real_ptb_conflict(botapi: BotAPIStandIn):
    async def scenario() -> None:
        # Two bot instances with the same token (PTB uses one connection for getUpdates).
        async with (
            Bot(botapi.token, base_url=botapi.url + "/bot") as bot1,
            Bot(botapi.token, base_url=botapi.url + "/bot") as bot2,
        ):
            first = asyncio.create_task(bot1.get_updates(timeout=5))
            await asyncio.sleep(0.3)
            assert await bot2.get_updates(timeout=1) == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await first

    asyncio.run(scenario())


def test_abandoned_long_poll_is_not_a_conflict(botapi: BotAPIStandIn, chat: dict):
    with pytest.raises(httpx.ReadTimeout):  # the client gives up, like a cancelled PTB poll
        HTTP.post(f"{botapi.api_url}/getUpdates", json={"timeout": 5}, timeout=0.3)
    assert botapi.wait_for_call("getUpdates", timeout=2).status == 499
    botapi.send_text(chat, "hi")
    assert len(ok(call(botapi, "getUpdates", timeout=1))) == 1
    assert [c.status for c in botapi.calls] == [499, 200]


def test_stop_cuts_long_polls_short():
    standin = BotAPIStandIn().start()
    poller = threading.Thread(
        target=lambda: pytest.raises(httpx.TransportError, call, standin, "getUpdates", timeout=30)
    )
    poller.start()
    standin.wait_for(lambda: standin._poll_generation == 1, 5)
    started = time.monotonic()
    standin.stop()
    poller.join(5)
    assert not poller.is_alive() and time.monotonic() - started < 2


def test_ptb_application_polling(botapi: BotAPIStandIn, chat: dict):
    """The whole PTB stack (Application + Updater long polling) runs against the stand-in."""

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        await update.message.reply_html(f"<i>{' '.join(context.args)}</i>", reply_markup=markup)

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("more!")

    async def scenario() -> None:
        app = Application.builder().token(botapi.token).base_url(botapi.url + "/bot").build()
        app.add_handlers([CommandHandler("ask", ask), CallbackQueryHandler(more)])
        async with app:
            await app.start()
            await app.updater.start_polling(timeout=1)
            botapi.send_text(chat, "/ask@QuoteTestBot hello there")
            reply = await asyncio.to_thread(botapi.wait_for_messages, 1, CHAT, 5)
            botapi.press_button(reply[0], "more")
            await asyncio.to_thread(botapi.wait_for_messages, 2, CHAT, 5)
            await app.updater.stop()
            await app.stop()

    asyncio.run(scenario())
    first, edited = botapi.sent_messages(CHAT)
    assert first["text"] == "hello there" and first["entities"][0]["type"] == "italic"
    assert edited["text"] == "more!" and "reply_markup" not in edited
    assert botapi.pending_updates() == [] and botapi.callback_answers
    assert not [c for c in botapi.calls if c.status not in (200, 499)], botapi.dump()


# -- files users send: getFile and downloads ------------------------------------------------------


def test_a_sent_document_is_fetched_with_get_file_then_downloaded(botapi, chat):
    msg = botapi.send_document(chat, b"%PDF-1.7\nhello", "Report.PDF", "application/pdf")
    doc = msg["document"]
    assert doc["file_name"] == "Report.PDF" and doc["file_size"] == 14
    got = ok(call(botapi, "getFile", file_id=doc["file_id"]))
    assert got["file_path"].startswith("documents/file_") and got["file_path"].endswith(".pdf")
    assert got["file_size"] == 14 and got["file_unique_id"] == doc["file_unique_id"]
    r = HTTP.get(f"{botapi.url}/file/bot{botapi.token}/{got['file_path']}")
    assert r.status_code == 200 and r.content == b"%PDF-1.7\nhello"
    assert [c.method for c in botapi.calls] == ["getFile", "download"]


def test_downloads_need_the_token_and_a_path_get_file_issued(botapi, chat):
    doc = botapi.send_document(chat, b"text", "a.txt")["document"]
    never_issued = HTTP.get(f"{botapi.url}/file/bot{botapi.token}/documents/file_1.txt")
    assert never_issued.status_code == 404
    path = ok(call(botapi, "getFile", file_id=doc["file_id"]))["file_path"]
    wrong = HTTP.get(f"{botapi.url}/file/bot123456:WRONG-token_abcdefghijklmnopqrstu/{path}")
    assert wrong.status_code == 404 and wrong.json()["description"] == "Not Found"
    assert error(call(botapi, "getFile", file_id="nope")) == "Bad Request: invalid file_id"


def test_get_file_refuses_files_over_20_mb_like_telegram(botapi, chat):
    big = botapi.send_document(chat, bytes(20 * 1024 * 1024 + 1), "big.pdf", size_known=False)
    assert "file_size" not in big["document"]
    assert error(call(botapi, "getFile", file_id=big["document"]["file_id"])) == (
        "Bad Request: file is too big"
    )
    edge = botapi.send_document(chat, bytes(20 * 1024 * 1024), "edge.pdf")["document"]
    assert ok(call(botapi, "getFile", file_id=edge["file_id"]))["file_size"] == 20 * 1024 * 1024


def test_ptb_downloads_from_its_base_file_url(botapi, chat):
    doc = botapi.send_document(chat, "Ünïcode article".encode(), "ä b.txt")["document"]

    async def main() -> bytes:
        async with Bot(
            botapi.token, base_url=botapi.url + "/bot", base_file_url=botapi.url + "/file/bot"
        ) as bot:
            file = await bot.get_file(doc["file_id"])
            return bytes(await file.download_as_bytearray())

    assert asyncio.run(main()).decode() == "Ünïcode article"
