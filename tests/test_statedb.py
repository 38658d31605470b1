"""The state database going to memory and back (bot/statedb.py), through the journal, on small
inputs. (The bot as a process: tests/test_state_folder.py.)"""

from __future__ import annotations

import shutil
import subprocess

from bot.telegram.journal import Journal

from .test_state_folder import fill, tmpfs

BOT = 123456  # the bot id journal rows belong to


def upd(uid: int) -> dict:
    return {"update_id": uid, "message": {"message_id": uid, "text": "q" * 200}}


def ids(updates: list[dict]) -> list[int]:
    return [u["update_id"] for u in updates]


def test_a_transaction_cut_by_a_full_disk_goes_on_in_memory_and_is_written_back(tmp_path):
    with tmpfs(tmp_path / "state", size="1m") as state:
        j = Journal(state)
        j.bind(BOT)
        j.record([upd(1), upd(2)])
        j.answered(1, 11)
        fill(state)
        assert ids(j.record([upd(2), upd(3)])) == [3]  # 2 is known: read from the file
        assert j.conn.in_memory
        j.answered(3, 33)
        j.bump("possible_duplicates")
        page = j.new_page(5, "What is LEMOA?")
        j.conn.executemany("INSERT INTO migrations VALUES (?, ?)", [(-7, -1007), (-8, -1008)])
        (state / "filler").unlink()
        assert j.conn.recover() and not j.conn.in_memory
        j.close()
        again = Journal(state)  # what a restart finds
        again.bind(BOT)
        assert ids(again.unanswered()) == [2]
        assert again.is_answered(1) and again.is_answered(3)
        row = again.conn.execute("SELECT message_id FROM updates WHERE update_id = 3").fetchone()
        assert row == (33,)
        assert again.counter("possible_duplicates") == 1
        assert again.page(page, 5).question == "What is LEMOA?"
        assert again.migrated_to(-7) == -1007 and again.migrated_to(-8) == -1008
        again.close()


def test_a_start_in_a_read_only_folder_answers_what_was_left_and_journals_when_writable(tmp_path):
    with tmpfs(tmp_path / "state") as state:
        j = Journal(state)
        j.bind(BOT)
        j.record([upd(1)])  # left unanswered by a killed bot
        j.close()
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        try:
            j = Journal(state)
            j.bind(BOT)
            assert j.conn.in_memory
            assert ids(j.resume()) == [1] and j.last_update()[0] == 1
            j.answered(1, 10)
            assert ids(j.record([upd(2)])) == [2]
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
        assert j.conn.recover()
        j.close()
        again = Journal(state)
        again.bind(BOT)
        assert again.is_answered(1) and ids(again.unanswered()) == [2]
        again.close()


def test_a_removed_state_folder_is_made_again_with_everything_kept(tmp_path):
    state = tmp_path / "state"
    j = Journal(state)
    j.bind(BOT)
    j.record([upd(1), upd(2)])
    j.answered(1)
    j.migrated(-5, -1005)
    shutil.rmtree(state)  # SQLite would go on writing to the removed file
    assert ids(j.record([upd(3)])) == [3]
    assert j.conn.in_memory
    assert j.conn.recover()
    j.close()
    again = Journal(state)
    again.bind(BOT)
    assert ids(again.unanswered()) == [2, 3] and again.is_answered(1)
    assert again.migrated_to(-5) == -1005
    again.close()
