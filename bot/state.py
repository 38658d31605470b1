"""The bot's state store: one SQLite file, ``STATE_DIR/bot.sqlite3``, in WAL mode.

Tables here (each created with ``CREATE TABLE IF NOT EXISTS``; other modules keep their own
tables in the same file):

- ``conversation_context``: the last question of each chat (its carried words, time and the
  places of the quotes it got, for "more on that"), so a restart keeps follow-ups working (a
  file from before the ``quoted`` column gets it, empty, when opened). Keyed by a text key: the
  chat id for private chats; a bot sets :attr:`ContextStore.scope` to its own id, which
  prefixes its keys (a private chat's id is the user's, the same for every bot that shares the
  folder). Keys from before the prefix are left alone and deleted after a week like any other.
- ``unanswered``: questions that got no confident answer, question text and time only (no user
  or chat ids), so the operator learns which articles to add. Entries older than
  :data:`UNANSWERED_DAYS` days are dropped.

Every object holds its own connection behind a lock, so the bot's worker threads may share it.
The connections are :class:`bot.statedb.StateDB`: when the state folder is full, read-only or
gone, a handler's write is kept in memory instead of failing (a follow-up's context, an
unanswered question are then not persisted until the folder takes writes again; one log line).
:func:`connect` (WAL mode) is defined there too.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from .continuation import Quote
from .conversation import Context
from .statedb import STATE_FILE, StateDB, connect

__all__ = ["STATE_FILE", "ContextStore", "UnansweredLog", "connect"]

UNANSWERED_DAYS = 90
CONTEXT_KEEP_SECONDS = 7 * 86_400  # stored contexts older than this are deleted
MAX_QUESTION_CHARS = 500  # a logged question is cut to this many characters


class _Table:
    def __init__(self, state_dir: Path) -> None:
        self._conn = StateDB(Path(state_dir))
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class ContextStore(_Table):
    """Conversation contexts by key (``conversation.ContextMemory``); keys are kept under
    ``scope`` when one is set (the bot's id)."""

    def __init__(self, state_dir: Path, scope: str = "") -> None:
        super().__init__(state_dir)
        self.scope = scope
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS conversation_context ("
                " key TEXT PRIMARY KEY, question TEXT NOT NULL, words TEXT NOT NULL,"
                " at REAL NOT NULL, quoted TEXT NOT NULL DEFAULT '[]')"
            )
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(conversation_context)")}
            if "quoted" not in columns:  # a state file of a release before "more on that"
                self._conn.execute(
                    "ALTER TABLE conversation_context ADD COLUMN quoted TEXT NOT NULL DEFAULT '[]'"
                )

    def _key(self, key: str) -> str:
        return f"{self.scope}/{key}" if self.scope else key

    def get(self, key: str) -> Context | None:
        key = self._key(key)
        with self._lock:
            row = self._conn.execute(
                "SELECT question, words, at, quoted FROM conversation_context WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        try:
            words = tuple(str(w) for w in json.loads(row[1]))
            quoted = tuple(
                Quote(str(f), int(a), int(b), str(t)) for f, a, b, t in json.loads(row[3])
            )
        except (ValueError, TypeError):
            return None
        return Context(row[0], words, float(row[2]), quoted)

    def put(self, key: str, context: Context) -> None:
        key = self._key(key)
        quoted = [[q.file, q.line_start, q.line_end, q.tail] for q in context.quoted]
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO conversation_context (key, question, words, at, quoted)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    context.question,
                    json.dumps(list(context.words)),
                    context.at,
                    json.dumps(quoted, ensure_ascii=False),
                ),
            )
            self._conn.execute(
                "DELETE FROM conversation_context WHERE at < ?",
                (context.at - CONTEXT_KEEP_SECONDS,),
            )

    def forget(self, key: str) -> None:
        key = self._key(key)
        with self._lock:
            self._conn.execute("DELETE FROM conversation_context WHERE key = ?", (key,))


class UnansweredLog(_Table):
    """Questions without a confident answer: ``record`` them, list the ``most_frequent``."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS unanswered ("
                " id INTEGER PRIMARY KEY, question TEXT NOT NULL, at REAL NOT NULL)"
            )
            self._conn.execute("CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at)")

    def record(self, question: str, now: float | None = None) -> None:
        """Keep one unanswered question (whitespace folded; empty ones are not kept)."""
        text = " ".join(question.split())[:MAX_QUESTION_CHARS]
        if not text:
            return
        now = time.time() if now is None else now
        with self._lock:
            self._conn.execute("INSERT INTO unanswered (question, at) VALUES (?, ?)", (text, now))
            self._conn.execute(
                "DELETE FROM unanswered WHERE at < ?", (now - UNANSWERED_DAYS * 86_400,)
            )

    def most_frequent(self, limit: int = 20, now: float | None = None) -> list[tuple[str, int]]:
        """(question, times asked) of the last 90 days, most frequent first; questions that
        differ only in case are one."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._conn.execute(
                "SELECT question, COUNT(*) AS n, MAX(at) AS last FROM unanswered WHERE at >= ?"
                " GROUP BY question COLLATE NOCASE ORDER BY n DESC, last DESC LIMIT ?",
                (now - UNANSWERED_DAYS * 86_400, limit),
            ).fetchall()
        return [(str(q), int(n)) for q, n, _ in rows]
