"""What the bot must remember across restarts, in one SQLite database under ``STATE_DIR``.

The database is the bot's state store, ``STATE_DIR/bot.sqlite3`` (:func:`bot.state.connect`,
WAL); this connection syncs every commit to disk (``synchronous=FULL``: a commit survives power
loss). Every module keeps its own tables there (``CREATE TABLE IF NOT EXISTS``).

:class:`Journal` is the update journal and the bot's small state store:

- ``updates``: every update, written when fetched and committed *before* Telegram is told it was
  received (the next ``getUpdates`` offset, or the webhook's 200). ``answered_at`` is set when its
  reply was sent (with the sent message id) or when handling finished. On start the unanswered
  ones are handled first; an update id already in the table is never handled again (webhook
  replays too).
- ``pages``: "More passages" state, so a button carries only an opaque random id (nothing a
  client could forge into another question) and keeps working after a restart.
- ``migrations``: groups upgraded to supergroups (old id -> new id), for ``ALLOWED_CHAT_IDS``.
- ``counters``: sends that may have reached Telegram twice (the answer to the first try was
  lost: a dropped connection, or the process killed between Telegram carrying out a send and
  the bot recording it, which ``attempted_at`` reveals after the restart), sends whose outcome
  is unknown (timed out after the request was written).

Rows older than :data:`KEEP_SECONDS` are pruned; the highest pruned update id is kept, so an
older replay is still recognised.

A full, read-only or removed state folder does not end the bot: the journal goes on in memory
and is written to the file when the folder takes writes again (bot/statedb.py; one log line
each way). Meanwhile "journalled before it is confirmed" holds in memory only: a kill loses the
updates received and not yet answered.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..statedb import StateDB

KEEP_SECONDS = 7 * 24 * 3600


def open_journal_db(state_dir: Path) -> StateDB:
    """The shared state database (``bot.state.connect``), with every commit synced to disk: an
    update confirmed to Telegram must survive a power loss. A :class:`~bot.statedb.StateDB`:
    while the state folder takes no writes (full, read-only) the journal is kept in memory."""
    return StateDB(state_dir, pragmas=("PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    update_id   INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    received_at REAL NOT NULL,
    attempted_at REAL,
    answered_at REAL,
    message_id  INTEGER
);
CREATE INDEX IF NOT EXISTS updates_open ON updates (answered_at) WHERE answered_at IS NULL;
CREATE TABLE IF NOT EXISTS pages (
    id       TEXT PRIMARY KEY,
    chat_id  INTEGER NOT NULL,
    question TEXT NOT NULL,
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS migrations (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Page:
    id: str
    chat_id: int
    question: str


class Journal:
    """The update journal and state store (see the module docstring). Not thread-safe: used
    from the event loop only."""

    def __init__(self, state_dir: Path) -> None:
        self.conn = open_journal_db(state_dir)
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # -- updates ---------------------------------------------------------------------------

    def record(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write fetched updates (one durable commit); returns those not seen before, in order.
        An id at or below the pruned watermark counts as seen."""
        floor = self.counter("pruned_below")
        fresh: list[dict[str, Any]] = []
        now = time.time()
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            for u in updates:
                uid = u.get("update_id")
                if not isinstance(uid, int) or uid < floor:
                    continue
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO updates (update_id, body, received_at) VALUES (?, ?, ?)",
                    (uid, json.dumps(u, ensure_ascii=False), now),
                )
                if cur.rowcount:
                    fresh.append(u)
        return fresh

    def unanswered(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT body FROM updates WHERE answered_at IS NULL ORDER BY update_id"
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def resume(self) -> list[dict[str, Any]]:
        """The unanswered updates, at start-up. Those whose reply was being sent when the last
        process ended may have reached Telegram already: counted as possible duplicates."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            (n,) = self.conn.execute(
                "SELECT count(*) FROM updates WHERE answered_at IS NULL "
                "AND attempted_at IS NOT NULL"
            ).fetchone()
            if n:
                self.bump("possible_duplicates", n)
                self.conn.execute(
                    "UPDATE updates SET attempted_at = NULL WHERE answered_at IS NULL"
                )
        return self.unanswered()

    def not_sent(self, update_id: int) -> None:
        """The send failed with an answer from Telegram: it was not carried out."""
        self.conn.execute(
            "UPDATE updates SET attempted_at = NULL WHERE update_id = ?", (update_id,)
        )

    def attempted(self, update_id: int) -> None:
        """A reply to ``update_id`` is about to be sent."""
        self.conn.execute(
            "UPDATE updates SET attempted_at = ? WHERE update_id = ? AND answered_at IS NULL",
            (time.time(), update_id),
        )

    def answered(self, update_id: int, message_id: int | None = None) -> None:
        """Mark an update answered (first answer wins; a later call only fills a missing id)."""
        self.conn.execute(
            "UPDATE updates SET answered_at = coalesce(answered_at, ?), "
            "message_id = coalesce(message_id, ?) WHERE update_id = ?",
            (time.time(), message_id, update_id),
        )

    def is_answered(self, update_id: int) -> bool:
        row = self.conn.execute(
            "SELECT answered_at FROM updates WHERE update_id = ?", (update_id,)
        ).fetchone()
        return row is not None and row[0] is not None

    def last_update_id(self) -> int:
        row = self.conn.execute("SELECT max(update_id) FROM updates").fetchone()
        return max(row[0] or 0, self.counter("pruned_below") - 1)

    def counts(self) -> tuple[int, int]:
        """(updates journalled, of which unanswered)."""
        total, open_ = self.conn.execute(
            "SELECT count(*), count(*) - count(answered_at) FROM updates"
        ).fetchone()
        return int(total), int(open_)

    def prune(self, keep_seconds: float = KEEP_SECONDS) -> None:
        cutoff = time.time() - keep_seconds
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            row = self.conn.execute(
                "SELECT max(update_id) FROM updates WHERE answered_at IS NOT NULL "
                "AND received_at < ?",
                (cutoff,),
            ).fetchone()
            if row[0] is not None:
                self.conn.execute(
                    "DELETE FROM updates WHERE update_id <= ? AND answered_at IS NOT NULL",
                    (row[0],),
                )
                self._set("pruned_below", max(self.counter("pruned_below"), row[0] + 1))
            self.conn.execute("DELETE FROM pages WHERE created < ?", (cutoff,))

    # -- paging state --------------------------------------------------------------------------

    def new_page(self, chat_id: int, question: str) -> str:
        page_id = secrets.token_urlsafe(9)  # 12 characters, 72 random bits
        self.conn.execute(
            "INSERT INTO pages (id, chat_id, question, created) VALUES (?, ?, ?, ?)",
            (page_id, chat_id, question, time.time()),
        )
        return page_id

    def page(self, page_id: str, chat_id: int) -> Page | None:
        row = self.conn.execute(
            "SELECT id, chat_id, question FROM pages WHERE id = ? AND chat_id = ?",
            (page_id, chat_id),
        ).fetchone()
        return Page(row[0], int(row[1]), row[2]) if row else None

    # -- group migrations ------------------------------------------------------------------

    def migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO migrations (old_chat_id, new_chat_id) VALUES (?, ?)",
            (old_chat_id, new_chat_id),
        )

    def migrated_from(self, new_chat_id: int) -> set[int]:
        rows = self.conn.execute(
            "SELECT old_chat_id FROM migrations WHERE new_chat_id = ?", (new_chat_id,)
        ).fetchall()
        return {int(r[0]) for r in rows}

    def migrated_to(self, old_chat_id: int) -> int | None:
        row = self.conn.execute(
            "SELECT new_chat_id FROM migrations WHERE old_chat_id = ?", (old_chat_id,)
        ).fetchone()
        return int(row[0]) if row else None

    # -- counters --------------------------------------------------------------------------

    def counter(self, name: str) -> int:
        row = self.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def bump(self, name: str, by: int = 1) -> None:
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )

    def _set(self, name: str, value: int) -> None:
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
