"""The state database, degrading to memory instead of ending the bot.

Everything the bot keeps in ``STATE_DIR/bot.sqlite3`` (the update journal,
bot/telegram/journal.py; contexts and unanswered questions, bot/state.py) goes through a
:class:`StateDB`: a small stand-in for an ``sqlite3.Connection`` (``execute``, ``executescript``,
``with`` for a transaction, ``close``) with one file connection of its own.

When the state folder stops taking writes -- full (no space left), read-only, not writable,
removed, failing with I/O errors -- SQLite raises on a write. StateDB does not pass that on: it
copies its own tables into an in-memory database (read from the file while it can still be read),
carries out the statement, or the whole transaction, there, and from then on works in memory and
keeps every write it makes. One ERROR line says what happened, naming the cause ("state folder
full: ..." / "state folder read-only: ..."): one per episode for the whole folder, however many
connections and updates it touches. Every :data:`RETRY_SECONDS` a background thread makes a test
write in the folder; once that succeeds it writes the kept changes to the file in one transaction
(all tables from memory when the file is new, e.g. the folder was removed and made again), and the
StateDB goes back to the file; one line says so.

The guarantee lost meanwhile is durability: updates are still journalled before Telegram is told
they were received and are still handled and answered, but the journal is in memory. A kill, a
crash or a power loss before the folder takes writes again loses it, and with it the updates
received and not yet answered (Telegram counts them as delivered); a stop meanwhile makes one
last attempt and logs what could not be written. Memory grows with the traffic until then.

The same holds at start-up: a state folder that cannot be opened for writing is read into memory
if it can be read (so updates left unanswered before are still answered) and the bot serves.
Only a STATE_DIR that is not a folder, or a file there that is not an SQLite database, is an
error (a configuration error: raised, the bot exits 2).

No SIGBUS: the database file is never memory-mapped (``mmap_size=0``, also SQLite's default).
WAL's ``-shm`` index is, but SQLite writes every page of it before mapping it, so no space
there is an error too (``SQLITE_IOERR_SHMSIZE``, the "disk I/O error" of a start on a full
disk), not a fault. ``locking_mode=EXCLUSIVE`` (index in the heap) would lock every other
process out of the file while the bot runs: ``python -m bot unanswered``, online backups.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

log = logging.getLogger("bot.state")

STATE_FILE = "bot.sqlite3"

RETRY_SECONDS = 2.0  # between test writes while the folder takes no writes
MAX_RETRY_SECONDS = 60.0  # between attempts to write back that fail although the test write did
_STORAGE_CODES = {
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
}
_STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.ENOENT,
}
_CREATE_TABLE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(\w+)", re.IGNORECASE
)


def connect(state_dir: Path) -> sqlite3.Connection:
    """A plain connection to the state database (created with its folder if missing), WAL mode,
    never memory-mapped: a fault on a mapped page would be SIGBUS, not an error."""
    state_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        state_dir / STATE_FILE, timeout=10, check_same_thread=False, isolation_level=None
    )
    try:
        conn.execute("PRAGMA mmap_size=0")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def is_storage_error(exc: BaseException) -> bool:
    """An error the state folder causes (full, read-only, permissions, I/O), not the SQL."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _STORAGE_CODES
    return isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS


def probe(state_dir: Path) -> OSError | None:
    """A test write of one page in ``state_dir`` (made if missing, nothing left behind): the
    error it meets, or None."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=state_dir) as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        return exc
    return None


def condition(state_dir: Path, exc: BaseException) -> str:
    """What is wrong with the state folder, in words an operator acts on."""
    tried = probe(state_dir)
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    err = tried.errno if tried is not None else getattr(exc, "errno", None)
    if code == sqlite3.SQLITE_FULL or err in (errno.ENOSPC, errno.EDQUOT):
        return "full"
    if err == errno.EROFS:
        return "read-only"
    if err in (errno.EACCES, errno.EPERM):
        return "not writable"
    if err == errno.ENOENT or getattr(exc, "sqlite_errorcode", None) == 1032:  # DBMOVED
        return "removed"
    return "failing"


_UNTIL = {
    "full": "state folder full: replies are not journalled until space is freed (no space "
    "left on the device of STATE_DIR={dir})",
    "read-only": "state folder read-only: replies are not journalled until it is made "
    "writable (STATE_DIR={dir} is on a read-only file system)",
    "not writable": "state folder not writable: replies are not journalled until it is "
    "(permission denied in STATE_DIR={dir})",
    "removed": "state folder removed: replies are not journalled until STATE_DIR={dir} and "
    "its database can be made again",
    "failing": "state folder failing ({exc}): replies are not journalled until STATE_DIR={dir} "
    "takes writes again",
}


class _Folder:
    """One state folder's health, shared by every StateDB on it: one line per episode, one
    thread that retries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.down: set[StateDB] = set()
        self.written = 0
        self.thread: threading.Thread | None = None

    def failed(self, db: StateDB, exc: BaseException) -> None:
        what = condition(self.path, exc)
        with self.lock:
            first = not self.down
            self.down.add(db)
            if first:
                self.written = 0
                log.error(
                    "%s; answering from memory meanwhile (a kill or restart before then loses "
                    "what is kept there), checking every %.0f s",
                    _UNTIL[what].format(dir=self.path, exc=exc),
                    RETRY_SECONDS,
                )
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._retry, name="state-folder-retry", daemon=True
                )
                self.thread.start()

    def closed(self, db: StateDB) -> None:
        with self.lock:
            self.down.discard(db)

    def recovered(self, db: StateDB, changes: int) -> None:
        with self.lock:
            if db not in self.down:
                return
            self.down.discard(db)
            self.written += changes
            if not self.down:
                log.warning(
                    "state folder writable again: journalling resumed (%d change(s) kept in "
                    "memory written to %s)",
                    self.written,
                    self.path / STATE_FILE,
                )

    def _retry(self) -> None:
        delay = RETRY_SECONDS
        while True:
            time.sleep(delay)
            with self.lock:
                dbs = list(self.down)
                if not dbs:
                    self.thread = None
                    return
            if probe(self.path) is not None:
                continue
            if not all([db.recover() for db in dbs]):  # (a large write-back is not cheap)
                delay = min(delay * 2, MAX_RETRY_SECONDS)


_FOLDERS: dict[str, _Folder] = {}
_FOLDERS_LOCK = threading.Lock()


def _folder(state_dir: Path) -> _Folder:
    key = os.path.abspath(state_dir)
    with _FOLDERS_LOCK:
        if key not in _FOLDERS:
            _FOLDERS[key] = _Folder(Path(key))
        return _FOLDERS[key]


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _kind(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if word in ("BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"):
        return "tx"
    if word in ("CREATE", "ALTER", "DROP"):
        return "ddl"
    if word in ("SELECT", "PRAGMA", "EXPLAIN", ""):
        return "read"
    return "write"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class StateDB:
    """The state database for one owner's tables (those it creates), degrading to memory (see
    the module docstring). Thread-safe; a ``with`` block holds it for the whole transaction."""

    def __init__(self, state_dir: Path, pragmas: tuple[str, ...] = ()) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / STATE_FILE
        self._pragmas = pragmas
        self._lock = threading.RLock()
        self._ddl: list[tuple[bool, str]] = []  # (is a script, text), in order
        self._tables: list[str] = []
        self._mem: sqlite3.Connection | None = None
        self._redo: list[tuple[str, Any]] = []  # writes made in memory, in order
        self._tx: list[tuple[str, str, Any]] | None = None  # the open transaction's statements
        self._folder = _folder(self.state_dir)
        self._disk: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # the file's device and inode when opened
        self.lost = 0  # changes not written when closed (the folder still took no writes)
        try:
            self._disk = self._open()
        except (OSError, sqlite3.Error) as exc:
            if not is_storage_error(exc):
                raise
            self._degrade(exc)

    @property
    def in_memory(self) -> bool:
        """True while the state folder takes no writes (the tables are in memory)."""
        return self._mem is not None

    # -- the connection's interface ----------------------------------------------------------

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        kind = _kind(sql)
        with self._lock:
            if kind == "ddl":
                self._note_ddl(False, sql)
            if self._disk is not None:
                try:
                    if kind in ("write", "tx"):
                        self._check_file()
                    cur = self._disk.execute(sql, params)
                except (OSError, sqlite3.Error) as exc:
                    if not is_storage_error(exc):
                        raise
                    self._degrade(exc)
                else:
                    if self._tx is not None and kind != "read":
                        self._tx.append((kind, sql, params))
                    return cur
            assert self._mem is not None
            cur = self._mem.execute(sql, params)
            if self._tx is not None and kind != "read":
                self._tx.append((kind, sql, params))
            elif kind == "write":
                self._redo.append((sql, params))
            return cur

    def executemany(self, sql: str, seq: Any) -> sqlite3.Cursor | None:
        """``execute`` for each parameter set (outside a transaction each is its own commit, as
        with a connection in autocommit mode)."""
        cur = None
        with self._lock:
            for params in seq:
                cur = self.execute(sql, params)
        return cur

    def executescript(self, script: str) -> None:
        with self._lock:
            self._note_ddl(True, script)
            if self._disk is not None:
                try:
                    self._disk.executescript(script)
                    return
                except sqlite3.Error as exc:
                    if not is_storage_error(exc):
                        raise
                    self._degrade(exc)
            assert self._mem is not None
            self._mem.executescript(script)

    def __enter__(self) -> StateDB:
        self._lock.acquire()
        self._tx = []
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is not None:
                with contextlib.suppress(sqlite3.Error):
                    (self._disk or self._mem).rollback()  # type: ignore[union-attr]
                return
            if self._disk is not None:
                try:
                    self._disk.commit()
                    return
                except sqlite3.Error as error:
                    if not is_storage_error(error):
                        with contextlib.suppress(sqlite3.Error):
                            self._disk.rollback()
                        raise
                    self._degrade(error)  # the transaction is carried out again in memory
            assert self._mem is not None and self._tx is not None
            self._mem.commit()
            self._redo.extend((sql, p) for kind, sql, p in self._tx if kind == "write")
        finally:
            self._tx = None
            self._lock.release()

    def close(self) -> None:
        """Close; while in memory, one last attempt to write the kept changes, and a line
        saying how many are lost if that fails."""
        with self._lock:
            if self._mem is not None and not self.recover() and self._redo:
                self.lost = len(self._redo)
                log.warning(
                    "%d change(s) to the state tables %s were kept only in memory and are lost "
                    "(the state folder still takes no writes)",
                    len(self._redo),
                    ", ".join(self._tables),
                )
            self._folder.closed(self)
            for conn in (self._disk, self._mem):
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
            self._disk = self._mem = None

    # -- degrading and recovering --------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = connect(self.state_dir)
        try:
            for pragma in self._pragmas:
                conn.execute(pragma)
            self._file = _identity(self.path)
        except (OSError, sqlite3.Error):
            conn.close()
            raise
        return conn

    def _check_file(self) -> None:
        """Before a write: the file is still at its path. SQLite (WAL) goes on writing to a
        file removed or unmounted under it, which no restart would find again."""
        try:
            now: tuple[int, int] | None = _identity(self.path)
        except OSError:
            now = None
        if now != self._file:
            raise FileNotFoundError(
                errno.ENOENT, "the state database is no longer there", str(self.path)
            )

    def _note_ddl(self, script: bool, text: str) -> None:
        """Keep a schema statement (run again in memory, or on a new file); while in memory, a
        table it names is first read from the file."""
        self._ddl.append((script, text))
        new = [n for n in _CREATE_TABLE.findall(text) if n not in self._tables]
        self._tables.extend(new)
        if self._mem is not None and new:
            self._seed(None, new)

    def _degrade(self, exc: BaseException) -> None:
        """Move to memory: the tables copied from the file (as far as it can be read), the open
        transaction carried out again there."""
        disk, self._disk = self._disk, None
        if disk is not None:
            with contextlib.suppress(sqlite3.Error):
                disk.rollback()
        self._mem = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._redo = []
        self._seed(disk, self._tables)
        for script, text in self._ddl:
            with contextlib.suppress(sqlite3.Error):
                (self._mem.executescript if script else self._mem.execute)(text)
        if disk is not None:
            with contextlib.suppress(sqlite3.Error):
                disk.close()
        for _, sql, params in self._tx or ():
            self._mem.execute(sql, params)
        self._folder.failed(self, exc)

    def _seed(self, disk: sqlite3.Connection | None, tables: list[str]) -> None:
        """Copy ``tables`` (schema, rows, indexes) from the file into memory; one that cannot
        be read starts empty."""
        assert self._mem is not None
        have = {r[0] for r in self._mem.execute("SELECT name FROM sqlite_master")}
        tables = [t for t in tables if t not in have]
        src = disk if disk is not None or not tables else self._read_only()
        if src is None or not tables:
            return
        try:
            for name in tables:
                try:
                    schema = src.execute(
                        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
                        "ORDER BY type = 'index'",
                        (name,),
                    ).fetchall()
                    rows = src.execute(f"SELECT * FROM {_quote(name)}").fetchall()
                except sqlite3.Error:
                    continue
                if not schema:
                    continue
                # (inside a caller's transaction, the copy is part of it: a table is first
                # named by its CREATE, which may come after the BEGIN that moved to memory)
                outer = self._mem.in_transaction
                if not outer:
                    self._mem.execute("BEGIN")
                self._mem.execute(schema[0][0])
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    self._mem.executemany(f"INSERT INTO {_quote(name)} VALUES ({marks})", rows)
                for (sql,) in schema[1:]:
                    self._mem.execute(sql)
                if not outer:
                    self._mem.commit()
        finally:
            if src is not disk:
                src.close()

    def _read_only(self) -> sqlite3.Connection | None:
        """The file opened for reading only (at start-up in a folder that takes no writes)."""
        if not self.path.is_file():
            return None
        uri = "file:" + urllib.parse.quote(str(self.path))
        modes = ["?mode=ro"]
        if not Path(str(self.path) + "-wal").exists():  # the file alone is the whole database
            modes.append("?immutable=1")
        for mode in modes:
            conn = None
            try:
                conn = sqlite3.connect(uri + mode, uri=True, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
        return None

    def recover(self) -> bool:
        """Try to write what is kept in memory to the file and go back to it (True: done, or
        nothing to do)."""
        with self._lock:
            if self._mem is None:
                return True
            try:
                disk = self._open()
            except (OSError, sqlite3.Error):
                return False
            try:
                self._write_back(disk)
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    disk.rollback()
                disk.close()
                if not is_storage_error(exc):
                    log.error("could not write the kept state changes to %s: %s", self.path, exc)
                return False
            changes = len(self._redo)
            self._mem.close()
            self._mem, self._disk, self._redo = None, disk, []
        self._folder.recovered(self, changes)
        return True

    def _write_back(self, disk: sqlite3.Connection) -> None:
        """One transaction: the writes kept in memory, in order; when the file has none of
        this owner's tables yet (a new file), the tables themselves."""
        assert self._mem is not None
        marks = ",".join("?" * len(self._tables))
        (had,) = disk.execute(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",
            self._tables,
        ).fetchone()
        for script, text in self._ddl:
            try:
                (disk.executescript if script else disk.execute)(text)
            except sqlite3.Error as exc:  # e.g. a column added before: already there
                if is_storage_error(exc):
                    raise
        disk.execute("BEGIN IMMEDIATE")
        if had:
            for sql, params in self._redo:
                disk.execute(sql, params)
        else:
            for name in self._tables:
                cols = [r[1] for r in self._mem.execute(f"PRAGMA table_info({_quote(name)})")]
                have = {r[1] for r in disk.execute(f"PRAGMA table_info({_quote(name)})")}
                cols = [c for c in cols if c in have]
                if not cols:
                    continue
                names = ",".join(_quote(c) for c in cols)
                rows = self._mem.execute(f"SELECT {names} FROM {_quote(name)}").fetchall()
                disk.execute(f"DELETE FROM {_quote(name)}")
                disk.executemany(
                    f"INSERT INTO {_quote(name)} ({names}) VALUES ({','.join('?' * len(cols))})",
                    rows,
                )
        disk.commit()
