"""The SQLite journal and state store (bot/telegram/journal.py) on small inputs."""

from __future__ import annotations

import time

from bot.state import connect
from bot.telegram.journal import Journal


def upd(uid: int, text: str = "q") -> dict:
    return {"update_id": uid, "message": {"message_id": uid, "text": text}}


def test_an_update_is_new_once_even_across_reopening(tmp_path):
    j = Journal(tmp_path)
    assert [u["update_id"] for u in j.record([upd(1), upd(2)])] == [1, 2]
    assert j.record([upd(2), upd(3)]) == [upd(3)]
    j.close()
    again = Journal(tmp_path)  # after a restart
    assert again.record([upd(1), upd(3)]) == []
    assert [u["update_id"] for u in again.unanswered()] == [1, 2, 3]
    assert again.last_update_id() == 3


def test_answered_records_the_first_message_id_and_leaves_the_rest_open(tmp_path):
    j = Journal(tmp_path)
    j.record([upd(1), upd(2)])
    j.answered(1, 555)
    j.answered(1, 777)  # a second send of the same update does not overwrite the first
    assert j.is_answered(1) and not j.is_answered(2)
    assert [u["update_id"] for u in j.unanswered()] == [2]
    row = j.conn.execute("SELECT message_id FROM updates WHERE update_id = 1").fetchone()
    assert row == (555,)


def test_pruned_ids_are_still_recognised_as_seen(tmp_path):
    j = Journal(tmp_path)
    j.record([upd(1), upd(2), upd(3)])
    j.answered(1)
    j.answered(2)
    time.sleep(0.01)
    j.prune(keep_seconds=0)
    assert j.counts() == (1, 1)  # only the unanswered one is kept
    assert j.record([upd(1), upd(2)]) == []  # a late replay of a pruned id
    assert j.last_update_id() == 3


def test_pages_are_opaque_and_bound_to_their_chat(tmp_path):
    j = Journal(tmp_path)
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
    Journal(tmp_path).record([upd(1)])
    conn = connect(tmp_path)  # e.g. conversation context, unanswered-questions log
    conn.execute("CREATE TABLE IF NOT EXISTS notes (x INTEGER)")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM updates").fetchone()[0] == 1
