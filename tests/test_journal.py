"""The SQLite journal and state store (bot/telegram/journal.py) on small inputs."""

from __future__ import annotations

import json
import sqlite3
import time

from bot.state import STATE_FILE, connect
from bot.telegram.journal import REDELIVERY_SECONDS, Journal


def upd(uid: int, text: str = "q") -> dict:
    return {"update_id": uid, "message": {"message_id": uid, "text": text}}


def bound(state_dir, bot_id: int = 111) -> Journal:
    """The journal as the bot ``bot_id`` (from getMe) opens it."""
    j = Journal(state_dir)
    j.bind(bot_id)
    return j


def test_an_update_is_new_once_even_across_reopening(tmp_path):
    j = bound(tmp_path)
    assert [u["update_id"] for u in j.record([upd(1), upd(2)])] == [1, 2]
    assert j.record([upd(2), upd(3)]) == [upd(3)]
    j.close()
    again = bound(tmp_path)  # after a restart
    assert again.record([upd(1), upd(3)]) == []
    assert [u["update_id"] for u in again.unanswered()] == [1, 2, 3]
    assert again.last_update()[0] == 3


def test_answered_records_the_first_message_id_and_leaves_the_rest_open(tmp_path):
    j = bound(tmp_path)
    j.record([upd(1), upd(2)])
    j.answered(1, 555)
    j.answered(1, 777)  # a second send of the same update does not overwrite the first
    assert j.is_answered(1) and not j.is_answered(2)
    assert [u["update_id"] for u in j.unanswered()] == [2]
    row = j.conn.execute("SELECT message_id FROM updates WHERE update_id = 1").fetchone()
    assert row == (555,)


def test_ids_are_seen_only_while_telegram_could_deliver_them_again(tmp_path):
    """Issue 21: a pruned high-water mark swallowed new, lower ids for good. An id counts as
    seen while Telegram could deliver it again (24 h); after a quiet week Telegram may start
    its ids again lower, and then an old id is a new update."""
    j = bound(tmp_path)
    j.record([upd(1), upd(2), upd(3)])
    j.answered(1)
    j.answered(2)
    j.prune()
    assert j.counts() == (3, 1)  # nothing Telegram could still redeliver is pruned
    assert j.record([upd(1), upd(2)]) == []  # a late replay
    j.conn.execute("UPDATE updates SET received_at = received_at - ?", (REDELIVERY_SECONDS + 1,))
    assert j.record([upd(1, "new")]) == [upd(1, "new")]  # the id came round again
    time.sleep(0.01)
    j.prune(keep_seconds=0)
    assert j.counts() == (2, 2)  # only the unanswered ones are kept
    assert j.last_update()[0] == 1


def test_pages_are_opaque_and_bound_to_their_chat(tmp_path):
    j = bound(tmp_path)
    pid = j.new_page(100, "What is LEMOA?")
    assert "LEMOA" not in pid and len(pid) <= 16
    assert j.page(pid, 100).question == "What is LEMOA?"
    assert j.page(pid, 200) is None
    assert j.page("nope", 100) is None


def test_counters_and_migrations(tmp_path):
    j = Journal(tmp_path)
    j.bump("possible_duplicates")
    j.bump("possible_duplicates", 2)
    assert j.counter("possible_duplicates") == 3 and j.counter("other") == 0
    j.migrated(-5, -1005)
    assert j.migrated_from(-1005) == {-5} and j.migrated_to(-5) == -1005


def test_other_modules_share_the_database(tmp_path):
    bound(tmp_path).record([upd(1)])
    conn = connect(tmp_path)  # e.g. conversation context, unanswered-questions log
    conn.execute("CREATE TABLE IF NOT EXISTS notes (x INTEGER)")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM updates").fetchone()[0] == 1


def test_two_bots_on_one_folder_keep_their_own_updates_and_pages(tmp_path):
    a, b = bound(tmp_path, 111), bound(tmp_path, 222)
    assert a.record([upd(1), upd(2)]) == [upd(1), upd(2)]
    assert b.record([upd(1), upd(2)]) == [upd(1), upd(2)]  # the same ids, another bot
    a.answered(1)
    assert [u["update_id"] for u in b.unanswered()] == [1, 2]
    page = a.new_page(100, "What is LEMOA?")
    assert b.page(page, 100) is None and a.page(page, 100) is not None


OLD_SCHEMA = """
CREATE TABLE updates (update_id INTEGER PRIMARY KEY, body TEXT NOT NULL, received_at REAL NOT NULL,
    attempted_at REAL, answered_at REAL, message_id INTEGER);
CREATE INDEX updates_open ON updates (answered_at) WHERE answered_at IS NULL;
CREATE TABLE pages (id TEXT PRIMARY KEY, chat_id INTEGER NOT NULL, question TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE migrations (old_chat_id INTEGER PRIMARY KEY, new_chat_id INTEGER NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def test_a_journal_from_before_bots_were_told_apart_is_adopted_by_the_first_bot(tmp_path):
    old = sqlite3.connect(tmp_path / STATE_FILE)
    old.executescript(OLD_SCHEMA)
    now = time.time()
    with old:
        old.execute(
            "INSERT INTO updates VALUES (7, ?, ?, NULL, ?, 70)", (json.dumps(upd(7)), now, now)
        )
        old.execute(
            "INSERT INTO updates VALUES (8, ?, ?, NULL, NULL, NULL)", (json.dumps(upd(8)), now)
        )
        old.execute("INSERT INTO pages VALUES ('p1', 100, 'What is LEMOA?', ?)", (now,))
        old.execute("INSERT INTO counters VALUES ('pruned_below', 5), ('possible_duplicates', 2)")
    old.close()
    first = bound(tmp_path, 111)  # the bot that wrote it, after the upgrade
    assert [u["update_id"] for u in first.resume()] == [8]
    assert first.record([upd(7), upd(8), upd(3)]) == [upd(3)]  # no watermark any more
    assert first.page("p1", 100) is not None and first.last_update()[0] == 3
    assert first.counter("possible_duplicates") == 2
    other = bound(tmp_path, 222)
    assert other.resume() == [] and other.page("p1", 100) is None
    assert other.record([upd(7)]) == [upd(7)]
