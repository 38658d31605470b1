"""Telegram's update ids (issue 21): "If there are no new updates for at least a week, then
identifier of the next update will be chosen randomly instead of sequentially" -- so ids may
start again lower; and a second bot (another token) may share the STATE_DIR. Every question is
answered exactly once either way."""

from __future__ import annotations

import calendar
import json
import re
import socket
import sqlite3
import time

import pytest

from benchmarks.botapi.harness import running_bot, start_process, state_dir_of, stop_process
from benchmarks.botapi.standin import BotAPIStandIn
from bot.state import STATE_FILE

from .helpers.questions import QUESTIONS
from .test_webhook import SECRET, post_head, raw_request, webhook_env

WEEK = 7 * 86_400
BACKWARDS = "update ids went backwards"
ASK = "When was INDUS-X launched?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(api: BotAPIStandIn, chat: dict) -> list[int]:
    """The message ids the bot's messages in ``chat`` reply to, in order."""
    return [m["reply_to_message"]["message_id"] for m in api.sent_messages(chat["id"])]


def age_state(api: BotAPIStandIn, seconds: float) -> None:
    """The bot was stopped ``seconds`` ago (every journalled time moved back)."""
    conn = sqlite3.connect(state_dir_of(api) / STATE_FILE)
    with conn:
        conn.execute(
            "UPDATE updates SET received_at = received_at - ?, answered_at = answered_at - ?",
            (seconds, seconds),
        )
    conn.close()


class Deployment:
    """The bot as a process against ``api``, polling or behind its webhook (each update the
    stand-in queues is POSTed to the webhook twice: Telegram retries, the bot must answer
    once)."""

    def __init__(self, api: BotAPIStandIn, tmp_path, mode: str) -> None:
        self.api, self.tmp_path, self.mode = api, tmp_path, mode
        self.port = free_port()
        self.runs = 0

    def start(self):
        self.runs += 1
        env = webhook_env(self.port) if self.mode == "webhook" else {}
        proc = start_process(self.api, self.tmp_path, f"bot{self.runs}.log", **env)
        self.api.wait_for_call("setMyCommands", timeout=30, count=self.runs)
        if self.mode == "webhook":
            self.api.wait_for_call("setWebhook", timeout=30, count=self.runs)
        return proc

    def ask(self, chat: dict, text: str) -> dict:
        msg = self.api.send_text(chat, text)
        if self.mode == "webhook":
            update = self.api.pending_updates()[-1]
            assert update["message"]["message_id"] == msg["message_id"]
            body = json.dumps(update).encode()
            for _ in range(2):
                status = raw_request(self.port, post_head(len(body), SECRET), body)
                assert status.endswith("200 OK"), status
        return msg

    def settle(self) -> None:
        if self.mode == "polling":
            self.api.wait_until_consumed(timeout=15)
        time.sleep(1.0)  # a second answer would come now


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_ids_starting_again_lower_after_a_restart_are_each_answered_once(tmp_path, mode):
    """Reproduced: ids from 5,000,000 answered; stopped; a week later Telegram restarts at
    1,234: no answer at all, nothing in the log (polling: the journal's offset confirmed the
    new updates away; webhook: the pruned high-water mark dropped them)."""
    with BotAPIStandIn(first_update_id=5_000_000) as api:
        chat, group = api.private_chat(), api.group_chat()
        bot = Deployment(api, tmp_path, mode)
        proc = bot.start()
        try:
            asked = [bot.ask(chat, QUESTIONS[0]), bot.ask(group, f"/ask {QUESTIONS[1]}")]
            api.wait_for_messages(2, timeout=20)
            bot.settle()
            first_log = stop_process(proc)
            age_state(api, WEEK + 3600)  # Telegram restarts its ids only after a quiet week
            api.restart_update_ids(1234)
            proc = bot.start()
            asked += [bot.ask(chat, QUESTIONS[3]), bot.ask(group, f"/ask {QUESTIONS[4]}")]
            api.wait_for_messages(4, timeout=20)
            bot.settle()
            second_log = stop_process(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert answers(api, chat) == [asked[0]["message_id"], asked[2]["message_id"]]
    assert answers(api, group) == [asked[1]["message_id"], asked[3]["message_id"]]
    assert "LEMOA" in api.sent_messages(chat["id"])[0]["text"]
    assert "Misri" in api.sent_messages(chat["id"])[1]["text"]
    assert BACKWARDS not in first_log
    went_back = [ln for ln in second_log.splitlines() if BACKWARDS in ln]
    assert len(went_back) == 1 and "(5000001 -> 1234)" in went_back[0], went_back
    assert "Traceback" not in first_log + second_log


def test_ids_going_backwards_while_running_are_answered_with_one_log_line(engine):
    with BotAPIStandIn(first_update_id=5_000_000) as api:
        admin = api.private_chat(4004, "Admin")
        group = api.group_chat()
        with running_bot(api, engine, admin_user_ids=frozenset({4004})) as bot:
            asked = [api.send_text(admin, QUESTIONS[0]), api.send_text(group, "/ask What is BECA?")]
            api.wait_for_messages(2)
            api.wait_until_consumed()  # Telegram was told 5000000 and 5000001 were received
            api.restart_update_ids(1234)
            asked += [api.send_text(admin, QUESTIONS[3]), api.send_text(group, f"/ask {ASK}")]
            api.wait_for_messages(4)
            api.send_text(admin, "/stats")
            api.wait_for_messages(3, chat_id=admin["id"])
            api.wait_until_consumed()
            time.sleep(0.5)
            log_lines = list(bot.log_lines)
    *replies, stats = api.sent_messages(admin["id"])
    assert [m["reply_to_message"]["message_id"] for m in replies] == [
        asked[0]["message_id"],
        asked[2]["message_id"],
    ]
    assert answers(api, group) == [asked[1]["message_id"], asked[3]["message_id"]]
    went_back = [ln for ln in log_lines if BACKWARDS in ln]
    assert len(went_back) == 1 and "(5000001 -> 1234)" in went_back[0], went_back
    assert "last update: 1236 at " in stats["text"]  # the /stats message itself, not the highest id


def test_stats_shows_the_last_update_id_and_time(engine):
    with BotAPIStandIn(first_update_id=77_000) as api:
        admin = api.private_chat(4004, "Admin")
        with running_bot(api, engine, admin_user_ids=frozenset({4004})):
            api.send_text(admin, QUESTIONS[0])
            api.wait_for_messages(1)
            before = int(time.time())
            api.send_text(admin, "/stats")
            stats = api.wait_for_messages(2)[1]["text"]
            after = time.time()
    found = re.search(r"last update: (\d+) at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", stats)
    assert found, stats
    assert int(found[1]) == 77_001
    at = calendar.timegm(time.strptime(found[2], "%Y-%m-%d %H:%M:%S"))
    assert before <= at <= after


def test_two_tokens_on_one_state_folder_each_answer_everything(tmp_path):
    """Reproduced: bot A answered, stopped; bot B (another token) over the same STATE_DIR
    answered 0 of 5, silently: its update ids 1..5 were taken for A's."""
    a = BotAPIStandIn(token="111111:AAAA-token_abcdefghijklmnopqrst", bot_id=111111)
    b = BotAPIStandIn(token="222222:BBBB-token_abcdefghijklmnopqrst", bot_id=222222)
    with a, b:
        b.state_dir = state_dir_of(a)  # type: ignore[attr-defined]
        chats = {id(api): api.private_chat(1001, "Alice") for api in (a, b)}  # the same person
        rounds = [
            (a, [QUESTIONS[k] for k in (1, 2, 3, 4, 0)]),  # A's last question: LEMOA
            (b, ["when was it signed?", *QUESTIONS[:4]]),  # read on its own: not A's chat
            (a, QUESTIONS[:5]),
        ]
        logs = []
        for run, (api, texts) in enumerate(rounds, start=1):
            chat = chats[id(api)]
            already = len(api.sent_messages(chat["id"]))
            proc = start_process(api, tmp_path, f"bot{run}.log")
            try:
                api.wait_for_call("setMyCommands", timeout=30, count=2 if run == 3 else 1)
                asked = [api.send_text(chat, t)["message_id"] for t in texts]
                api.wait_for_messages(already + 5, chat_id=chat["id"], timeout=20)
                api.wait_until_consumed()
                time.sleep(0.8)
                logs.append(stop_process(proc))
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert answers(api, chat)[already:] == asked, f"run {run}"
    follow_up = b.sent_messages(1001)[0]["text"]
    assert not follow_up.startswith("Reading this with:"), follow_up
    for out in logs:
        assert "Traceback" not in out
