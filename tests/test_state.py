"""The state store (state.py): conversation contexts and unanswered questions in SQLite."""

from __future__ import annotations

import sqlite3

from bot.continuation import Quote
from bot.conversation import Context, Conversation
from bot.state import STATE_FILE, UNANSWERED_DAYS, ContextStore, UnansweredLog

DAY = 86_400.0


def test_contexts_survive_a_restart_and_forget_removes_them(tmp_path):
    store = ContextStore(tmp_path)
    store.put("42", Context("What is LEMOA?", ("LEMOA",), 100.0))
    store.close()
    again = ContextStore(tmp_path)  # a restarted bot
    assert again.get("42") == Context("What is LEMOA?", ("LEMOA",), 100.0)
    assert again.get("43") is None
    again.forget("42")
    assert again.get("42") is None


def test_a_restarted_bot_reads_a_follow_up_with_the_stored_context(tmp_path, engine):
    Conversation(engine, ContextStore(tmp_path), key="7").ask("What is LEMOA?")
    answer = Conversation(engine, ContextStore(tmp_path), key="7").ask("when was it signed?")
    assert answer.reading.carried == ("LEMOA",)
    other_chat = Conversation(engine, ContextStore(tmp_path), key="8")
    assert other_chat.ask("when was it signed?").reading.carried == ()


def test_the_quotes_a_more_continues_after_survive_a_restart(tmp_path, engine):
    Conversation(engine, ContextStore(tmp_path), key="7").ask("what did hegseth say about trump")
    stored = ContextStore(tmp_path).get("7")
    assert stored is not None and stored.quoted[0] == Quote(
        "002_a85791ee8d2e1584.txt", 16, 16, stored.quoted[0].tail
    )
    more = Conversation(engine, ContextStore(tmp_path), key="7").ask("tell me more")
    assert more.hits and more.hits[0].line_start == 17


def test_a_state_file_from_before_the_quotes_column_keeps_its_contexts(tmp_path):
    conn = sqlite3.connect(tmp_path / STATE_FILE)
    conn.execute(
        "CREATE TABLE conversation_context (key TEXT PRIMARY KEY, question TEXT NOT NULL,"
        " words TEXT NOT NULL, at REAL NOT NULL)"
    )
    conn.execute(
        "INSERT INTO conversation_context VALUES ('42', 'What is LEMOA?', '[\"LEMOA\"]', 1)"
    )
    conn.commit()
    conn.close()
    store = ContextStore(tmp_path)
    assert store.get("42") == Context("What is LEMOA?", ("LEMOA",), 1.0)
    store.put("43", Context("q", ("w",), 2.0, (Quote("a.txt", 3, 4, "end."),)))
    assert store.get("43") == Context("q", ("w",), 2.0, (Quote("a.txt", 3, 4, "end."),))


def test_the_database_is_one_wal_file_in_state_dir(tmp_path):
    ContextStore(tmp_path / "state")
    UnansweredLog(tmp_path / "state")
    conn = sqlite3.connect(tmp_path / "state" / STATE_FILE)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversation_context", "unanswered"} <= tables


def test_unanswered_most_frequent_first_with_counts(tmp_path):
    log = UnansweredLog(tmp_path)
    for q in ["price of the MQ-9B?", "who won the cricket", "Price of the  MQ-9B?", "hi there"]:
        log.record(q, now=1000.0)
    log.record("who won the cricket", now=1001.0)
    log.record("price of the mq-9b?", now=1002.0)
    log.record("   ", now=1002.0)  # nothing to keep
    rows = log.most_frequent(now=1003.0)
    assert [n for _, n in rows] == [3, 2, 1]
    assert rows[0][0].lower() == "price of the mq-9b?" and rows[1][0] == "who won the cricket"
    assert log.most_frequent(limit=1, now=1003.0) == rows[:1]


def test_unanswered_entries_older_than_90_days_are_dropped(tmp_path):
    log = UnansweredLog(tmp_path)
    log.record("old question", now=0.0)
    log.record("new question", now=UNANSWERED_DAYS * DAY + 10)
    assert log.most_frequent(now=UNANSWERED_DAYS * DAY + 10) == [("new question", 1)]
    conn = sqlite3.connect(tmp_path / STATE_FILE)
    assert conn.execute("SELECT question FROM unanswered").fetchall() == [("new question",)]
    # only question text and time are kept
    assert [r[1] for r in conn.execute("PRAGMA table_info(unanswered)")] == ["id", "question", "at"]
