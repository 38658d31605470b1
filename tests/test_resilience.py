"""Hardening of the bot: rate limits, access, admin commands, a flaky Telegram, restarts."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from benchmarks.botapi.harness import running_bot, start_process, stop_process

from .helpers.questions import QUESTIONS


def replies_to(api, chat_id):
    return [m["reply_to_message"]["message_id"] for m in api.sent_messages(chat_id)]


def settle(api, seconds=0.8):
    api.wait_until_consumed(timeout=15)
    time.sleep(seconds)


# -- users -----------------------------------------------------------------------------------


def test_rate_limit_one_notice_then_silence_then_answers_again(botapi, engine):
    with running_bot(botapi, engine, rate_limit_count=2, rate_limit_window=1.5):
        chat = botapi.private_chat()
        for q in QUESTIONS[:5]:
            botapi.send_text(chat, q)
        settle(botapi)
        texts = [m["text"] for m in botapi.sent_messages(chat["id"])]
        assert len(texts) == 3, texts  # two answers and one notice; the rest ignored
        assert sum("faster than I can answer" in t for t in texts) == 1
        time.sleep(1.6)
        botapi.send_text(chat, "What is COMCASA?")
        botapi.wait_for_messages(4, chat_id=chat["id"])
        assert "COMCASA" in botapi.sent_messages(chat["id"])[-1]["text"]


def test_rate_limit_applies_in_groups_per_user(botapi, engine):
    with running_bot(botapi, engine, rate_limit_count=1, rate_limit_window=30):
        group = botapi.group_chat()
        bob, carol = botapi.make_user(2002, "Bob"), botapi.make_user(2003, "Carol")
        botapi.send_text(group, "/ask What is LEMOA?", from_user=bob)
        botapi.send_text(group, "/ask What is BECA?", from_user=bob)
        botapi.send_text(group, "/ask What is QFMM?", from_user=bob)
        botapi.send_text(group, "/ask What is QFMM?", from_user=carol)
        settle(botapi)
        texts = [m["text"] for m in botapi.sent_messages(group["id"])]
        assert len(texts) == 3  # Bob: answer + notice; Carol: answer
        assert sum("faster than I can answer" in t for t in texts) == 1


def test_rate_limit_forgets_users_who_went_quiet():
    from bot.telegram.ratelimit import UserRateLimit

    lim = UserRateLimit(count=2, window=10)
    for uid in range(5000):
        assert lim.check(uid, now=0.0) == "ok"
    assert lim.check(1, now=0.0) == "ok" and lim.check(1, now=0.0) == "notify"
    assert lim.check(1, now=0.0) == "silent"
    for k in range(1000):  # later traffic from one user triggers a prune
        lim.check(99_999, now=100.0 + k * 10)
    assert len(lim) < 10
    assert lim.check(1, now=2000.0) == "ok"  # a returning user starts afresh


# -- access ----------------------------------------------------------------------------------


def test_allowed_chats_refuse_elsewhere_and_leave_groups(botapi, engine):
    ok = botapi.private_chat(1001)
    other = botapi.private_chat(3003, "Mallory")
    group = botapi.group_chat(-1009999)
    with running_bot(botapi, engine, allowed_chat_ids=frozenset({1001})):
        botapi.send_text(ok, "What is LEMOA?")
        botapi.send_text(other, "What is LEMOA?")
        botapi.send_text(group, "/ask What is LEMOA?")
        settle(botapi)
        assert "LEMOA" in botapi.sent_messages(ok["id"])[0]["text"]
        (refusal,) = botapi.sent_messages(other["id"])
        assert refusal["text"] == "Sorry, this bot is not available in this chat."
        assert [m["text"] for m in botapi.sent_messages(group["id"])] == [refusal["text"]]
        assert any(c.method == "leaveChat" for c in botapi.calls)


def test_admin_commands_are_refused_to_others_without_detail(botapi, engine):
    admin = botapi.private_chat(4004, "Admin")
    user = botapi.private_chat(1001)
    with running_bot(botapi, engine, admin_user_ids=frozenset({4004})):
        botapi.send_text(user, "What is LEMOA?")
        botapi.wait_for_messages(1, chat_id=user["id"])
        botapi.send_text(user, "/stats")
        botapi.send_text(user, "/reload")
        botapi.send_text(admin, "/stats")
        botapi.send_text(admin, "/reload")
        settle(botapi)
    refusals = [m["text"] for m in botapi.sent_messages(user["id"])][1:]
    assert refusals == ["Sorry, that command is not available to you."] * 2
    stats, reload = (m["text"] for m in botapi.sent_messages(admin["id"]))
    for word in ("uptime", "questions answered: 1", "no-match rate", "median", "passages: 47"):
        assert word in stats
    assert "47 passages" in reload


# -- a flaky Telegram ----------------------------------------------------------------------------


def test_api_unreachable_at_startup_is_retried_until_it_comes_back(botapi, engine):
    botapi.set_down(True)
    with running_bot(botapi, engine, wait_ready=False):
        time.sleep(2.5)
        assert not any(c.method == "setMyCommands" and c.status == 200 for c in botapi.calls)
        botapi.set_down(False)
        botapi.wait_for_call("setMyCommands", timeout=40)
        chat = botapi.private_chat()
        botapi.send_text(chat, "What is LEMOA?")
        botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)


def test_n_questions_through_injected_faults_get_n_replies_none_twice(botapi, engine):
    users = [botapi.private_chat(5000 + k, f"U{k}") for k in range(8)]
    with running_bot(botapi, engine):
        botapi.inject("sendMessage", status=429, retry_after=1, times=2)
        botapi.inject("sendMessage", status=502, times=3)
        botapi.inject("sendMessage", drop_connection=True, times=2)
        botapi.inject("getUpdates", status=502, times=2)
        botapi.inject("getUpdates", drop_connection=True, times=1)
        asked = {u["id"]: [] for u in users}
        for k in range(40):
            u = users[k % len(users)]
            asked[u["id"]].append(botapi.send_text(u, QUESTIONS[k % len(QUESTIONS)])["message_id"])
        botapi.wait_for(
            lambda: sum(len(botapi.sent_messages(u["id"])) for u in users) >= 40,
            timeout=60,
            what="40 replies",
        )
        settle(botapi, 1.5)
    for u in users:
        assert sorted(replies_to(botapi, u["id"])) == sorted(asked[u["id"]])  # once each


def test_getupdates_failing_for_a_while_loses_nothing(botapi, engine):
    chat = botapi.private_chat()
    with running_bot(botapi, engine):
        botapi.inject("getUpdates", status=500, times=4)
        ids = [botapi.send_text(chat, q)["message_id"] for q in QUESTIONS[:4]]
        botapi.wait_for_messages(4, chat_id=chat["id"], timeout=40)
        settle(botapi)
    assert sorted(replies_to(botapi, chat["id"])) == sorted(ids)


# -- webhook mode ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _post(url: str, body: dict, headers: dict) -> int:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_webhook_refuses_requests_without_the_secret(botapi, engine):
    port = _free_port()
    chat = botapi.private_chat()
    with running_bot(
        botapi,
        engine,
        webhook_url="https://bot.example.org/hook",
        webhook_secret="s3cret-Token_1",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    ):
        setwh = botapi.wait_for_call("setWebhook")
        assert setwh.params.get("secret_token") == "s3cret-Token_1"
        botapi.wait_for(lambda: _accepts(port), what="the webhook server listening")
        msg = botapi.send_text(chat, "What is LEMOA?")  # queued at the stand-in, not delivered
        update = {"update_id": 9001, "message": msg}
        url = f"http://127.0.0.1:{port}/telegram"
        assert _post(url, update, {}) == 403
        assert _post(url, update, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        time.sleep(0.5)
        assert botapi.sent_messages(chat["id"]) == []
        assert _post(url, update, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}) == 200
        (reply,) = botapi.wait_for_messages(1, chat_id=chat["id"])
        assert "LEMOA" in reply["text"]


# -- SIGTERM during a burst ------------------------------------------------------------------------


@pytest.mark.parametrize("burst", [30])
def test_sigterm_during_a_burst_then_restart_answers_each_once(botapi, tmp_path, burst):
    users = [botapi.private_chat(6000 + k, f"B{k}") for k in range(5)]
    proc = start_process(botapi, tmp_path)
    outputs = []
    try:
        botapi.wait_for_call("setMyCommands", timeout=30)
        asked = [
            botapi.send_text(users[k % 5], QUESTIONS[k % 8])["message_id"] for k in range(burst)
        ]
        botapi.wait_for(lambda: len(botapi.sent_messages()) >= 3, what="a few replies")
        t0 = time.monotonic()
        outputs.append(stop_process(proc))
        assert proc.returncode == 0, outputs[-1][-2000:]
        assert time.monotonic() - t0 < 10
        proc = start_process(botapi, tmp_path, "bot2.log")
        botapi.wait_for(
            lambda: len(botapi.sent_messages()) >= burst, timeout=40, what="all replies"
        )
        time.sleep(1.0)
        outputs.append(stop_process(proc))
    finally:
        if proc.poll() is None:
            proc.kill()
    got = sorted(m["reply_to_message"]["message_id"] for m in botapi.sent_messages())
    assert len(got) == burst
    assert sorted((u["id"], i) for u in users for i in replies_to(botapi, u["id"])) == sorted(
        (users[k % 5]["id"], asked[k]) for k in range(burst)
    )
    assert not any(
        c.method == "deleteWebhook" and "true" in str(c.params).lower() for c in botapi.calls
    )
    for out in outputs:
        assert botapi.token.split(":")[1] not in out and "Traceback" not in out
