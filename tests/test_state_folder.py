"""A state folder (STATE_DIR) that stops taking writes, with the bot as a process (``python -m
bot``) against the Bot API stand-in: full, read-only, full at a restart (issue 21, items 3-5).

Each folder is a small tmpfs mounted for the test (root only; skipped when mounting is refused).
"""

from __future__ import annotations

import configparser
import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.botapi.harness import PROJECT, start_process, stop_process

# the second one has no answer: it is kept in the unanswered-questions table
QUESTIONS = ["What is LEMOA?", "Who won the cricket world cup final?", "Who is Vikram Misri?"]
UNIT = PROJECT / "deploy" / "article-quote-bot.service"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "2m", read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` (over whatever is there) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _mount(
            "-t", "tmpfs", "-o", f"{'ro,' if read_only else ''}size={size}", "tmpfs", str(folder)
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {getattr(exc, 'stderr', exc)}")
    try:
        yield folder
    finally:  # (lazily if a process still has files open there: it is killed next)
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> None:
    """Write a file in ``folder`` until no space is left."""
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 65536):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def journalled(folder: Path, message: dict) -> bool:
    """The update carrying ``message`` is in the journal on disk, answered."""
    db = sqlite3.connect(f"file:{folder / 'bot.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute(
            "SELECT answered_at FROM updates WHERE json_extract(body, '$.message.message_id') = ?",
            (message["message_id"],),
        ).fetchone()
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return row is not None and row[0] is not None


def replied(api, chat) -> list[int]:
    return [m["reply_to_message"]["message_id"] for m in api.sent_messages(chat["id"])]


def kill(proc) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def lines(out: str, text: str) -> list[str]:
    return [line for line in out.splitlines() if text in line]


def unit_restarts(code: int) -> bool:
    """Would the shipped systemd unit restart a bot that exited with ``code``?"""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    service = unit["Service"]
    prevent = {int(c) for c in service.get("RestartPreventExitStatus", "").split() if c.isdigit()}
    restart = service.get("Restart", "no")
    if code in prevent:
        return False
    return restart == "always" or (restart == "on-failure" and code != 0)


def ask_while(botapi, proc, chat, line: str) -> list[dict]:
    """Ask :data:`QUESTIONS` (after one answered question) while the folder takes no writes:
    each is answered, and the log says ``line``; the messages asked."""
    asked = [botapi.send_text(chat, q) for q in QUESTIONS]
    botapi.wait_for_messages(4, chat_id=chat["id"], timeout=15)
    botapi.wait_for(lambda: line in proc.log_path.read_text(), what="the line")
    return asked


def resumed(botapi, proc, state, chat) -> dict:
    """Once the folder takes writes again: the log says journalling resumed, and a question
    asked then is answered and in the journal on disk; that question's message."""
    botapi.wait_for(
        lambda: "journalling resumed" in proc.log_path.read_text(),
        timeout=30,
        what="journalling to resume",
    )
    after = botapi.send_text(chat, "What is COMCASA?")
    botapi.wait_for_messages(5, chat_id=chat["id"], timeout=15)
    botapi.wait_for(lambda: journalled(state, after), what="the journal on disk")
    return after


def test_a_full_state_folder_while_running_is_one_line_and_journalling_resumes(botapi, tmp_path):
    """Found (issue 21, item 3): with the state folder full, the journal's write raised inside
    the getUpdates loop; the process exited 1 and none of 3 questions was answered."""
    state = tmp_path / "state"
    chat = botapi.private_chat()
    with tmpfs(state):
        proc = start_process(botapi, tmp_path, STATE_DIR=str(state))
        try:
            botapi.send_text(chat, "When was INDUS-X launched?")
            botapi.wait_for_messages(1, chat_id=chat["id"], timeout=30)
            fill(state)
            asked = [m["message_id"] for m in ask_while(botapi, proc, chat, "state folder full")]
            (state / "filler").unlink()
            after = resumed(botapi, proc, state, chat)
            out = stop_process(proc)
            db = sqlite3.connect(state / "bot.sqlite3")
            unanswered = [q for (q,) in db.execute("SELECT question FROM unanswered")]
            db.close()
        finally:
            kill(proc)
    assert proc.returncode == 0, out[-2000:]
    assert unanswered == [QUESTIONS[1]]  # kept in memory meanwhile, written back
    assert replied(botapi, chat)[1:] == [*asked, after["message_id"]]
    full = lines(out, "state folder full")
    assert len(full) == 1 and "no space" in full[0], full
    assert len(lines(out, "journalling resumed")) == 1
    assert "Traceback" not in out


def test_a_read_only_state_folder_while_running_is_one_line_and_journalling_resumes(
    botapi, tmp_path
):
    """Reported (issue 21, item 5): the state folder made read-only under the running bot ended
    it with SIGBUS, nothing logged. Linux refuses ``mount -o remount,ro`` while a file on the
    mount is open for writing (EBUSY: the bot's database), so a read-only file system is mounted
    over STATE_DIR instead: from then on the folder the bot writes to is read-only. (The bot
    before the fix went on writing to the file hidden under it: nothing logged, nothing kept.)"""
    state = tmp_path / "state"
    chat = botapi.private_chat()
    with tmpfs(state):
        proc = start_process(botapi, tmp_path, STATE_DIR=str(state))
        try:
            first = botapi.send_text(chat, "When was INDUS-X launched?")
            botapi.wait_for_messages(1, chat_id=chat["id"], timeout=30)
            with tmpfs(state, read_only=True):
                asked = ask_while(botapi, proc, chat, "state folder read-only")
                assert proc.poll() is None  # alive (no SIGBUS)
                _mount("-o", "remount,rw", str(state))
                after = resumed(botapi, proc, state, chat)
                # and the updates answered before, and from memory
                assert all(journalled(state, m) for m in [first, *asked])
                out = stop_process(proc)
        finally:
            kill(proc)
    assert proc.returncode == 0, out[-2000:]  # (not -7: SIGBUS)
    assert replied(botapi, chat)[1:] == [m["message_id"] for m in [*asked, after]]
    assert len(lines(out, "state folder read-only")) == 1
    assert len(lines(out, "journalling resumed")) == 1
    assert "Traceback" not in out


def test_a_start_with_the_state_folder_full_serves_and_a_restart_answers_after_space_is_freed(
    botapi, tmp_path
):
    """Found (issue 21, item 4): started with the state folder full, the bot exited 2 ("disk
    I/O error"), a status the unit never restarts, so it stayed down after space was freed."""
    state = tmp_path / "state"
    chat = botapi.private_chat()
    with tmpfs(state):
        proc = start_process(botapi, tmp_path, STATE_DIR=str(state))
        try:
            first = botapi.send_text(chat, "When was INDUS-X launched?")
            botapi.wait_for_messages(1, chat_id=chat["id"], timeout=30)
            stop_process(proc)
            fill(state)
            waiting = botapi.send_text(chat, QUESTIONS[0])  # asked while the bot is down
            proc = start_process(botapi, tmp_path, "bot2.log", STATE_DIR=str(state))
            botapi.wait_for(
                lambda: proc.poll() is not None or len(botapi.sent_messages(chat["id"])) == 2,
                timeout=30,
                what="an answer or an exit",
            )
            exited = proc.poll()  # None: it serves (and has answered)
            out = stop_process(proc)
            assert exited is None or unit_restarts(exited), (
                f"exit {exited} while the state folder is full: the unit would not restart it\n"
                f"{out[-1500:]}"
            )
            assert proc.returncode == 0 or exited is not None, out[-1500:]
            assert lines(out, "no space") and "Traceback" not in out, out[-1500:]
            (state / "filler").unlink()
            later = botapi.send_text(chat, QUESTIONS[1])  # asked while the bot is down
            proc = start_process(botapi, tmp_path, "bot3.log", STATE_DIR=str(state))
            botapi.wait_for_messages(3, chat_id=chat["id"], timeout=30)
            botapi.wait_for(lambda: journalled(state, later), what="the journal on disk")
            out = stop_process(proc)
        finally:
            kill(proc)
    assert proc.returncode == 0 and "state folder" not in out, out[-1500:]
    assert sorted(replied(botapi, chat)) == [
        first["message_id"],
        waiting["message_id"],
        later["message_id"],
    ]
