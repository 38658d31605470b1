"""What the bot must remember across restarts, in one SQLite database under ``STATE_DIR``.

The database is the bot's state store, ``STATE_DIR/bot.sqlite3`` (:func:`bot.state.connect`,
WAL); this connection syncs every commit to disk (``synchronous=FULL``: a commit survives power
loss). Every module keeps its own tables there (``CREATE TABLE IF NOT EXISTS``).

:class:`Journal` is the update journal and the bot's small state store:

- ``updates``: every update, written when received and committed *before* Telegram is told it
  was received (the next ``getUpdates`` offset, or the webhook's 200). ``answered_at`` is set
  when its reply was sent (with the sent message id) or when handling finished. On start the
  unanswered ones are handled first, in the order they came.
- ``pages``: "More passages" state, so a button carries only an opaque random id (nothing a
  client could forge into another question) and keeps working after a restart.
- ``migrations``: groups upgraded to supergroups (old id -> new id), for ``ALLOWED_CHAT_IDS``.
- ``counters``: sends that may have reached Telegram twice (the answer to the first try was
  lost: a dropped connection, or the process killed between Telegram carrying out a send and
  the bot recording it, which ``attempted_at`` reveals after the restart), sends whose outcome
  is unknown (timed out after the request was written); each bot's last update (id and time).

Telegram's update ids are no watermark: "if there are no new updates for at least a week, then
identifier of the next update will be chosen randomly instead of sequentially", so ids may start
again lower. An update counts as seen only if the same bot journalled the same id within
:data:`REDELIVERY_SECONDS` (Telegram keeps an unconfirmed update 24 hours, so it can come again
only that long; an older row with the id is replaced). Ids going backwards are logged once.

Updates and pages belong to the bot that received them (its id from ``getMe``, given to
:meth:`Journal.bind`), so another token on the same ``STATE_DIR`` never takes this bot's rows
for its own. A database written before rows were keyed by bot is migrated on open; its rows are
adopted by the first bot that binds (the one that wrote them, unless the token was changed at
the same time as the upgrade).

Rows older than :data:`KEEP_SECONDS` are pruned.

A full, read-only or removed state folder does not end the bot: the journal goes on in memory
and is written to the file when the folder takes writes again (bot/statedb.py; one log line
each way). Meanwhile "journalled before it is confirmed" holds in memory only: a kill loses the
updates received and not yet answered.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..statedb import StateDB

log = logging.getLogger("bot.telegram")

KEEP_SECONDS = 7 * 24 * 3600
# Telegram keeps an unconfirmed update for 24 hours: only that long can it come again (+ margin)
REDELIVERY_SECONDS = 26 * 3600
# ids a little lower than the last one are webhook deliveries out of order, not a new sequence
BACKWARDS_SLACK = 1000


def open_journal_db(state_dir: Path) -> StateDB:
    """The shared state database (``bot.state.connect``), with every commit synced to disk: an
    update confirmed to Telegram must survive a power loss. A :class:`~bot.statedb.StateDB`:
    while the state folder takes no writes (full, read-only) the journal is kept in memory."""
    return StateDB(state_dir, pragmas=("PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000"))


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS updates (
    bot_id      INTEGER NOT NULL,
    update_id   INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at REAL NOT NULL,
    attempted_at REAL,
    answered_at REAL,
    message_id  INTEGER,
    PRIMARY KEY (bot_id, update_id)
)""",
    "CREATE INDEX IF NOT EXISTS updates_waiting ON updates (bot_id, answered_at) "
    "WHERE answered_at IS NULL",
    "CREATE INDEX IF NOT EXISTS updates_received ON updates (received_at)",
    """CREATE TABLE IF NOT EXISTS pages (
    id       TEXT PRIMARY KEY,
    chat_id  INTEGER NOT NULL,
    question TEXT NOT NULL,
    created  REAL NOT NULL,
    bot_id   INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS migrations (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
)""",
]
UNBOUND = 0  # rows journalled before they were keyed by bot: adopted by the first bot to bind


def _columns(conn: StateDB, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _migrate(conn: StateDB) -> None:
    """Key a journal written before updates and pages were kept per bot (in the caller's
    transaction): its rows get :data:`UNBOUND`; the old high-water mark goes."""
    old = _columns(conn, "updates")
    if old and "bot_id" not in old:
        conn.execute("DROP INDEX IF EXISTS updates_open")
        conn.execute("ALTER TABLE updates RENAME TO updates_unkeyed")
        conn.execute(_SCHEMA[0])
        conn.execute(
            "INSERT INTO updates (bot_id, update_id, body, received_at, attempted_at, "
            "answered_at, message_id) SELECT ?, update_id, body, received_at, attempted_at, "
            "answered_at, message_id FROM updates_unkeyed ORDER BY update_id",
            (UNBOUND,),
        )
        conn.execute("DROP TABLE updates_unkeyed")
        if _columns(conn, "counters"):
            conn.execute("DELETE FROM counters WHERE name = 'pruned_below'")
    pages = _columns(conn, "pages")
    if pages and "bot_id" not in pages:
        conn.execute(f"ALTER TABLE pages ADD COLUMN bot_id INTEGER NOT NULL DEFAULT {UNBOUND}")


@dataclass(frozen=True)
class Page:
    id: str
    chat_id: int
    question: str


class Journal:
    """The update journal and state store (see the module docstring). Not thread-safe: used
    from the event loop only. Updates and pages need :meth:`bind` first."""

    def __init__(self, state_dir: Path) -> None:
        self.conn = open_journal_db(state_dir)
        self.bot_id: int | None = None
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            _migrate(self.conn)
            for statement in _SCHEMA:
                self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    def bind(self, bot_id: int) -> None:
        """Serve as bot ``bot_id`` (from ``getMe``): its updates and pages only. The first bot
        to bind adopts rows journalled before they were keyed by bot."""
        self.bot_id = bot_id
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            adopted = self.conn.execute(
                "UPDATE updates SET bot_id = ? WHERE bot_id = ?", (bot_id, UNBOUND)
            ).rowcount
            self.conn.execute("UPDATE pages SET bot_id = ? WHERE bot_id = ?", (bot_id, UNBOUND))
            if adopted and not self.counter(self._last_at_key):
                last, at = self.conn.execute(
                    "SELECT update_id, received_at FROM updates WHERE bot_id = ? "
                    "ORDER BY received_at DESC, rowid DESC LIMIT 1",
                    (bot_id,),
                ).fetchone()
                self._set(self._last_id_key, last)
                self._set(self._last_at_key, int(at))
        if adopted:
            log.info("journal: %d update(s) from before updates were kept per bot adopted", adopted)

    @property
    def _bot(self) -> int:
        if self.bot_id is None:
            raise RuntimeError("the journal is not bound to a bot yet (Journal.bind)")
        return self.bot_id

    @property
    def _last_id_key(self) -> str:
        return f"last_update_id:{self._bot}"

    @property
    def _last_at_key(self) -> str:
        return f"last_update_at:{self._bot}"

    # -- updates ---------------------------------------------------------------------------

    def record(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write received updates (one durable commit); returns those not seen before, in
        order. Seen: this bot journalled the id within :data:`REDELIVERY_SECONDS`."""
        bot = self._bot
        fresh: list[dict[str, Any]] = []
        went_back: list[tuple[int, int]] = []
        now = time.time()
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            last = self.counter(self._last_id_key) if self.counter(self._last_at_key) else None
            for u in updates:
                uid = u.get("update_id")
                if not isinstance(uid, int):
                    log.warning("an update without an update_id was ignored")
                    continue
                row = self.conn.execute(
                    "SELECT received_at, answered_at FROM updates "
                    "WHERE bot_id = ? AND update_id = ?",
                    (bot, uid),
                ).fetchone()
                if row is not None and row[0] >= now - REDELIVERY_SECONDS:
                    continue  # Telegram delivered it again
                if row is not None:  # the id was used before Telegram restarted its sequence
                    if row[1] is None:
                        log.warning(
                            "update %s journalled %.0f h ago was never answered; a new update "
                            "with the same id takes its place",
                            uid,
                            (now - row[0]) / 3600,
                        )
                    self.conn.execute(
                        "DELETE FROM updates WHERE bot_id = ? AND update_id = ?", (bot, uid)
                    )
                self.conn.execute(
                    "INSERT INTO updates (bot_id, update_id, body, received_at) "
                    "VALUES (?, ?, ?, ?)",
                    (bot, uid, json.dumps(u, ensure_ascii=False), now),
                )
                fresh.append(u)
                if last is not None and uid < last - BACKWARDS_SLACK:
                    went_back.append((last, uid))
                last = uid
            if fresh:
                self._set(self._last_id_key, fresh[-1]["update_id"])
                self._set(self._last_at_key, int(now))
        for before, after in went_back:
            log.warning(
                "update ids went backwards (%d -> %d): Telegram restarted its sequence; "
                "carrying on",
                before,
                after,
            )
        return fresh

    def last_update(self) -> tuple[int, int] | None:
        """(id, unix time) of this bot's last new update, or None before the first."""
        at = self.counter(self._last_at_key)
        return (self.counter(self._last_id_key), at) if at else None

    def unanswered(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT body FROM updates WHERE bot_id = ? AND answered_at IS NULL "
            "ORDER BY received_at, rowid",
            (self._bot,),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def resume(self) -> list[dict[str, Any]]:
        """The unanswered updates, at start-up. Those whose reply was being sent when the last
        process ended may have reached Telegram already: counted as possible duplicates."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            (n,) = self.conn.execute(
                "SELECT count(*) FROM updates WHERE bot_id = ? AND answered_at IS NULL "
                "AND attempted_at IS NOT NULL",
                (self._bot,),
            ).fetchone()
            if n:
                self.bump("possible_duplicates", n)
                self.conn.execute(
                    "UPDATE updates SET attempted_at = NULL "
                    "WHERE bot_id = ? AND answered_at IS NULL",
                    (self._bot,),
                )
        return self.unanswered()

    def not_sent(self, update_id: int) -> None:
        """The send failed with an answer from Telegram: it was not carried out."""
        self.conn.execute(
            "UPDATE updates SET attempted_at = NULL WHERE bot_id = ? AND update_id = ?",
            (self._bot, update_id),
        )

    def attempted(self, update_id: int) -> None:
        """A reply to ``update_id`` is about to be sent."""
        self.conn.execute(
            "UPDATE updates SET attempted_at = ? "
            "WHERE bot_id = ? AND update_id = ? AND answered_at IS NULL",
            (time.time(), self._bot, update_id),
        )

    def answered(self, update_id: int, message_id: int | None = None) -> None:
        """Mark an update answered (first answer wins; a later call only fills a missing id)."""
        self.conn.execute(
            "UPDATE updates SET answered_at = coalesce(answered_at, ?), "
            "message_id = coalesce(message_id, ?) WHERE bot_id = ? AND update_id = ?",
            (time.time(), message_id, self._bot, update_id),
        )

    def is_answered(self, update_id: int) -> bool:
        row = self.conn.execute(
            "SELECT answered_at FROM updates WHERE bot_id = ? AND update_id = ?",
            (self._bot, update_id),
        ).fetchone()
        return row is not None and row[0] is not None

    def counts(self) -> tuple[int, int]:
        """(updates journalled, of which unanswered) for this bot (every bot's before
        :meth:`bind`)."""
        total, open_ = self.conn.execute(
            "SELECT count(*), count(*) - count(answered_at) FROM updates "
            "WHERE ? IS NULL OR bot_id = ?",
            (self.bot_id, self.bot_id),
        ).fetchone()
        return int(total), int(open_)

    def prune(self, keep_seconds: float = KEEP_SECONDS) -> None:
        """Delete answered updates and pages older than ``keep_seconds`` (every bot's)."""
        cutoff = time.time() - keep_seconds
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "DELETE FROM updates WHERE received_at < ? AND answered_at IS NOT NULL",
                (cutoff,),
            )
            self.conn.execute("DELETE FROM pages WHERE created < ?", (cutoff,))

    # -- paging state --------------------------------------------------------------------------

    def new_page(self, chat_id: int, question: str) -> str:
        page_id = secrets.token_urlsafe(9)  # 12 characters, 72 random bits
        self.conn.execute(
            "INSERT INTO pages (id, chat_id, question, created, bot_id) VALUES (?, ?, ?, ?, ?)",
            (page_id, chat_id, question, time.time(), self._bot),
        )
        return page_id

    def page(self, page_id: str, chat_id: int) -> Page | None:
        row = self.conn.execute(
            "SELECT id, chat_id, question FROM pages WHERE id = ? AND chat_id = ? AND bot_id = ?",
            (page_id, chat_id, self._bot),
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
