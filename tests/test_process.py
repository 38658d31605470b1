"""The bot as a process (``python -m bot``) against the Bot API stand-in: kills, signals, a
revoked token, a second instance, a Bot API that never answers. Each test is written the way
the fault was first met (issue 9, "Found")."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time

import psutil
import pytest

from benchmarks.botapi.harness import PROJECT, start_process, state_dir_of, stop_process

ASK = "When was INDUS-X launched?"


def replied_ids(api, chat_id=None) -> list[int]:
    return [m["reply_to_message"]["message_id"] for m in api.sent_messages(chat_id)]


def ready(api, count: int = 1, timeout: float = 30) -> None:
    api.wait_for_call("setMyCommands", timeout=timeout, count=count)


def kill(proc) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_sigkill_while_a_reply_is_retried_then_restart_answers_it(botapi, tmp_path):
    """Found 1: the update was confirmed when fetched; killed during the retries of a 502'd
    reply, the question was never answered."""
    chat = botapi.private_chat()
    proc = start_process(botapi, tmp_path)
    try:
        ready(botapi)
        botapi.inject("sendMessage", status=502, times=50)
        asked = botapi.send_text(chat, ASK)
        botapi.wait_for(
            lambda: [c for c in botapi.calls if c.method == "sendMessage" and c.status == 502],
            what="a failed send",
        )
        botapi.wait_until_consumed()  # Telegram was told it was received
        kill(proc)
        botapi.clear_faults()
        assert botapi.sent_messages(chat["id"]) == []
        proc = start_process(botapi, tmp_path, "bot2.log")
        (reply,) = botapi.wait_for_messages(1, chat_id=chat["id"], timeout=30)
        assert reply["reply_to_message"]["message_id"] == asked["message_id"]
        assert "June 21" in reply["text"]
        time.sleep(0.5)
        out = stop_process(proc)
    finally:
        kill(proc)
    assert len(botapi.sent_messages(chat["id"])) == 1
    assert "answering 1 update(s) left from before the restart" in out


def test_sighup_reloads_the_corpus_instead_of_killing_the_bot(botapi, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT / "corpus", corpus)
    chat = botapi.private_chat()
    proc = start_process(botapi, tmp_path, CORPUS_DIR=str(corpus))
    try:
        ready(botapi)
        (corpus / "900_new.txt").write_text(
            "Lighthouse news\n\nThe northern lighthouse was repainted in bright orange stripes "
            "by the harbour volunteers last spring.\n",
            "utf-8",
        )
        proc.send_signal(signal.SIGHUP)
        botapi.wait_for(
            lambda: "now serving 6 articles" in proc.log_path.read_text(), what="the reload"
        )
        botapi.send_text(chat, "Who repainted the lighthouse?")
        (reply,) = botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)
        assert proc.poll() is None
        out = stop_process(proc)
    finally:
        kill(proc)
    assert "harbour volunteers" in reply["text"] and "900_new.txt" in reply["text"]
    assert proc.returncode == 0 and "Traceback" not in out


def test_sigterm_with_40_group_questions_queued_exits_fast_and_answers_all_after_restart(
    botapi, tmp_path
):
    """Found 2: group sends are paced (18 a minute); the bot took 70 s to exit and systemd's
    SIGKILL lost 15 of 40 questions."""
    group = botapi.group_chat()
    users = [botapi.make_user(8000 + k, f"G{k}") for k in range(8)]
    proc = start_process(botapi, tmp_path)
    try:
        ready(botapi)
        asked = [
            botapi.send_text(group, f"/ask {q}", from_user=users[k % 8])["message_id"]
            for k, q in enumerate(
                ["What is LEMOA?", "What is BECA?", "Who is Vikram Misri?", ASK] * 10
            )
        ]
        botapi.wait_until_consumed(timeout=20)
        t0 = time.monotonic()
        out = stop_process(proc)
        stopped_in = time.monotonic() - t0
        answered_before = len(botapi.sent_messages(group["id"]))
        assert proc.returncode == 0, out[-2000:]
        assert stopped_in < 10
        assert answered_before < 40  # paced: most were still queued
        proc = start_process(botapi, tmp_path, "bot2.log", GROUP_SENDS_PER_MINUTE="600")
        botapi.wait_for_messages(40, chat_id=group["id"], timeout=60)
        time.sleep(0.5)
        stop_process(proc)
    finally:
        kill(proc)
    print(
        f"\nSIGTERM with {40 - answered_before} of 40 group questions queued: exit "
        f"{proc.returncode} in {stopped_in:.1f} s; all 40 answered after restart"
    )
    assert sorted(replied_ids(botapi, group["id"])) == sorted(asked)  # each once


def test_revoked_token_ends_the_process_with_one_clear_line(botapi, tmp_path):
    """Found 6: polling stopped on "Invalid token" but the process kept running, serving
    nothing, so Restart=on-failure never fired."""
    proc = start_process(botapi, tmp_path)
    try:
        ready(botapi)
        botapi.wait_for_call("deleteWebhook")
        time.sleep(0.3)  # polling
        botapi.revoked = True
        t0 = time.monotonic()
        proc.wait(20)
        print(f"\ntoken revoked: exit {proc.returncode} after {time.monotonic() - t0:.1f} s")
        out = proc.log_path.read_text()
    finally:
        kill(proc)
    assert proc.returncode == 2
    errors = [ln for ln in out.splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "401" in errors[0], errors
    assert "Traceback" not in out


def test_a_second_instance_with_the_same_token_ends_one_of_them(botapi, tmp_path):
    """Found 6: two instances both ran, logged a 409 traceback every 2 s and answered some
    questions twice."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_process(botapi, tmp_path / "a")
    second = None
    try:
        ready(botapi)
        second = start_process(botapi, tmp_path / "b")
        ready(botapi, count=2)
        botapi.wait_for(
            lambda: first.poll() is not None or second.poll() is not None,
            timeout=30,
            what="one instance to give up",
        )
        ended, survivor = (first, second) if first.poll() is not None else (second, first)
        chat = botapi.private_chat()
        asked = botapi.send_text(chat, ASK)
        botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)
        time.sleep(1.0)
        assert survivor.poll() is None
        out = ended.log_path.read_text()
        stop_process(survivor)
    finally:
        kill(first)
        if second is not None:
            kill(second)
    assert ended.returncode == 3
    assert "another instance" in out and "Traceback" not in out
    assert replied_ids(botapi, chat["id"]) == [asked["message_id"]]


def test_sigterm_while_the_bot_api_never_answers_exits_within_10_s(botapi, tmp_path):
    """Found 11: SIGTERM waited 78 s for a Bot API that accepts connections and never
    answers."""
    chat = botapi.private_chat()
    proc = start_process(botapi, tmp_path)
    try:
        ready(botapi)
        botapi.inject("sendMessage", hang=True)
        asked = botapi.send_text(chat, ASK)
        botapi.wait_until_consumed()
        time.sleep(1.0)  # the reply is in flight and never answered
        botapi.set_down(True, mode="hang")  # and so is everything else from now on
        t0 = time.monotonic()
        out = stop_process(proc, timeout=30)
        stopped_in = time.monotonic() - t0
        botapi.set_down(False)
        botapi.release()
        proc = start_process(botapi, tmp_path, "bot2.log")
        botapi.wait_for_messages(1, chat_id=chat["id"], timeout=30)
        stop_process(proc)
    finally:
        botapi.set_down(False)
        kill(proc)
    print(f"\nSIGTERM while the Bot API never answers: exit 0 in {stopped_in:.1f} s")
    assert proc.returncode == 0 and stopped_in < 10, out[-1500:]
    assert replied_ids(botapi, chat["id"]) == [asked["message_id"]]


def _many_articles(folder, n: int) -> None:
    folder.mkdir()
    para = (
        "The harbour council of town {k} approved a new budget for the ferry line on Monday, "
        "after a long debate about the cost of fuel and the wages of the crews. "
    )
    for k in range(n):
        (folder / f"{k:05d}.txt").write_text(
            f"Town {k} news\n\n" + "\n\n".join(para.format(k=k) * 3 for _ in range(12)), "utf-8"
        )


def test_sigterm_during_the_startup_build_leaves_no_worker_behind(botapi, tmp_path):
    """Found 7: SIGTERM during the start-up build left the build workers orphaned and blocked
    for good."""
    corpus = tmp_path / "big"
    _many_articles(corpus, 1800)  # above the parallel-build threshold
    proc = start_process(botapi, tmp_path, CORPUS_DIR=str(corpus))
    try:
        parent = psutil.Process(proc.pid)
        botapi.wait_for(lambda: len(parent.children()) >= 2, timeout=30, what="build workers")
        workers = parent.children(recursive=True)
        t0 = time.monotonic()
        stop_process(proc)
        stopped_in = time.monotonic() - t0
        gone, alive = psutil.wait_procs(workers, timeout=5)
    finally:
        kill(proc)
    print(f"\nSIGTERM during the start-up build: exit 0 in {stopped_in:.1f} s, workers left: 0")
    assert proc.returncode == 0 and stopped_in < 10
    assert alive == [], [p.pid for p in alive]
    assert not any(c.method == "getUpdates" for c in botapi.calls)


@pytest.mark.parametrize("reload_interval", ["0.5"])
def test_sigterm_during_a_background_reload_exits_within_10_s(botapi, tmp_path, reload_interval):
    """Found 11: SIGTERM waited for a running background reload (73 s at 1M passages)."""
    corpus = tmp_path / "big"
    _many_articles(corpus, 1800)
    proc = start_process(botapi, tmp_path, CORPUS_DIR=str(corpus), RELOAD_INTERVAL=reload_interval)
    try:
        ready(botapi, timeout=120)
        (corpus / "00000.txt").write_text("Changed\n\nThe ferry line was closed for repairs.\n")
        parent = psutil.Process(proc.pid)
        botapi.wait_for(lambda: len(parent.children()) >= 2, timeout=30, what="rebuild workers")
        workers = parent.children(recursive=True)
        t0 = time.monotonic()
        out = stop_process(proc)
        stopped_in = time.monotonic() - t0
        _, alive = psutil.wait_procs(workers, timeout=5)
    finally:
        kill(proc)
    print(f"\nSIGTERM during a background reload: exit 0 in {stopped_in:.1f} s")
    assert proc.returncode == 0 and stopped_in < 10, out[-1500:]
    assert alive == []


def test_journal_lives_under_state_dir_and_records_the_sent_message(botapi, tmp_path):
    chat = botapi.private_chat()
    proc = start_process(botapi, tmp_path)
    try:
        ready(botapi)
        botapi.send_text(chat, ASK)
        (reply,) = botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)
        stop_process(proc)
    finally:
        kill(proc)
    db = sqlite3.connect(state_dir_of(botapi) / "bot.sqlite3")
    rows = db.execute(
        "SELECT message_id FROM updates WHERE answered_at IS NOT NULL AND message_id IS NOT NULL"
    ).fetchall()
    assert (reply["message_id"],) in rows
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
